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
# Measurements in prose: named only with a results file that holds them.
rm "$dir/results/empty.md"
sed -i '/results\/empty.md/,$d' "$dir/README.md"
/usr/bin/python3 tools/lesson_quotes.py --check "$dir" || { echo "FAIL: clean lesson rejected"; exit 1; }
printf '\nOne step takes 41.2 ms here.\n' >>"$dir/README.md"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: an unmarked measurement accepted"; exit 1
fi
printf '# Log\n\nstep: 41.2 ms on the test machine\n' >"$dir/results/log.md"
sed -i 's|^One step takes 41.2 ms here.|<!-- measured: results/log.md -->\nOne step takes 41.2 ms here.|' "$dir/README.md"
/usr/bin/python3 tools/lesson_quotes.py --check "$dir" || { echo "FAIL: a held measurement rejected"; exit 1; }
sed -i 's|41.2 ms here|40.1 ms here|' "$dir/README.md"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: a measurement no results file holds accepted"; exit 1
fi
sed -i 's|<!-- measured: results/log.md -->|<!-- not measured: an example -->|' "$dir/README.md"
/usr/bin/python3 tools/lesson_quotes.py --check "$dir" || { echo "FAIL: a marked example rejected"; exit 1; }
# Exercises: the solution only inside a fold, three hints each.
printf 'int twice(int x) {\n  return 0;  // TODO\n}\n' >"$dir/op_exercise.cc"
printf 'chapter_library(\n    exercises = {"op.cc": "op_exercise.cc"},\n)\n\nchapter_test(\n    exercises = ["op"],\n)\n' >"$dir/BUILD"
printf '# Hints\n\n## op\n\n<details><summary>Hint 1: idea</summary>\n\nx\n\n</details>\n<details><summary>Hint 2: shapes</summary>\n\nx\n\n</details>\n<details><summary>Hint 3: formula</summary>\n\nx\n\n</details>\n' >"$dir/HINTS.md"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: a solution quoted in the open accepted"; exit 1
fi
sed -i 's|^<!-- quote: op.cc twice -->|<details><summary>Solution</summary>\n\n<!-- quote: op.cc twice -->|' "$dir/README.md"
sed -i '0,/^```$/{s|^```$|```\n\n</details>|}' "$dir/README.md"
/usr/bin/python3 tools/lesson_quotes.py --check "$dir" || { echo "FAIL: a folded solution rejected"; cat "$dir/README.md"; exit 1; }
sed -i 's|Hint 3: formula|The formula|' "$dir/HINTS.md"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: an exercise without its third hint accepted"; exit 1
fi
sed -i 's|The formula|Hint 3: formula|' "$dir/HINTS.md"
sed -i 's|exercises = \["op"\]|exercises = []|' "$dir/BUILD"
if /usr/bin/python3 tools/lesson_quotes.py --check "$dir"; then
  echo "FAIL: an exercise no test checks accepted"; exit 1
fi
echo "lesson quote checker: ok"
