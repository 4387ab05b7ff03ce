#!/bin/bash
# tools/nvcc_checked_test.sh — nvcc_checked.sh fails a compile whose ptxas serialized wgmma, and only that.
#
# Runs the wrapper with stand-ins for nvcc (no CUDA toolkit needed): one that
# prints ptxas's serialization note, one that prints another ptxas note, and
# one that fails; each exit status and what reaches stderr is checked.
set -uo pipefail
wrapper=$1
dir=$TEST_TMPDIR
fail() { echo "FAIL: $*" >&2; exit 1; }

cat >"$dir/serialized_nvcc" <<'STUB'
#!/bin/bash
echo "ptxas info    : (C7514) Potential Performance Loss: wgmma.mma_async instructions are serialized due to non wgmma instructions reading accumulator registers of  a wgmma between start and end of the pipeline stage in the function 'k'" >&2
exit 0
STUB
cat >"$dir/clean_nvcc" <<'STUB'
#!/bin/bash
echo "ptxas info    : Used 122 registers, used 1 barriers" >&2
echo "args: $*"
exit 0
STUB
cat >"$dir/failing_nvcc" <<'STUB'
#!/bin/bash
echo "error: something else" >&2
exit 2
STUB
chmod +x "$dir"/*_nvcc

bash "$wrapper" "$dir/serialized_nvcc" -c x.cu 2>"$dir/err" && fail "a serialized wgmma passed"
grep -q "C7514" "$dir/err" || fail "ptxas's own note was not passed on"
grep -q "nvcc_checked: ptxas serialized the wgmma" "$dir/err" || fail "no explanation"
echo "serialized wgmma: refused, with ptxas's note and an explanation"

out=$(bash "$wrapper" "$dir/clean_nvcc" -c y.cu -o y.o 2>"$dir/err") || fail "a clean compile failed"
[ "$out" = "args: -c y.cu -o y.o" ] || fail "arguments not passed through: $out"
grep -q "Used 122 registers" "$dir/err" || fail "ptxas's other notes were not passed on"
echo "clean compile: passes, arguments and notes passed through"

bash "$wrapper" "$dir/failing_nvcc" 2>"$dir/err"
status=$?
[ "$status" -eq 2 ] || fail "nvcc's exit status 2 came back as $status"
grep -q "error: something else" "$dir/err" || fail "nvcc's error was not passed on"
echo "failing compile: nvcc's status (2) and error passed through"
