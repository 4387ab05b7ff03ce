#!/bin/bash
# chapters/15_bpe/programs_bpe_test.sh — `train` and `generate` on BPE tokens, end to end.
#
# A tiny model (one layer, C = 32) for three steps each:
#   - --tokenizer gpt2 on austen: V = 50,257, the data is Austen's 993,328
#     GPT-2 tokens, and the checkpoint records the tokenizer ("gpt2" and a
#     fingerprint of the vocabulary);
#   - a BPE learned by `tokenize learn` (300 tokens): the checkpoint holds the
#     file's text, so generate works after the file is gone;
#   - generate restores each checkpoint's tokenizer by itself, and refuses a
#     record that does not fit: another GPT-2 vocabulary, a BPE of another size;
#   - --resume or generate with another --tokenizer than the checkpoint's, a
#     missing or malformed BPE file, and gpt2 with --data random exit 2 with a
#     message naming the problem.
#
# Arguments: the train binary, the generate binary, the tokenize binary.
set -uo pipefail
train="$PWD/$1" generate="$PWD/$2" tokenize="$PWD/$3"
tmp="$TEST_TMPDIR"
source common/testing/program_checks.sh

tiny=(--embed_size 32 --num_layers 1 --heads 2 --block_size 16 --batch_size 4 --max_steps 3
      --eval_interval 0 --save_interval 0 --eval_batches 2 --sample_tokens 10)

# ---- GPT-2's tokenizer
"$train" "${tiny[@]}" --tokenizer gpt2 --data austen --out "$tmp/gpt2" > "$tmp/gpt2.log" \
  2> "$tmp/gpt2_err.txt" || fail "train --tokenizer gpt2 exited with $?: $(cat "$tmp/gpt2_err.txt")"
grep -qF "993,328 tokens (gpt2: GPT-2's byte-level BPE, 50,257 tokens)" "$tmp/gpt2.log" ||
  fail "train did not encode austen into GPT-2's 993,328 tokens: $(head -n 2 "$tmp/gpt2.log")"
grep -qF "V=50257 " "$tmp/gpt2.log" || fail "the gpt2 model's vocabulary is not 50,257"
grep -qF "sample  (10 tokens after the prompt)" "$tmp/gpt2.log" || fail "no sample of 10 tokens"
gpt2_ckpt="$tmp/gpt2/checkpoint.safetensors"
[[ $(metadata "$gpt2_ckpt" tokenizer) == gpt2 ]] || fail "the checkpoint does not record gpt2"
[[ $(metadata "$gpt2_ckpt" vocabulary) == "gpt2: 50257 tokens, 50000 merges, fnv1a64 "* ]] ||
  fail "the gpt2 record is $(metadata "$gpt2_ckpt" vocabulary)"

"$generate" --checkpoint "$gpt2_ckpt" --prompt "It is a truth" --max_new_tokens 10 \
  > "$tmp/gpt2_generated.txt" 2> "$tmp/gen_err.txt" ||
  fail "generate from the gpt2 checkpoint exited with $?: $(cat "$tmp/gen_err.txt")"
[[ $(cat "$tmp/gpt2_generated.txt") == "It is a truth"?* ]] ||
  fail "generate (gpt2) wrote nothing after the prompt: $(cat "$tmp/gpt2_generated.txt")"
grep -qF "[10 tokens in" "$tmp/gen_err.txt" || fail "generate does not count tokens: $(cat "$tmp/gen_err.txt")"
"$generate" --checkpoint "$gpt2_ckpt" --tokenizer gpt2 --max_new_tokens 2 > /dev/null 2>&1 ||
  fail "generate --tokenizer gpt2 refused the gpt2 checkpoint"
expect_error 2 "--tokenizer char differs from the tokenizer of the checkpoint '$gpt2_ckpt', gpt2: GPT-2's byte-level BPE" \
  "$generate" --checkpoint "$gpt2_ckpt" --tokenizer char

# ---- a learned BPE, from a small text
for i in $(seq 1 300); do echo "line $i: the quick brown fox jumps over the lazy dog"; done \
  > "$tmp/fox.txt"
"$tokenize" learn --data "$tmp/fox.txt" --vocab_size 300 --out "$tmp/fox300.bpe" --show 0 \
  > /dev/null 2> "$tmp/learn_err.txt" || fail "tokenize learn exited with $?: $(cat "$tmp/learn_err.txt")"
"$tokenize" learn --data "$tmp/fox.txt" --vocab_size 280 --out "$tmp/fox280.bpe" --show 0 \
  > /dev/null 2>&1 || fail "tokenize learn (280) exited with $?"
"$train" "${tiny[@]}" --tokenizer "$tmp/fox300.bpe" --data "$tmp/fox.txt" --out "$tmp/bpe" \
  > "$tmp/bpe.log" 2> "$tmp/bpe_err.txt" ||
  fail "train --tokenizer FILE exited with $?: $(cat "$tmp/bpe_err.txt")"
grep -qF "V=300 " "$tmp/bpe.log" || fail "the learned BPE model's vocabulary is not 300"
grep -qF "tokens (bpe: a learned BPE of 300 tokens (learned from $tmp/fox.txt: 300 tokens))" \
  "$tmp/bpe.log" || fail "the data line does not name the learned BPE: $(head -n 1 "$tmp/bpe.log")"
bpe_ckpt="$tmp/bpe/checkpoint.safetensors"
[[ $(metadata "$bpe_ckpt" tokenizer) == bpe ]] || fail "the checkpoint does not record bpe"
metadata "$bpe_ckpt" vocabulary | cmp -s - "$tmp/fox300.bpe" ||
  fail "the checkpoint's record is not the BPE file's text"

# Resuming with the same file continues; with another file, gpt2 or char, it stops.
"$train" --resume "$bpe_ckpt" --tokenizer "$tmp/fox300.bpe" --max_steps 4 --sample_tokens 0 \
  > "$tmp/resumed.log" 2> "$tmp/resumed_err.txt" ||
  fail "train --resume with the same BPE file exited with $?: $(cat "$tmp/resumed_err.txt")"
grep -qF "at step 3" "$tmp/resumed.log" || fail "the resumed run did not start at step 3"
expect_error 2 "--tokenizer gpt2 differs from the tokenizer of the checkpoint '$bpe_ckpt', bpe: a learned BPE of 300 tokens" \
  "$train" --resume "$bpe_ckpt" --tokenizer gpt2 --max_steps 5
expect_error 2 "--tokenizer $tmp/fox280.bpe differs from the tokenizer of the checkpoint '$bpe_ckpt'" \
  "$train" --resume "$bpe_ckpt" --tokenizer "$tmp/fox280.bpe" --max_steps 5
expect_error 2 "--tokenizer char differs from the tokenizer of the checkpoint '$gpt2_ckpt', gpt2" \
  "$train" --resume "$gpt2_ckpt" --tokenizer char --max_steps 4

# generate needs no file: the checkpoint holds it.
mv "$tmp/fox300.bpe" "$tmp/fox300.moved"
"$generate" --checkpoint "$bpe_ckpt" --prompt "the quick" --max_new_tokens 10 \
  > "$tmp/bpe_generated.txt" 2> "$tmp/gen_err.txt" ||
  fail "generate from the bpe checkpoint exited with $?: $(cat "$tmp/gen_err.txt")"
[[ $(cat "$tmp/bpe_generated.txt") == "the quick"?* ]] ||
  fail "generate (bpe) wrote nothing after the prompt: $(cat "$tmp/bpe_generated.txt")"

# A record that does not fit the model, or this build: refused, naming the problem.
with_metadata "$bpe_ckpt" "$tmp/bpe280.safetensors" vocabulary "$(cat "$tmp/fox280.bpe")"
expect_error 2 "its tokenizer (bpe: a learned BPE of 280 tokens (learned from $tmp/fox.txt: 280 tokens)) has 280 tokens but its model's vocab_size is 300" \
  "$generate" --checkpoint "$tmp/bpe280.safetensors"
with_metadata "$gpt2_ckpt" "$tmp/other_gpt2.safetensors" vocabulary "gpt2: 50257 tokens, 50000 merges, fnv1a64 0000000000000000"
expect_error 2 "it was trained with a GPT-2 vocabulary ('gpt2: 50257 tokens, 50000 merges, fnv1a64 0000000000000000') other than this build's" \
  "$generate" --checkpoint "$tmp/other_gpt2.safetensors"
with_metadata "$bpe_ckpt" "$tmp/unknown.safetensors" tokenizer sentencepiece
expect_error 2 "its tokenizer is 'sentencepiece', which this program does not know" \
  "$generate" --checkpoint "$tmp/unknown.safetensors"

# ---- missing, malformed and misplaced tokenizers
expect_error 2 "--tokenizer $tmp/fox300.bpe: cannot open '$tmp/fox300.bpe'" \
  "$train" "${tiny[@]}" --tokenizer "$tmp/fox300.bpe" --data "$tmp/fox.txt" --out "$tmp/none"
expect_error 2 "not a BPE file written by learn_bpe" \
  "$train" "${tiny[@]}" --tokenizer "$tmp/fox.txt" --data "$tmp/fox.txt" --out "$tmp/none"
expect_error 2 "--tokenizer gpt2 does not apply to --data random" \
  "$train" "${tiny[@]}" --tokenizer gpt2 --data random --out "$tmp/none"
[[ ! -e "$tmp/none" ]] || fail "a refused run created its --out directory"

finish "train and generate with gpt2 and a learned BPE"
