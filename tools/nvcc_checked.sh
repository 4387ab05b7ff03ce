#!/bin/bash
# tools/nvcc_checked.sh — nvcc, with ptxas's note that it serialized wgmma made an error.
#
#   nvcc_checked.sh NVCC ARGS...      (tools/cuda.bzl compiles every .cu file so)
#
# When a non-wgmma instruction touches a wgmma's accumulators while the wgmma
# may still be running, ptxas does not refuse the kernel: it makes every
# wgmma wait for the one before and prints a note ("Potential Performance
# Loss: wgmma.mma_async instructions are serialized", C7514 to C7520). The
# kernel stays correct and loses the overlap it was written for (chapter 17,
# section 8, version 4). Here that note fails the compile instead of
# scrolling past. Everything nvcc prints is passed on; its exit status too.
set -uo pipefail
nvcc=$1
shift
err=$(mktemp)
trap 'rm -f "$err"' EXIT
"$nvcc" "$@" 2>"$err"
status=$?
cat "$err" >&2
if [ "$status" -eq 0 ] && grep -q "wgmma.mma_async instructions are serialized" "$err"; then
  echo "nvcc_checked: ptxas serialized the wgmma of a kernel above: an instruction other than" \
    "wgmma reads or writes its accumulators while a wgmma may run (chapter 17, section 8," \
    "version 4's pin_registers)" >&2
  exit 1
fi
exit "$status"
