#!/bin/bash
# chapters/15_bpe/tokenize_test.sh — the tokenize program, end to end.
#
#   - every case of tests/references/15_bpe/gpt2_cases.json: `encode` gives
#     exactly the reference ids (--special allowed for the "allowed" cases,
#     --special text for the "refused" ones, where <|endoftext|> is ordinary
#     text), and `decode` of the reference ids gives exactly the text back;
#   - `learn` on a small text writes a BPE file that `--tokenizer FILE` loads:
#     encode then decode gives the text back, byte for byte;
#   - bad input exits with status 2 and says what is wrong on stderr: an
#     unknown or damaged --tokenizer file, a decode id out of range or not a
#     number, <|endoftext|> under --special refused, --vocab_size 10, a
#     missing --data file.
# The text goes to encode on stdin exactly as it is: no newline is added.
#
# Arguments: the tokenize binary, gpt2_cases.json.
set -uo pipefail
tokenize="$PWD/$1" cases="$2"
tmp="$TEST_TMPDIR"
PROGRAM_CHECKS_VERBOSE=1  # print each refused input's message
source common/testing/program_checks.sh

# ---- GPT-2's reference cases, every one
/usr/bin/python3 -B - "$tokenize" "$cases" <<'EOF' || failures=$((failures + 1))
import json, subprocess, sys

tokenize, cases_path = sys.argv[1], sys.argv[2]
with open(cases_path, encoding="utf-8") as f:
    cases = json.load(f)["cases"]
if len(cases) < 30:
    sys.exit(f"FAIL: only {len(cases)} cases in {cases_path}")
failures = 0
for case in cases:
    name, text, ids = case["name"], case["text"].encode("utf-8"), case["ids"]
    special = {"allowed": "allowed", "refused": "text"}[case["special"]]
    encoded = subprocess.run([tokenize, "--special", special, "encode"], input=text,
                             capture_output=True)
    expected = " ".join(map(str, ids)) + "\n"
    if encoded.returncode != 0 or encoded.stdout.decode() != expected:
        failures += 1
        print(f"FAIL: {name}: encode --special {special} of {text!r} exited "
              f"{encoded.returncode} with {encoded.stdout.decode()!r}, expected {expected!r}; "
              f"stderr: {encoded.stderr.decode()}")
    decoded = subprocess.run([tokenize, "decode"], input=expected.encode(), capture_output=True)
    if decoded.returncode != 0 or decoded.stdout != text:
        failures += 1
        print(f"FAIL: {name}: decode of {ids} exited {decoded.returncode} with "
              f"{decoded.stdout!r}, expected {text!r}; stderr: {decoded.stderr.decode()}")
print(f"{len(cases) - failures} of {len(cases)} reference cases: encode and decode exact")
sys.exit(1 if failures else 0)
EOF

# ---- learn, then --tokenizer FILE: a round trip
/usr/bin/python3 -c '
import sys
words = ["the", "then", "there", "other", "mother", "brother", "weather", "whether",
         "café", "naïve", "日本語", "👍🏽"]
text = " ".join(words[(i * 7) % len(words)] for i in range(3000))
sys.stdout.write("It is a truth universally acknowledged,\r\n\t" + text + ".")' > "$tmp/small.txt"
if "$tokenize" learn --data "$tmp/small.txt" --vocab_size 300 --show 3 --out "$tmp/small.bpe" \
    > "$tmp/learn.txt" 2> "$tmp/learn_err.txt"; then
  head -n 1 "$tmp/small.bpe" | grep -qxF "#gpt-from-scratch byte-level BPE 1" ||
    fail "small.bpe does not start with the magic line: $(head -n 1 "$tmp/small.bpe")"
  merges=$(grep -vc '^#' "$tmp/small.bpe")  # 44, or fewer if no pair occurs twice before
  [[ $merges -gt 0 && $merges -le 44 ]] || fail "small.bpe has $merges merges, expected 1 to 300 - 256"
  grep -qF "wrote $tmp/small.bpe" "$tmp/learn.txt" || fail "learn did not say it wrote the file"
  # The learned text, and one it never saw (other bytes, <|endoftext|>, not UTF-8).
  printf 'Other words: zebra \xff\xfe <|endoftext|> caf\xc3\xa9\n\n  end' > "$tmp/other.txt"
  for text in small other; do
    if ! "$tokenize" --tokenizer "$tmp/small.bpe" encode < "$tmp/$text.txt" > "$tmp/$text.ids"; then
      fail "--tokenizer small.bpe encode $text.txt exited $?"
      continue
    fi
    bytes=$(wc -c < "$tmp/$text.txt")
    ids=$(wc -w < "$tmp/$text.ids")
    max=$(tr ' ' '\n' < "$tmp/$text.ids" | sort -n | tail -n 1)
    [[ -z "$max" || $max -lt 300 ]] || fail "$text.txt: id $max is outside the vocabulary of 300"
    "$tokenize" --tokenizer "$tmp/small.bpe" decode < "$tmp/$text.ids" > "$tmp/$text.decoded" ||
      fail "--tokenizer small.bpe decode of $text.ids exited $?"
    cmp -s "$tmp/$text.txt" "$tmp/$text.decoded" ||
      fail "$text.txt: encode then decode with small.bpe changed the bytes"
    echo "ok: $text.txt, $bytes bytes → $ids ids with small.bpe, decoded back exactly"
  done
  ids=$(wc -w < "$tmp/small.ids")
  [[ $ids -lt $(($(wc -c < "$tmp/small.txt") / 3)) ]] ||
    fail "small.bpe encodes the text it learned from in $ids ids: its merges did not help"
else
  fail "learn exited with $?: $(cat "$tmp/learn_err.txt")"
fi

# ---- bad input: exit 2, a message on stderr
expect_error 2 "--tokenizer: cannot open '$tmp/no_such.bpe' (use gpt2, or a file written by \`learn\`)" \
  "$tokenize" --tokenizer "$tmp/no_such.bpe" encode < /dev/null
expect_error 2 "--tokenizer: $tmp/small.txt: not a BPE file written by learn_bpe" \
  "$tokenize" --tokenizer "$tmp/small.txt" encode < /dev/null
printf '#gpt-from-scratch byte-level BPE 1\nĠ t\nĠt he\n' > "$tmp/bad.bpe"
expect_error 2 "--tokenizer: $tmp/bad.bpe: line 3: 'he' is not a token yet" \
  "$tokenize" --tokenizer "$tmp/bad.bpe" encode < /dev/null
expect_error 2 "decode: id 50257 (token 2) is outside the vocabulary [0, 50257)" \
  "$tokenize" decode <<< "15496 995 50257"
expect_error 2 "decode: id -1 (token 0) is outside the vocabulary [0, 50257)" \
  "$tokenize" decode <<< "-1"
expect_error 2 "decode: 'hello' (token 1) is not an id" "$tokenize" decode <<< "15496 hello 995"
expect_error 2 "decode: '12x' (token 0) is not an id" "$tokenize" decode <<< "12x"
expect_error 2 "decode: id 300 (token 0) is outside the vocabulary [0, 300)" \
  "$tokenize" --tokenizer "$tmp/small.bpe" decode <<< "300"
printf 'Hello<|endoftext|>World' > "$tmp/special.txt"
expect_error 2 "encode: the text holds the special token <|endoftext|> at byte 5" \
  "$tokenize" --special refused encode < "$tmp/special.txt"
expect_error 2 "(--special allowed|text)" "$tokenize" encode < "$tmp/special.txt"  # the default
expect_error 2 "--special: maybe not in {refused,allowed,text}" "$tokenize" --special maybe encode < "$tmp/special.txt"
expect_error 2 "--vocab_size: a byte-level BPE has between 256 and 1,000,000 tokens, not 10" \
  "$tokenize" learn --data "$tmp/small.txt" --vocab_size 10 --out "$tmp/never.bpe"
[[ ! -e "$tmp/never.bpe" ]] || fail "learn --vocab_size 10 wrote a file"
expect_error 2 "--data $tmp/missing.txt: cannot open corpus file '$tmp/missing.txt'" \
  "$tokenize" count --data "$tmp/missing.txt"
expect_error 2 "--data $tmp/missing.txt" \
  "$tokenize" learn --data "$tmp/missing.txt" --out "$tmp/never.bpe"

# A learned BPE has no special tokens: <|endoftext|> is text, even under refused.
if "$tokenize" --tokenizer "$tmp/small.bpe" --special refused encode < "$tmp/special.txt" \
    > "$tmp/special.ids" 2> "$tmp/err.txt"; then
  "$tokenize" --tokenizer "$tmp/small.bpe" decode < "$tmp/special.ids" | cmp -s - "$tmp/special.txt" ||
    fail "small.bpe: <|endoftext|> as text does not decode back"
else
  fail "small.bpe refused <|endoftext|>, which is not one of its tokens: $(cat "$tmp/err.txt")"
fi

finish "tokenize, end to end"
