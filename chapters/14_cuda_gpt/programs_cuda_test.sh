#!/bin/bash
# chapters/14_cuda_gpt/programs_cuda_test.sh — chapter 14's train and generate, end to end.
#
# The programs are chapter 09's, offered two devices: cpu (the default) and
# cuda. Runs on any machine:
#   - without a GPU, --device cuda is a clear error — train exits 2, generate
#     exits 1, both saying "no CUDA device: " and the runtime's reason;
#   - with one, the same commands train and generate, and a checkpoint
#     trained on the GPU continues on the CPU;
#   - on the CPU emulator (CUDA emulated, the build without a GPU), the error,
#     then with GPT_ALLOW_EMULATOR=1 the GPU's run;
#   - the default device is cpu, and an unknown device names the choices.
# Arguments: the train binary, the generate binary.
set -uo pipefail
train="$PWD/$1" generate="$PWD/$2"
tmp="$TEST_TMPDIR"
failures=0

fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

tiny=(--data random --vocab_size 11 --embed_size 32 --num_layers 1 --heads 1 --block_size 8
      --batch_size 2 --random_tokens 5000 --eval_batches 2 --sample_tokens 5 --max_steps 2)

# ---- the default device is the CPU
"$train" "${tiny[@]}" --out "$tmp/cpu" > "$tmp/cpu.txt" 2>&1 || fail "train (cpu) exited with $?"
grep -q "^device  cpu: " "$tmp/cpu.txt" ||
  fail "train's default device is not cpu: $(cat "$tmp/cpu.txt")"

# ---- an unknown device names the choices
"$train" "${tiny[@]}" --device tpu --out "$tmp/tpu" > /dev/null 2> "$tmp/err.txt"
status=$?
[[ $status -eq 2 ]] || fail "train --device tpu exited with $status, expected 2"
grep -qF "offers cpu (fp32), cuda (fp32)" "$tmp/err.txt" || fail "train --device tpu: $(cat "$tmp/err.txt")"

# A GPU run: train on the device, then greedy generation (within the context:
# 2 + 5 <= 8 tokens) gives the same text on both devices from that checkpoint.
check_gpu_run() {
  grep -q "^device  cuda: GPU" "$tmp/gpu.txt" || fail "train --device cuda: $(cat "$tmp/gpu.txt")"
  for device in cpu cuda; do
    "$generate" --device $device --checkpoint "$tmp/gpu/checkpoint.safetensors" --prompt '!"' \
      --max_new_tokens 5 --temperature 0 > "$tmp/$device.gen" 2> "$tmp/err.txt" ||
      fail "generate --device $device exited with $?: $(cat "$tmp/err.txt")"
  done
  cmp -s "$tmp/cpu.gen" "$tmp/cuda.gen" ||
    fail "greedy generation differs: cpu '$(cat "$tmp/cpu.gen")', cuda '$(cat "$tmp/cuda.gen")'"
}

# ---- --device cuda: a run with a GPU, a clear error without one
"$train" "${tiny[@]}" --device cuda --out "$tmp/gpu" > "$tmp/gpu.txt" 2> "$tmp/err.txt"
status=$?
if [[ $status -eq 0 ]]; then
  echo "a GPU is present: train --device cuda ran"
  check_gpu_run
else
  echo "no GPU: checking the errors"
  [[ $status -eq 2 ]] || fail "train --device cuda exited with $status, expected 2"
  grep -qF -- "--device cuda: no CUDA device: " "$tmp/err.txt" ||
    fail "train --device cuda: stderr lacks 'no CUDA device': $(cat "$tmp/err.txt")"
  "$generate" --device cuda --checkpoint "$tmp/cpu/checkpoint.safetensors" --prompt '!"' \
    --max_new_tokens 5 > /dev/null 2> "$tmp/err.txt"
  status=$?
  [[ $status -eq 1 ]] || fail "generate --device cuda exited with $status, expected 1"
  grep -qF "no CUDA device: " "$tmp/err.txt" ||
    fail "generate --device cuda: stderr lacks 'no CUDA device': $(cat "$tmp/err.txt")"
  # On the CPU emulator (no GPU here) the programs refuse, and run when allowed.
  if grep -qF "CPU emulator" "$tmp/err.txt"; then
    echo "CUDA is emulated: the same run with GPT_ALLOW_EMULATOR=1"
    export GPT_ALLOW_EMULATOR=1
    "$train" "${tiny[@]}" --device cuda --out "$tmp/gpu" > "$tmp/gpu.txt" 2> "$tmp/err.txt" ||
      fail "GPT_ALLOW_EMULATOR=1 train --device cuda exited with $?: $(cat "$tmp/err.txt")"
    check_gpu_run
    unset GPT_ALLOW_EMULATOR
  fi
fi

if [[ $failures -gt 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
