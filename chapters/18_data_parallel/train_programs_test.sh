#!/bin/bash
# chapters/18_data_parallel/train_programs_test.sh — `train` under mpirun, end to end.
#
# A tiny model on random tokens, chapter 09's engine (cpu-reference), with
# dropout: 20 steps on 1 rank; 10 on 2 ranks resumed for 10 on 1; 10 on 1
# resumed for 10 on 2 with ZeRO-1: the three checkpoints agree
# (compare_checkpoints). Rank 0 alone prints; a batch that does not split
# is a usage error; a rank killed ends the job; a rank stopped (a hang) ends
# it too, by the watchdog, with a message naming the collective. And the
# program is chapter 17's (its third argument): the same devices, models and
# tokenizers, named alike in the usage errors.
set -u
train=$1
compare=$2
chapter17_train=$3
tmp="${TEST_TMPDIR:-/tmp}/ch18_programs"
rm -rf "$tmp"
mkdir -p "$tmp"
fail() { echo "FAIL: $*"; exit 1; }
command -v mpirun >/dev/null || fail "no mpirun (bash tools/setup.sh installs openmpi-bin)"
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
export OMP_NUM_THREADS=1
# Under --config=asan: Open MPI keeps its allocations until the process ends,
# which LeakSanitizer would report as leaks of ours (shards_test checks this
# chapter's code for leaks without MPI).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
flags=(--data random --vocab_size 11 --random_tokens 5000 --embed_size 32 --num_layers 2 --heads 2
  --block_size 16 --batch_size 8 --dropout 0.1 --lr 1e-3 --grad_clip 0.5 --eval_interval 0
  --eval_batches 2 --sample_tokens 0 --device cpu-reference)

# Chapter 17's devices, models and tokenizers: the same usage errors, word for word.
printf 'To be, or not to be, that is the question. ' >"$tmp/text.txt"
for wrong in "--device nope" "--model nope" "--tokenizer nope"; do
  # shellcheck disable=SC2086  # "--flag value": two words
  want=$("$chapter17_train" $wrong --data "$tmp/text.txt" --max_steps 1 --out "$tmp/usage" 2>&1) &&
    fail "chapter 17's train $wrong should fail"
  # shellcheck disable=SC2086
  got=$("$train" $wrong --data "$tmp/text.txt" --max_steps 1 --out "$tmp/usage" 2>&1) &&
    fail "train $wrong should fail"
  error=$(grep "error:" <<<"$got")
  if [ -z "$error" ] || [ "$error" != "$(grep "error:" <<<"$want")" ]; then
    fail "train $wrong: '$got', chapter 17's: '$want'"
  fi
done

# One rank, 20 steps, no mpirun.
"$train" "${flags[@]}" --max_steps 20 --out "$tmp/one" >"$tmp/one.log" 2>&1 ||
  fail "1 rank exited $?: $(cat "$tmp/one.log")"
grep -q "1 rank, one process (no MPI)" "$tmp/one.log" || fail "no plan line: $(cat "$tmp/one.log")"

# Two ranks for 10 steps, then one rank for 10 more.
"${mpi[@]}" -np 2 "$train" "${flags[@]}" --max_steps 10 --out "$tmp/two_one" >"$tmp/two.log" 2>&1 ||
  fail "2 ranks exited $?: $(cat "$tmp/two.log")"
[ "$(grep -c '^device  ' "$tmp/two.log")" -eq 1 ] || fail "not rank 0 alone printing: $(cat "$tmp/two.log")"
grep -q "2 ranks over MPI (Open MPI" "$tmp/two.log" || fail "no MPI in the plan: $(cat "$tmp/two.log")"
"$train" "${flags[@]}" --max_steps 20 --resume "$tmp/two_one/checkpoint.safetensors" \
  --out "$tmp/two_one" >"$tmp/two_one.log" 2>&1 || fail "resume on 1 exited $?: $(cat "$tmp/two_one.log")"
"$compare" "$tmp/one/checkpoint.safetensors" "$tmp/two_one/checkpoint.safetensors" ||
  fail "2 ranks then 1 is not 1 rank's run"

# One rank for 10 steps, then two with ZeRO-1 for 10 more.
"$train" "${flags[@]}" --max_steps 10 --out "$tmp/one_two" >/dev/null 2>&1 || fail "1 rank, 10 steps"
"${mpi[@]}" -np 2 "$train" "${flags[@]}" --zero1 --max_steps 20 \
  --resume "$tmp/one_two/checkpoint.safetensors" --out "$tmp/one_two" >"$tmp/one_two.log" 2>&1 ||
  fail "resume on 2 (ZeRO-1) exited $?: $(cat "$tmp/one_two.log")"
grep -q "ZeRO-1" "$tmp/one_two.log" || fail "not ZeRO-1: $(cat "$tmp/one_two.log")"
"$compare" "$tmp/one/checkpoint.safetensors" "$tmp/one_two/checkpoint.safetensors" ||
  fail "1 rank then 2 (ZeRO-1) is not 1 rank's run"
for log in two_one one_two; do
  a=$(grep -o "validation loss [0-9.]*" "$tmp/one.log" | tail -1)
  b=$(grep -o "validation loss [0-9.]*" "$tmp/$log.log" | tail -1)
  [ "$a" = "$b" ] || fail "$log: final $b, one rank's $a"
done

# A batch that does not split over the ranks: a usage error.
msg=$("${mpi[@]}" -np 3 "$train" "${flags[@]}" --max_steps 1 --out "$tmp/odd" 2>&1)
[ $? -ne 0 ] || fail "batch 8 over 3 ranks should fail"
grep -q "does not split over 3 ranks" <<<"$msg" || fail "no clear message: $msg"

# A rank that dies, and one that hangs: the job ends, with a message.
long=("${flags[@]}" --max_steps 100000 --collective_timeout 3)
ranks_of() { pgrep -P "$1" -f "$train" | sort -n; }
for fate in KILL STOP; do
  start=$SECONDS
  "${mpi[@]}" -np 2 "$train" "${long[@]}" --out "$tmp/$fate" >"$tmp/$fate.log" 2>&1 &
  job=$!
  for _ in $(seq 100); do
    [ "$(ranks_of $job | wc -l)" -ge 2 ] && grep -q "^device" "$tmp/$fate.log" && break
    sleep 0.2
  done
  sleep 1
  victim=$(ranks_of $job | tail -1)
  [ -n "$victim" ] || fail "$fate: no rank to signal: $(cat "$tmp/$fate.log")"
  kill -"$fate" "$victim"
  for _ in $(seq 300); do kill -0 $job 2>/dev/null || break; sleep 0.1; done
  if kill -0 $job 2>/dev/null; then
    kill -KILL $job "$victim" 2>/dev/null
    fail "SIG$fate to a rank: the job still runs after $((SECONDS - start)) s"
  fi
  wait $job && fail "SIG$fate to a rank: the job exited 0"
  kill -KILL "$victim" 2>/dev/null
  if [ "$fate" = STOP ]; then
    grep -q "has waited [0-9]* s for the other ranks" "$tmp/$fate.log" ||
      fail "a hang without the watchdog's message: $(cat "$tmp/$fate.log")"
  fi
  echo "SIG$fate to rank: the job ended in $((SECONDS - start)) s"
done
echo "PASS"
