#!/bin/bash
# The quote checker must pass a faithful quote and fail a stale one.
set -u
dir="$TEST_TMPDIR/chapter"
mkdir -p "$dir"
cat >"$dir/op.cc" <<'SRC'
int unrelated();
// lesson: twice
int twice(int x) {
  return 2 * x;
}
// end lesson
SRC
printf '# Lesson\n<!-- quote: op.cc twice -->\n```cpp\nint twice(int x) {\n  return 2 * x;\n}\n```\n' >"$dir/README.md"
/usr/bin/python3 tools/lesson_quotes.py --check "$dir" || { echo "FAIL: faithful quote rejected"; exit 1; }
sed -i 's/2 \* x/x + x/' "$dir/README.md"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: stale quote accepted"; exit 1
fi
/usr/bin/python3 tools/lesson_quotes.py --fix "$dir" && /usr/bin/python3 tools/lesson_quotes.py --check "$dir" ||
  { echo "FAIL: --fix did not repair the quote"; exit 1; }
# A quoted results table: the same check and repair.
mkdir -p "$dir/results"
printf '# Run\n\n| mode | tokens/s |\n|---|---:|\n| train | 100 |\n\nmore\n' >"$dir/results/run.md"
printf '\nMeasured:\n\n<!-- table: results/run.md -->\n| mode | tokens/s |\n|---|---:|\n| train | 100 |\n\nDone.\n' >>"$dir/README.md"
/usr/bin/python3 tools/lesson_quotes.py --check "$dir" || { echo "FAIL: faithful table rejected"; exit 1; }
sed -i 's/| train | 100 |/| train | 120 |/' "$dir/results/run.md"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: stale table accepted"; exit 1
fi
/usr/bin/python3 tools/lesson_quotes.py --fix "$dir" && /usr/bin/python3 tools/lesson_quotes.py --check "$dir" ||
  { echo "FAIL: --fix did not repair the table"; exit 1; }
grep -q '| train | 120 |' "$dir/README.md" || { echo "FAIL: --fix wrote the wrong table"; exit 1; }
# A table of a file that is missing, or that holds no table: --check and --fix fail.
printf '\n<!-- table: results/gone.md -->\n| a |\n' >>"$dir/README.md"
if /usr/bin/python3 tools/lesson_quotes.py --fix "$dir"; then
  echo "FAIL: a quote of a missing results file accepted"; exit 1
fi
sed -i 's|results/gone.md|results/empty.md|' "$dir/README.md"
echo "no table here" >"$dir/results/empty.md"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: a quote of a file without a table accepted"; exit 1
fi
echo "lesson quote checker: ok"
