#!/bin/bash
# chapters/18_data_parallel/data_parallel_test.sh — the equalities under mpirun -np 2.
#
# data_parallel_checks is a GoogleTest program that every rank runs; mpirun
# starts two. As root (CI's containers) Open MPI wants --allow-run-as-root;
# --oversubscribe lets 2 ranks start on a 1-core machine.
set -u
checks=$1
flags=(--oversubscribe -np 2)
[ "$(id -u)" -eq 0 ] && flags=(--allow-run-as-root "${flags[@]}")
command -v mpirun >/dev/null || { echo "FAIL: no mpirun (bash tools/setup.sh installs openmpi-bin)"; exit 1; }
export OMP_NUM_THREADS=1
# Under --config=asan: Open MPI keeps its allocations until the process ends,
# which LeakSanitizer would report as leaks of ours (shards_test checks this
# chapter's code for leaks without MPI).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpirun "${flags[@]}" "$checks"
