#!/bin/bash
# chapters/16_gpt2/gpt2_programs_test.sh — GPT-2's weights through every program, against PyTorch.
#
# No published weights can be downloaded here, so the test makes its own in
# the published layout: gpt2_reference.py writes random weights at test time,
# every tensor of the real file, the causal-mask buffers included. With
# SIZE = 124m they are GPT-2 124M's (12 blocks, C = 768, V = 50,257,
# P = 1,024); with SIZE = small, a GPT-2-shaped model of 2 blocks and C = 32
# with GPT-2's vocabulary and a 64-token context, which takes every step
# below in seconds (under AddressSanitizer too). Then:
#   1. model_logits reads the file like the programs do and runs chapter 07's
#      forward pass; PyTorch's GPT-2 (tests/reference/gpt2.py) must give the
#      same logits within 1e-4;
#   2. export: a BF16 tiny model → convert → our checkpoint → convert → a
#      model directory PyTorch loads, with our logits again;
#   3. evaluate scores Austen with the file (a random model: loss about ln V);
#   4. fine-tuning: train --init the file (--model gpt2 too for 124M)
#      --tokenizer gpt2 --data austen takes two steps (B = 1, T = 32), saves,
#      samples; generate continues a prompt from the new checkpoint and from
#      the file itself;
#   5. mistakes exit 2 with a message: --init with another --model or size,
#      another tokenizer, a file that is not a model, --init with --resume, a
#      window longer than the model's context.
#
# Arguments: SIZE (small or 124m), then train, generate, evaluate, convert,
# model_logits, gpt2_reference.py.
set -uo pipefail
size="$1"
train="$PWD/$2" generate="$PWD/$3" evaluate="$PWD/$4" convert="$PWD/$5" model_logits="$PWD/$6"
reference="$PWD/$7"
tmp="$TEST_TMPDIR"
source common/testing/program_checks.sh
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 HOME="$tmp"
python=(/usr/bin/python3 -B "$reference")

# ---- 1. Random weights in the published layout, read as the programs read them.
if [[ $size == 124m ]]; then
  shape=(--preset gpt2) context=1024
  expected_model="L=12 H=12 C=768 V=50257 P=1024, 124439808 parameters"
  model_line="V=50257 C=768 L=12 H=12 F=3072 P=1024"
else
  shape=(--shape 2,2,32,50257,64 --perturb) context=64
  expected_model="L=2 H=2 C=32 V=50257 P=64"
  model_line="V=50257 C=32 L=2 H=2 F=128 P=64"
fi
"${python[@]}" random "${shape[@]}" --mask_buffers --seed 1 --out "$tmp/gpt2" > "$tmp/random.log" 2>&1 ||
  fail "gpt2_reference.py random: $(tail -n 3 "$tmp/random.log")"
ids=(464 3290 318 257 3797 13 50256 0 11)
"$model_logits" "$tmp/gpt2/model.safetensors" "$tmp/logits_file.safetensors" "${ids[@]}" \
  > "$tmp/logits_file.log" 2>&1 || fail "model_logits: $(cat "$tmp/logits_file.log")"
grep -qF "$expected_model" "$tmp/logits_file.log" ||
  fail "the file did not read as the model written: $(cat "$tmp/logits_file.log")"
"${python[@]}" compare --model "$tmp/gpt2" --ids "$(IFS=,; echo "${ids[*]}")" \
  --logits "$tmp/logits_file.safetensors" --tolerance 1e-4 > "$tmp/compare_file.log" 2>&1 ||
  fail "our logits differ from PyTorch's: $(cat "$tmp/compare_file.log")"
cat "$tmp/compare_file.log"

# ---- 2. Export: GPT-2's layout → checkpoint → GPT-2's layout → PyTorch.
"${python[@]}" random --shape 2,2,32,101,24 --dtype BF16 --prefix transformer. --lm_head \
  --perturb --seed 3 --out "$tmp/tiny" > /dev/null 2>&1 || fail "random tiny"
"$convert" --from "$tmp/tiny/model.safetensors" --to "$tmp/tiny.ckpt.safetensors" > /dev/null ||
  fail "convert to a checkpoint"
"$convert" --from "$tmp/tiny.ckpt.safetensors" --to "$tmp/exported" > /dev/null ||
  fail "convert back to GPT-2's layout"
[[ -f "$tmp/exported/model.safetensors" && -f "$tmp/exported/config.json" ]] ||
  fail "convert wrote no model.safetensors and config.json"
"$model_logits" "$tmp/tiny.ckpt.safetensors" "$tmp/tiny_logits.safetensors" 5 17 99 3 3 42 \
  > /dev/null || fail "model_logits on the checkpoint"
"${python[@]}" compare --model "$tmp/exported" --ids 5,17,99,3,3,42 \
  --logits "$tmp/tiny_logits.safetensors" --tolerance 1e-4 > "$tmp/compare_export.log" 2>&1 ||
  fail "PyTorch on the exported model disagrees with our checkpoint: $(cat "$tmp/compare_export.log")"
cat "$tmp/compare_export.log"
# ...and the comparison can fail: the tiny model's logits are not the other's.
"${python[@]}" compare --model "$tmp/tiny" --ids 5,17,99,3,3,42 \
  --logits "$tmp/logits_file.safetensors" --tolerance 1e-4 > /dev/null 2>&1 &&
  fail "gpt2_reference.py compare accepted another model's logits"

# ---- 3. evaluate: a random GPT-2 scores about ln 50257 = 10.8 nats per token.
# (That is 124M's; the small model's random biases and LayerNorms make it a
# little less uniform, so the bound below is loose.)
"$evaluate" --checkpoint "$tmp/gpt2/model.safetensors" --data austen --block_size 32 \
  --max_tokens 64 --json > "$tmp/eval.json" 2> "$tmp/eval_err.txt" ||
  fail "evaluate exited with $?: $(cat "$tmp/eval_err.txt")"
/usr/bin/python3 - "$tmp/eval.json" <<'PYTHON' || fail "evaluate's result: $(cat "$tmp/eval.json")"
import json, math, sys
r = json.load(open(sys.argv[1]))
assert r["tokens"] == 64, r
assert abs(r["loss"] - math.log(50257)) < 2.0, r
assert abs(r["perplexity"] - math.exp(r["loss"])) < 1e-3 * r["perplexity"], r
assert 0 < r["bits_per_byte"] < 10, r
PYTHON

# ---- 4. Fine-tuning from the imported file, then generating.
model_flag=()
[[ $size == 124m ]] && model_flag=(--model gpt2)  # the file's shape must be that preset's
"$train" --init "$tmp/gpt2/model.safetensors" "${model_flag[@]}" --tokenizer gpt2 --data austen \
  --batch_size 1 --block_size 32 --max_steps 2 --eval_interval 0 --eval_batches 1 \
  --sample_tokens 4 --lr 1e-4 --out "$tmp/tuned" > "$tmp/tune.log" 2> "$tmp/tune_err.txt" ||
  fail "train --init exited with $?: $(cat "$tmp/tune_err.txt")"
grep -qF "init    $tmp/gpt2/model.safetensors" "$tmp/tune.log" || fail "no init line: $(head "$tmp/tune.log")"
grep -qF "$model_line" "$tmp/tune.log" ||
  fail "the fine-tuned model is not the file's: $(grep model "$tmp/tune.log")"
grep -qF "sample  (4 tokens after the prompt)" "$tmp/tune.log" || fail "no sample after fine-tuning"
tuned="$tmp/tuned/checkpoint.safetensors"
[[ $(metadata "$tuned" step) == 2 ]] || fail "the fine-tuned checkpoint is at step $(metadata "$tuned" step)"
[[ $(metadata "$tuned" tokenizer) == gpt2 ]] || fail "the fine-tuned checkpoint's tokenizer is not gpt2"
for model in "$tuned" "$tmp/gpt2/model.safetensors"; do
  "$generate" --checkpoint "$model" --tokenizer gpt2 --prompt "It is a truth" --max_new_tokens 3 \
    > "$tmp/generated.txt" 2> "$tmp/gen_err.txt" ||
    fail "generate --checkpoint $model exited with $?: $(cat "$tmp/gen_err.txt")"
  [[ $(cat "$tmp/generated.txt") == "It is a truth"?* ]] ||
    fail "generate from $model wrote: $(cat "$tmp/generated.txt")"
done

# ---- 5. Mistakes.
expect_error 2 "contradicts --init" \
  "$train" --init "$tmp/tiny/model.safetensors" --embed_size 64 --data austen --out "$tmp/x"
expect_error 2 "holds a model of another shape than --model gpt2" \
  "$train" --init "$tmp/tiny/model.safetensors" --model gpt2 --data austen --out "$tmp/x"
expect_error 2 "has 50257 tokens but its model's vocab_size is 101" \
  "$train" --init "$tmp/tiny/model.safetensors" --block_size 16 --data austen --out "$tmp/x"
expect_error 2 "--tokenizer char" \
  "$train" --init "$tmp/gpt2/model.safetensors" --tokenizer char --data austen --out "$tmp/x"
expect_error 2 "give one of them" \
  "$train" --init "$tmp/gpt2/model.safetensors" --resume "$tuned" --out "$tmp/x"
echo "not a model" > "$tmp/notes.txt"
expect_error 2 "--init: safetensors file" \
  "$train" --init "$tmp/notes.txt" --data austen --out "$tmp/x"
expect_error 2 "--checkpoint: safetensors file" \
  "$generate" --checkpoint "$tmp/notes.txt" --prompt "x"
expect_error 2 "exceeds the model's context of $context tokens" \
  "$evaluate" --checkpoint "$tmp/gpt2/model.safetensors" --block_size $((context + 1)) --data austen

finish
