#!/bin/bash
# chapters/10_fast_cpu/side_by_side_test.sh — side_by_side.py's machinery, with stand-ins.
#
# The builds are small scripts that print throughput's JSON line at a fixed
# speed and log how they were started; no timing is checked (tests never
# time). Checked:
#   1. binaries: medians, the ratio over the first build, rounds faster, every
#      cell run once per build per round, the builds' order turned each round,
#      the flags after -- passed on, a pinned one-thread run on one CPU, and
#      the report's markdown and JSON;
#   2. revisions and '.': a fresh git repository whose "bazel" (a stand-in)
#      builds a script from the commit's speed.txt; each revision built in a
#      worktree that is removed after (with its Bazel output expunged), the
#      working tree built as it is, uncommitted change included;
#   3. clear failures: a build that fails, one with no JSON, bad arguments.
# Argument: side_by_side.py.
set -euo pipefail
script="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"  # absolute: part 2 runs elsewhere
work="$TEST_TMPDIR/work"
mkdir -p "$work"
log="$work/runs.log"
export SIDE_BY_SIDE_LOG="$log"

# A stand-in for throughput at a fixed speed: logs its name, its CPU
# affinity and its arguments, then prints one JSON line (after some noise).
fake() {  # fake PATH TOKENS_PER_S
  cat > "$1" <<EOF
#!/usr/bin/python3
import json, os, sys
with open(os.environ["SIDE_BY_SIDE_LOG"], "a") as log:
    log.write("$(basename "$1") cpus=%d %s\n" % (len(os.sched_getaffinity(0)), " ".join(sys.argv[1:])))
print("warming up")
print(json.dumps({"side": "ours", "tokens_per_s": $2}))
EOF
  chmod +x "$1"
}

expect_failure() {  # expect_failure WHAT TEXT COMMAND...: fails, and says TEXT
  local what="$1" text="$2"
  shift 2
  if "$@" > "$work/out.txt" 2> "$work/err.txt"; then
    echo "FAIL: $what: succeeded"; exit 1
  fi
  if ! grep -qF -- "$text" "$work/err.txt"; then
    echo "FAIL: $what: no '$text' in:"; cat "$work/err.txt"; exit 1
  fi
  echo "ok: $what"
}

# 1. Binaries.
fake "$work/slow" 100
fake "$work/fast" 110
/usr/bin/python3 -B "$script" slow="$work/slow" fast="$work/fast" --rounds 3 --seconds 0 \
  --modes train,forward --threads 1 --pin --out "$work/report/r" -- --embed_size 8 \
  > "$work/stdout.md" 2> "$work/progress.txt" || { cat "$work/progress.txt"; exit 1; }
/usr/bin/python3 -B - "$work" <<'PY'
import json, sys
work = sys.argv[1]
md = open(f"{work}/report/r.md").read()
assert md == open(f"{work}/stdout.md").read(), "the report on stdout and in --out differ"
for cell in ("train, 1", "forward, 1"):
    row = f"| {cell} | 100 (100–100) | 110 (110–110) | 1.100× | 3 of 3 |"
    assert row in md, f"no row {row!r} in:\n{md}"
assert "**slow**: the binary" in md and "pinned" in md and "3 rounds" in md, md
report = json.load(open(f"{work}/report/r.json"))
runs = report["runs"]
assert len(runs) == 3 * 2 * 2, len(runs)  # rounds x modes x builds
firsts = [r["build"] for r in runs if r["mode"] == "train"][::2]
assert firsts == ["slow", "fast", "slow"], f"the order does not turn each round: {firsts}"
assert report["table"]["train, 1"]["fast"]["rounds_faster"] == 3
log = open(f"{work}/runs.log").read().splitlines()
assert len(log) == 12, log
for line in log:
    assert "cpus=1 " in line, f"a pinned one-thread run on more than one CPU: {line}"
    assert "--threads 1 --seconds 0" in line and line.endswith("--embed_size 8"), line
print("ok: binaries")
PY
grep -q "round 3/3" "$work/progress.txt" || { echo "FAIL: no progress"; exit 1; }

# 2. Revisions and '.', in a repository of their own, with a stand-in bazel.
repo="$work/repo"
mkdir -p "$repo"
cd "$repo"
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com
export GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com
git init -q .
echo 200 > speed.txt
git add speed.txt
git commit -qm "slow"
echo 300 > speed.txt
git commit -qam "fast"
echo 400 > speed.txt  # uncommitted: only '.' sees it
bazel="$work/bazel"
cat > "$bazel" <<'EOF'
#!/bin/bash
# The stand-in: `build ... //chapters/10_fast_cpu:throughput` writes a fake
# throughput at the speed in speed.txt; `clean --expunge` is logged.
echo "bazel $* in $(basename "$PWD")" >> "$SIDE_BY_SIDE_LOG.bazel"
if [[ $1 == build ]]; then
  [[ " $* " == *" --config=portable "* ]] || { echo "no --config=portable" >&2; exit 1; }
  mkdir -p bazel-bin/chapters/10_fast_cpu
  out=bazel-bin/chapters/10_fast_cpu/throughput
  printf '#!/bin/sh\necho "{\\"tokens_per_s\\": %s}"\n' "$(cat speed.txt)" > "$out"
  chmod +x "$out"
fi
EOF
chmod +x "$bazel"
/usr/bin/python3 -B "$script" first=HEAD~1 second=HEAD now=. --repo "$repo" --bazel "$bazel" \
  --portable --rounds 2 --seconds 0 --modes forward --threads 1 > "$work/revisions.md" \
  2> "$work/revisions.err" || { cat "$work/revisions.err"; exit 1; }
grep -qF "| forward, 1 | 200 (200–200) | 300 (300–300) | 400 (400–400) | 1.500× | 2 of 2 | 2.000× | 2 of 2 |" \
  "$work/revisions.md" || { echo "FAIL: revisions:"; cat "$work/revisions.md"; exit 1; }
grep -q "the working tree (HEAD [0-9a-f]*, with changes)" "$work/revisions.md" \
  || { echo "FAIL: '.' not described as the working tree with changes"; cat "$work/revisions.md"; exit 1; }
[[ $(git worktree list | wc -l) == 1 ]] || { echo "FAIL: worktrees left:"; git worktree list; exit 1; }
[[ $(grep -c "clean --expunge in worktree-" "$SIDE_BY_SIDE_LOG.bazel") == 2 ]] \
  || { echo "FAIL: a worktree's output not expunged:"; cat "$SIDE_BY_SIDE_LOG.bazel"; exit 1; }
echo "ok: revisions and the working tree"
cd "$work"

# 3. Clear failures.
printf '#!/bin/sh\necho "boom: bad flag" >&2\nexit 3\n' > "$work/broken"
printf '#!/bin/sh\necho "no numbers here"\n' > "$work/silent"
chmod +x "$work/broken" "$work/silent"
run=(/usr/bin/python3 -B "$script" --rounds 1 --seconds 0 --modes forward --threads 1)
expect_failure "a build that fails" "boom: bad flag" "${run[@]}" slow="$work/slow" bad="$work/broken"
expect_failure "its name in the message" "bad:" "${run[@]}" slow="$work/slow" bad="$work/broken"
expect_failure "no JSON" "no JSON line with tokens_per_s" "${run[@]}" slow="$work/slow" quiet="$work/silent"
expect_failure "one build" "two or more builds" "${run[@]}" slow="$work/slow"
expect_failure "no name" "want NAME=SOURCE" "${run[@]}" "$work/slow" fast="$work/fast"
expect_failure "a name twice" "names two builds" "${run[@]}" a="$work/slow" a="$work/fast"
expect_failure "a bad mode" "is not train, forward or generate" "${run[@]}" --modes sprint \
  slow="$work/slow" fast="$work/fast"
expect_failure "an unknown revision" "neither a binary, nor '.', nor a revision" "${run[@]}" \
  --repo "$repo" --bazel "$bazel" slow="$work/slow" other=no-such-branch
expect_failure "too many pinned threads" "CPUs to pin them to" "${run[@]}" --pin --threads 9999 \
  slow="$work/slow" fast="$work/fast"
echo "PASS"
