#!/bin/bash
# chapters/18_data_parallel/data_parallel_bench.sh — 1 rank, then 2, then the model for 8 and 64.
#
# ranks × threads = cores: 1 rank runs every core's thread, 2 ranks half each.
# Writes results/data_parallel_runs.jsonl (one line per run) and, from it,
# results/data_parallel.md (scaling_model.py). Run it on an idle machine.
set -eu
bench=$1
model=$2
steps=${STEPS:-10}
out="${BUILD_WORKSPACE_DIRECTORY:-.}/chapters/18_data_parallel/results"
mkdir -p "$out"
mpi=(mpirun --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
cores=$(nproc)
: >"$out/data_parallel_runs.jsonl"
for ranks in 1 2; do
  OMP_NUM_THREADS=$((cores / ranks > 0 ? cores / ranks : 1)) \
    "${mpi[@]}" -np $ranks "$bench" --steps "$steps" | tee -a "$out/data_parallel_runs.jsonl"
done
/usr/bin/python3 "$model" "$out/data_parallel_runs.jsonl" "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $cores cores, $(date +%F)" >"$out/data_parallel.md"
cat "$out/data_parallel.md"
