# common/testing/program_checks.sh — what the end-to-end tests of the programs share.
#
# Sourced by sh_tests that run train, generate or tokenize (depend on
# //common:program_checks; source it from the runfiles root, where tests start):
#
#   tmp="$TEST_TMPDIR"
#   source common/testing/program_checks.sh
#   expect_error 2 "--max_steps must be" "$train" --max_steps -1
#   ...
#   finish "train and generate, end to end"
#
# Checks do not stop the test: each failure is counted and printed, so one
# run shows every broken check; finish exits 1 if any failed.
failures=0

# fail MESSAGE...: count and print a failed check.
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# expect_error STATUS TEXT COMMAND...: COMMAND (stdin as given) exits with
# STATUS and its stderr contains TEXT. With PROGRAM_CHECKS_VERBOSE=1 a passing
# check prints the message it checked.
expect_error() {
  local status="$1" text="$2"
  shift 2
  "$@" > "$tmp/out.txt" 2> "$tmp/err.txt"
  local got=$?
  if [[ $got -ne $status ]]; then
    fail "$* exited with $got, expected $status; stderr: $(cat "$tmp/err.txt")"
  elif ! grep -qF -- "$text" "$tmp/err.txt"; then
    fail "$*: stderr lacks '$text': $(cat "$tmp/err.txt")"
  elif [[ ${PROGRAM_CHECKS_VERBOSE:-0} == 1 ]]; then
    echo "ok (exit $status): $(cat "$tmp/err.txt")"
  fi
}

# metadata CHECKPOINT KEY: one entry of a checkpoint's safetensors metadata ("(none)" if absent).
metadata() {
  /usr/bin/python3 -c '
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
sys.stdout.write(json.loads(data[8:8 + n])["__metadata__"].get(sys.argv[2], "(none)"))' "$1" "$2"
}

# with_metadata IN OUT KEY VALUE: a copy of checkpoint IN with one metadata
# entry set (VALUE "-" deletes it).
with_metadata() {
  /usr/bin/python3 -B - "$@" <<'PYTHON'
import json, struct, sys
src, dst, key, value = sys.argv[1:]
data = open(src, "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
if value == "-":
    header["__metadata__"].pop(key)
else:
    header["__metadata__"][key] = value
text = json.dumps(header).encode()
open(dst, "wb").write(struct.pack("<Q", len(text)) + text + data[8 + n:])
PYTHON
}

# finish WHAT: the test's verdict.
finish() {
  if [[ $failures -gt 0 ]]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "PASS: $*"
}
