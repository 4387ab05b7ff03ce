#!/bin/bash
# Runs a GoogleTest binary built against a chapter's exercise stubs and passes
# only if GoogleTest itself reports failed tests (a crash does not count: the
# stubs must fail by wrong answers, cleanly). Proves the chapter's tests can fail.
# For CUDA chapters (gpu_fails_on_exercise in tools/chapter.bzl) it runs only
# under the CPU emulator, where the GPU tests do run.
binary="$1"
if [ "$binary" = "--exercise-mode" ]; then
  echo "Exercise mode: this check (that the untouched stubs fail) stands aside."
  exit 0
fi
if [ "$binary" = "--needs-emulator" ]; then
  echo "Stands aside: these GPU tests run (and must fail) only on a GPU or under"
  echo "--config=emulated (tools/cuda_emulator); without either they would skip."
  exit 0
fi
output=$("$binary" 2>&1)
status=$?
failed=$(grep -c '^\[  FAILED  \] [A-Za-z]' <<<"$output")
if [ "$status" -ne 0 ] && [ "$failed" -gt 0 ]; then
  echo "As it should: the untouched exercise fails $failed test(s)."
  grep '^\[  FAILED  \] [A-Za-z]' <<<"$output" | sort -u
  exit 0
fi
echo "$output" | tail -n 30
if [ "$status" -eq 0 ]; then
  echo "ERROR: the tests pass on the untouched exercise stubs; they cannot catch a wrong answer."
else
  echo "ERROR: the exercise binary exited with status $status without a GoogleTest failure (a crash?)."
fi
exit 1
