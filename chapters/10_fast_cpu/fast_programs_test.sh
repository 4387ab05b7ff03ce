#!/bin/bash
# chapters/10_fast_cpu/fast_programs_test.sh — train and generate on chapter 10's device, end to end.
#
# A tiny model on random tokens: train runs on the fast engine (it says so),
# restarts itself once for GOMP_SPINCOUNT (spin_waiting.h) without losing its
# flags, writes a checkpoint that generate (KV cache) continues from, and an
# unknown --device is a usage error (exit 2) that lists the devices.
set -u
train=$1
generate=$2
out="${TEST_TMPDIR:-/tmp}/fast_programs"
fail() { echo "FAIL: $*"; exit 1; }

log=$("$train" --data random --vocab_size 11 --random_tokens 5000 --embed_size 32 --num_layers 1 \
  --heads 2 --block_size 16 --batch_size 4 --max_steps 5 --eval_interval 0 --eval_batches 2 \
  --sample_tokens 20 --out "$out" 2>&1) || fail "train exited $?: $log"
grep -q "device  cpu: CPU, chapter 10's fast engine" <<<"$log" || fail "not on the fast engine: $log"
grep -q "final   step 5" <<<"$log" || fail "did not reach step 5: $log"
[ -s "$out/checkpoint.safetensors" ] || fail "no checkpoint"

text=$("$generate" --checkpoint "$out/checkpoint.safetensors" --prompt "!" --max_new_tokens 300 \
  2>/dev/null) || fail "generate exited $?"
# 300 characters after the prompt: longer than max_length (16), so the cache slid many times.
[ "${#text}" -ge 300 ] || fail "generate wrote ${#text} characters, expected >= 300"

msg=$("$train" --device nope --data random --max_steps 1 --out "$out" 2>&1)
status=$?
[ $status -eq 2 ] || fail "--device nope exited $status, expected 2: $msg"
grep -qF "offers cpu (fp32), cpu-reference (fp32)" <<<"$msg" || fail "message does not list the devices: $msg"
echo "PASS"
