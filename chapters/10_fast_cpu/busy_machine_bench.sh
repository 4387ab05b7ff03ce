#!/bin/bash
# chapters/10_fast_cpu/busy_machine_bench.sh — chapter 10's engine on a machine that is not idle.
#
#   bazel run //chapters/10_fast_cpu:busy_machine_bench [-- --quick] [-- --out FILE]
#   bazel run //chapters/10_fast_cpu:busy_machine_bench -- --out chapters/10_fast_cpu/results/busy_machine_avx512.md
#
# A learner's machine is seldom idle: a browser, an editor, a build. This
# benchmark times chapter 10's training step and its batch-1 generation
# (throughput, seed configuration) on an idle machine, then again beside a CPU
# hog (one process that never sleeps, as busy as one core), and prints the
# share of the idle speed each keeps. Four ways to run:
#   adaptive  what train and generate do: spin a while at a barrier, then
#             sleep (spin_waiting.h), and run only as many threads as other
#             processes leave cores free (free_cores.h);
#   sleeping  the same threads, but sleeping at once (OMP_WAIT_POLICY=passive);
#   fixed     the programs' waiting, but every core's thread, always (--threads);
#   spinning  every core's thread, spinning until the others arrive
#             (OMP_WAIT_POLICY=active, --threads).
# Prints a table; --out FILE (relative to the workspace under `bazel run`)
# also writes it there with the machine's description. The chapter's lesson
# quotes results/busy_machine_avx512.md: write that one only when you mean to
# replace the lesson's numbers (tools/lesson_quotes.py --fix then updates it).
# Arguments (from the BUILD file): the throughput binary.
set -uo pipefail
throughput="$PWD/$1"
shift
quick=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
    *) echo "busy_machine_bench: unknown argument $1 (--quick, --out FILE)" >&2; exit 2 ;;
  esac
  shift
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

if [ -n "$out" ] && [[ $out != /* ]] && [ -n "${BUILD_WORKSPACE_DIRECTORY:-}" ]; then
  out="$BUILD_WORKSPACE_DIRECTORY/$out"
fi
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
isa=AVX2
grep -qw avx512f /proc/cpuinfo && isa=AVX-512

# Each cell is the median of `rounds` runs, idle and busy runs taking turns:
# a shared or virtual machine drifts by 10% or so from one minute to the next.
seconds=8 train_steps=8 gen_tokens=200 rounds=3
[ "$quick" -eq 1 ] && seconds=2 train_steps=2 gen_tokens=50 rounds=1

hog_pid=""
stop_hog() {
  [ -n "$hog_pid" ] && kill "$hog_pid" 2>/dev/null && wait "$hog_pid" 2>/dev/null
  hog_pid=""
}
trap stop_hog EXIT
trap 'stop_hog; exit 130' INT TERM
start_hog() {
  bash -c 'while :; do :; done' &
  hog_pid=$!
  sleep 0.5  # let the scheduler settle it on a core
}

# measure WAY MODE: tokens/s of one throughput run (WAY: adaptive, sleeping, fixed, spinning).
measure() {
  local way=$1 mode=$2 env=()
  local args=(--mode "$mode" --seconds "$seconds" --warmup 1)
  case $way in
    sleeping) env=(OMP_WAIT_POLICY=passive) ;;
    fixed) args+=(--threads "$(nproc)") ;;
    spinning) args+=(--threads "$(nproc)"); env=(OMP_WAIT_POLICY=active) ;;
  esac
  if [ "$mode" = train ]; then args+=(--steps "$train_steps"); else args+=(--steps 3 --new_tokens "$gen_tokens"); fi
  local line
  line=$(env "${env[@]}" "$throughput" "${args[@]}") ||
    { echo "busy_machine_bench: throughput failed ($way, $mode)" >&2; kill -TERM $$; }
  /usr/bin/python3 -c 'import json, sys; print("%.0f" % json.loads(sys.argv[1])["tokens_per_s"])' "$line"
}

header="$cpu, $(nproc) cores, $isa; seed configuration (B=32, T=64, C=256, L=6, H=8); $(date -u +%Y-%m-%d)"
echo "$header"
table="| mode | threads and waiting | idle tokens/s | beside a CPU hog | kept |
|---|---|---:|---:|---:|"
for mode in train generate; do
  for way in adaptive sleeping fixed spinning; do
    idles=() busies=()
    for ((r = 0; r < rounds; r++)); do
      idles+=("$(measure "$way" "$mode")")
      start_hog
      busies+=("$(measure "$way" "$mode")")
      stop_hog
    done
    idle=$(median "${idles[@]}") busy=$(median "${busies[@]}")
    kept=$(/usr/bin/python3 -c "print('%.0f%%' % (100.0 * $busy / $idle))")
    row="| $mode | $way | $idle | $busy | $kept |"
    echo "$row"
    table+=$'\n'"$row"
  done
done
if [ -n "$out" ]; then
  mkdir -p "$(dirname "$out")"
  {
    echo "# Chapter 10 beside a CPU hog"
    echo
    echo "$header. \`bazel run //chapters/10_fast_cpu:busy_machine_bench\`: throughput's tokens/s"
    echo "(medians of $rounds runs), idle and with one busy process beside it. adaptive: the"
    echo "programs (spin, then sleep; threads for the free cores); sleeping: the same threads,"
    echo "OMP_WAIT_POLICY=passive; fixed: every core's thread; spinning: every core's thread and"
    echo "OMP_WAIT_POLICY=active."
    echo
    echo "$table"
  } >"$out"
  echo "wrote $out"
fi
