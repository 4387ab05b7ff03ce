#!/bin/bash
# chapters/18_data_parallel/gpu_communicator_test.sh — the GPU collectives under mpirun.
#
# One rank per GPU, at most 2 (a single-GPU machine runs one rank); on the
# CPU emulator 2 ranks share its device memory. Without a GPU in an nvcc
# build there is nothing to run: that fails, saying so. With a second
# program, runs that one (the ranks counted by the first).
set -u
checks=$1
program=${2:-$1}
ranks=$("$checks" --ranks) || { echo "FAIL: $checks --ranks"; exit 1; }
[ "$ranks" -ge 1 ] || { echo "FAIL: no GPU here (this build is for nvcc)"; exit 1; }
flags=(--oversubscribe -np "$ranks")
[ "$(id -u)" -eq 0 ] && flags=(--allow-run-as-root "${flags[@]}")
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"  # Open MPI's (see data_parallel_test.sh)
mpirun "${flags[@]}" "$program"
