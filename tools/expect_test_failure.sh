#!/bin/bash
# Runs a GoogleTest binary built against a chapter's exercise stubs and passes
# only if GoogleTest itself reports failed tests (a crash does not count: the
# stubs must fail by wrong answers, cleanly). Proves the chapter's tests can fail.
# For CUDA chapters (gpu_fails_on_exercise in tools/chapter.bzl) the binary's
# GPU tests run on a GPU or on the CPU emulator; where they could run on
# neither they fail saying "needs a GPU", and failures of that kind prove
# nothing about the stubs, so this check fails too, saying why.
binary="$1"
if [ "$binary" = "--exercise-mode" ]; then
  echo "Exercise mode: this check (that the untouched stubs fail) stands aside."
  exit 0
fi
output=$("$binary" 2>&1)
status=$?
if grep -q 'GPU test needs a GPU' <<<"$output"; then
  grep -m1 'GPU test needs a GPU' <<<"$output"
  echo "ERROR: these GPU tests could not run here, so they prove nothing about the stubs."
  echo "Run them on a GPU, or on the CPU emulator: add --config=emulated."
  exit 1
fi
# GoogleTest names a failed test twice (when it ends, and in the summary):
# count each name once.
failed_names=$(grep '^\[  FAILED  \] [A-Za-z]' <<<"$output" |
  sed -E 's/^\[  FAILED  \] //; s/ \([0-9]+ ms\)$//; s/, where GetParam\(\) = .*//' | sort -u)
failed=$(grep -c . <<<"$failed_names")
if [ "$status" -ne 0 ] && [ "$failed" -gt 0 ]; then
  echo "As it should: the untouched exercise fails $failed test(s)."
  echo "$failed_names"
  exit 0
fi
echo "$output" | tail -n 30
if [ "$status" -eq 0 ]; then
  echo "ERROR: the tests pass on the untouched exercise stubs; they cannot catch a wrong answer."
else
  echo "ERROR: the exercise binary exited with status $status without a GoogleTest failure (a crash?)."
fi
exit 1
