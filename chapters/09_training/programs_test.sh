#!/bin/bash
# chapters/09_training/programs_test.sh — `train` and `generate`, end to end.
#
# Tiny models on tiny data, a few steps each:
#   - bad flags and bad inputs end with exit status 2 and a message naming the
#     problem, never a crash;
#   - a run stopped after 3 steps and resumed to 6 writes the same losses and
#     the same checkpoint as a run of 6 steps (dropout and warmup on, so the
#     random stream and the step counter both have to continue exactly);
#   - metrics.jsonl holds one JSON object per step and per evaluation;
#   - relative paths follow BUILD_WORKING_DIRECTORY, as under `bazel run`;
#   - generate continues a prompt and refuses characters outside the vocabulary.
#
# Arguments: the train binary, the generate binary.
set -uo pipefail
train="$PWD/$1" generate="$PWD/$2"  # absolute: some checks run elsewhere
tmp="$TEST_TMPDIR"
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_error STATUS TEXT COMMAND...: COMMAND exits with STATUS and its stderr contains TEXT.
expect_error() {
  local status="$1" text="$2"
  shift 2
  "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"
  local got=$?
  if [[ $got -ne $status ]]; then
    fail "$* exited with $got, expected $status; stderr: $(cat "$tmp/err.txt")"
  elif ! grep -qF -- "$text" "$tmp/err.txt"; then
    fail "$*: stderr lacks '$text': $(cat "$tmp/err.txt")"
  fi
}

tiny=(--data random --vocab_size 11 --embed_size 16 --num_layers 1 --heads 2 --block_size 8
      --batch_size 2 --random_tokens 5000 --eval_batches 2 --sample_tokens 0)

# ---- help, and bad flags
"$train" --help > "$tmp/help.txt" || fail "train --help exited with $?"
grep -qF "ceil(train_tokens / (batch_size * block_size))" "$tmp/help.txt" ||
  fail "train --help does not define an epoch"
"$generate" --help > /dev/null || fail "generate --help exited with $?"

expect_error 2 "--bogus" "$train" --bogus 1
expect_error 2 "--batch_size" "$train" --batch_size abc
expect_error 2 "--batch_size must be positive" "$train" --batch_size 0
expect_error 2 "heads (3) must divide embed_size (16)" "$train" --embed_size 16 --heads 3
expect_error 2 "--block_size (16) must not exceed --max_length (8)" \
  "$train" --block_size 16 --max_length 8
expect_error 2 "--dropout must be in [0, 1)" "$train" --dropout 1
expect_error 2 "$tmp/no_such_file.txt" "$train" --data "$tmp/no_such_file.txt"
printf 'a short text\n' > "$tmp/short.txt"
expect_error 2 "fewer than one window" "$train" --data "$tmp/short.txt" --block_size 8
expect_error 2 "--resume" "$train" --resume "$tmp/missing.safetensors"
echo "not a checkpoint" > "$tmp/bad.safetensors"
expect_error 2 "bad.safetensors" "$train" --resume "$tmp/bad.safetensors"

# ---- a run of 6 steps, and the same run stopped at 3 and resumed
"$train" "${tiny[@]}" --dropout 0.1 --warmup_steps 2 --eval_interval 2 --max_steps 6 \
  --out "$tmp/whole" > "$tmp/whole.log" || fail "train (6 steps) exited with $?"
"$train" "${tiny[@]}" --dropout 0.1 --warmup_steps 2 --eval_interval 2 --max_steps 3 \
  --out "$tmp/parts" > "$tmp/parts1.log" || fail "train (3 steps) exited with $?"
"$train" --resume "$tmp/parts/checkpoint.safetensors" --max_steps 6 --sample_tokens 0 \
  > "$tmp/parts2.log" || fail "train --resume exited with $?"
grep -qF "at step 3" "$tmp/parts2.log" || fail "the resumed run did not start at step 3"
# The same six losses and the same weights and optimizer moments, bit for bit.
# (This needs the parameter and activation buffers to start on 64-byte
# boundaries — common/aligned_vector.h — or Eigen's vectorised sums would add
# in an order that depends on where malloc put them.)
/usr/bin/python3 -B - "$tmp/whole" "$tmp/parts" <<'EOF' ||
import json, struct, sys
import numpy as np

def losses(run):
    return [json.loads(line)["loss"] for line in open(run + "/metrics.jsonl") if '"loss"' in line]

def tensors(run):
    data = open(run + "/checkpoint.safetensors", "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    return {k: np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4")
            for k, v in header.items()}

whole, parts = sys.argv[1], sys.argv[2]
a, b = np.array(losses(whole)), np.array(losses(parts))
assert len(a) == 6 and len(b) == 6, (a, b)
assert (a == b).all(), f"losses {a} vs {b}"
ta, tb = tensors(whole), tensors(parts)
assert ta.keys() == tb.keys()
for name in ta:
    worst = np.abs(ta[name].astype(np.float64) - tb[name]).max()
    assert worst == 0, f"{name}: max difference {worst:.2e}"
print(f"resumed run = uninterrupted run: losses {b}")
EOF
  fail "the resumed run differs from the uninterrupted run"
[[ $(grep -c '"loss"' "$tmp/whole/metrics.jsonl") -eq 6 ]] || fail "expected 6 step lines"
# Steps 2 and 4 evaluate, and so does the end (step 6).
[[ $(grep -c val_loss "$tmp/whole/metrics.jsonl") -eq 3 ]] || fail "expected 3 val_loss lines"
/usr/bin/python3 -B -c '
import json, sys
for line in open(sys.argv[1]):
    entry = json.loads(line)
    assert "step" in entry and ("val_loss" in entry or {"epoch", "loss", "lr", "grad_norm",
                                                         "tokens_per_s"} <= entry.keys()), line
' "$tmp/whole/metrics.jsonl" || fail "metrics.jsonl is not JSON lines of the documented keys"
expect_error 2 "--embed_size 32 contradicts the checkpoint" \
  "$train" --resume "$tmp/whole/checkpoint.safetensors" --embed_size 32

# ---- relative paths under bazel run; a text file as data
mkdir -p "$tmp/wd"
for i in $(seq 1 60); do echo "line $i: the quick brown fox jumps over the lazy dog"; done \
  > "$tmp/wd/fox.txt"
(cd / && BUILD_WORKING_DIRECTORY="$tmp/wd" "$train" --data fox.txt --embed_size 16 \
  --num_layers 1 --heads 2 --block_size 8 --batch_size 2 --max_steps 4 --eval_batches 2 \
  --sample_tokens 20 --sample_prompt "the " --out rel > "$tmp/fox.log") ||
  fail "train on fox.txt exited with $?"
[[ -f "$tmp/wd/rel/checkpoint.safetensors" && -f "$tmp/wd/rel/metrics.jsonl" ]] ||
  fail "--out rel did not land in BUILD_WORKING_DIRECTORY"
grep -q "^the " "$tmp/fox.log" || fail "train printed no sample after its prompt"

# ---- generate
(cd / && BUILD_WORKING_DIRECTORY="$tmp/wd" "$generate" --checkpoint rel/checkpoint.safetensors \
  --prompt "the fox" --max_new_tokens 25 --top_k 5 > "$tmp/generated.txt" 2> "$tmp/gen_err.txt") ||
  fail "generate exited with $?: $(cat "$tmp/gen_err.txt")"
text="$(cat "$tmp/generated.txt")"
[[ "$text" == "the fox"* ]] || fail "generate's output does not start with the prompt: $text"
# The prompt plus 25 characters (a newline among them is possible: count characters).
chars=$(/usr/bin/python3 -c 'import sys; print(len(open(sys.argv[1], encoding="utf-8").read()))' \
  "$tmp/generated.txt")
[[ $chars -eq 33 ]] || fail "expected 7 + 25 characters and a newline, got $chars"
(cd "$tmp/wd" && "$generate" --checkpoint rel/checkpoint.safetensors --prompt "the fox" \
  --max_new_tokens 25 --top_k 5 2> /dev/null) | cmp -s - "$tmp/generated.txt" ||
  fail "generate with the same seed wrote a different text"
expect_error 2 "U+00E9 'é'" "$generate" --checkpoint "$tmp/wd/rel/checkpoint.safetensors" \
  --prompt "café"
expect_error 2 "--prompt must not be empty" "$generate" --prompt ""
expect_error 2 "--max_new_tokens must be in [0, 100000]" "$generate" --max_new_tokens 100001
expect_error 2 "missing.safetensors" "$generate" --checkpoint "$tmp/missing.safetensors"

if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "PASS: train and generate, end to end"
