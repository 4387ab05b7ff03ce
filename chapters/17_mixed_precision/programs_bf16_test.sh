#!/bin/bash
# chapters/17_mixed_precision/programs_bf16_test.sh — chapter 17's train and generate with --precision bf16.
#
# The programs offer cuda twice, in fp32 and in bf16 (bf16_device.h):
#   - a precision a device lacks is a usage error (exit 2) naming what is offered;
#   - without a GPU, --device cuda --precision bf16 says "no CUDA device";
#   - with one (or on the CPU emulator, with GPT_ALLOW_EMULATOR=1), train runs
#     in bf16, its checkpoint (fp32 master weights) generates in bf16 and in
#     fp32 on the CPU, and training continues from it in fp32.
# Arguments: the train binary, the generate binary.
set -uo pipefail
train="$PWD/$1" generate="$PWD/$2"
tmp="$TEST_TMPDIR"
source common/testing/program_checks.sh  # fail, expect_error, finish

tiny=(--data random --vocab_size 11 --embed_size 32 --num_layers 1 --heads 1 --block_size 8
      --batch_size 2 --random_tokens 5000 --eval_batches 2 --sample_tokens 5 --max_steps 2)

# ---- a precision the device lacks, or no such precision at all
for args in "--device cpu --precision bf16" "--precision fp16"; do
  # shellcheck disable=SC2086
  expect_error 2 "this program offers cpu (fp32), cuda (fp32, bf16), cpu-reference (fp32)" \
    "$train" "${tiny[@]}" $args --out "$tmp/bad"
done

bf16_run() {
  grep -q "^device  cuda: GPU, chapter 14's CudaEngine (products: bf16 tensor cores" \
    "$tmp/bf16.txt" || fail "train --precision bf16: $(cat "$tmp/bf16.txt")"
  local checkpoint="$tmp/bf16/checkpoint.safetensors"
  "$generate" --device cuda --precision bf16 --checkpoint "$checkpoint" --prompt '!"' \
    --max_new_tokens 5 --temperature 0 > "$tmp/bf16.gen" 2> "$tmp/err.txt" ||
    fail "generate --precision bf16 exited with $?: $(cat "$tmp/err.txt")"
  "$generate" --device cpu --checkpoint "$checkpoint" --prompt '!"' --max_new_tokens 5 \
    --temperature 0 > "$tmp/cpu.gen" 2> "$tmp/err.txt" ||
    fail "generate --device cpu from the bf16 run's checkpoint exited with $?: $(cat "$tmp/err.txt")"
  [[ $(wc -c < "$tmp/bf16.gen") -ge 7 ]] || fail "generate --precision bf16 wrote '$(cat "$tmp/bf16.gen")'"
  "$train" --resume "$checkpoint" --max_steps 3 --device cuda > "$tmp/resume.txt" 2>&1 ||
    fail "resuming the bf16 run in fp32 exited with $?: $(cat "$tmp/resume.txt")"
}

"$train" "${tiny[@]}" --device cuda --precision bf16 --out "$tmp/bf16" > "$tmp/bf16.txt" 2> "$tmp/err.txt"
status=$?
if [[ $status -eq 0 ]]; then
  echo "a GPU is present: train --device cuda --precision bf16 ran"
  bf16_run
else
  [[ $status -eq 2 ]] || fail "train --precision bf16 without a GPU exited with $status, expected 2"
  grep -qF -- "--device cuda: no CUDA device: " "$tmp/err.txt" ||
    fail "train --precision bf16: stderr lacks 'no CUDA device': $(cat "$tmp/err.txt")"
  if grep -qF "CPU emulator" "$tmp/err.txt"; then
    echo "CUDA is emulated: the same run with GPT_ALLOW_EMULATOR=1"
    export GPT_ALLOW_EMULATOR=1
    "$train" "${tiny[@]}" --device cuda --precision bf16 --out "$tmp/bf16" > "$tmp/bf16.txt" 2>&1 ||
      fail "GPT_ALLOW_EMULATOR=1 train --precision bf16 exited with $?: $(cat "$tmp/bf16.txt")"
    bf16_run
    unset GPT_ALLOW_EMULATOR
  fi
fi

finish "train and generate with --precision bf16"
