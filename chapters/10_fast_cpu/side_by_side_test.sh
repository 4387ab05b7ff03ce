#!/bin/bash
# chapters/10_fast_cpu/side_by_side_test.sh — side_by_side.py's machinery, with stand-ins.
#
# The builds are small scripts that print throughput's JSON line, or
# fast_cpu_bench's Google Benchmark JSON, at a fixed speed and log how they
# were started; no timing is checked (tests never time). Checked:
#   1. binaries: medians, the ratio over the first build, rounds faster, every
#      cell run once per build per round, the builds' order turned by one
#      each round (three builds), the flags after -- passed on, a pinned
#      one-thread run on one CPU (an unpinned one on all of them), the
#      report's markdown (header included) and JSON in --out; the round-by-
#      round ratio's range (the sign test's) on known cases;
#   2. --benchmark: fast_cpu_bench's Google Benchmark JSON read (aggregates
#      left out, repetitions' median taken, other time units converted to
#      the first run's), times compared with lower as faster, one run per
#      build a round, its own flags set; a build whose benchmarks differ,
#      or one with an errored benchmark, refused;
#   3. a run that fails in the second round: the first round is still
#      reported, marked as stopped; one that fails in the first: no table;
#   4. revisions and '.': a fresh git repository whose "bazel" (a stand-in)
#      builds a script from the commit's speed.txt; each revision built in a
#      worktree that is removed after (with its Bazel output expunged), the
#      working tree built as it is, uncommitted change included; a build that
#      fails leaves no worktree behind either; --benchmark builds fast_cpu_bench;
#   5. clear failures for bad arguments; and no temporary files left after
#      any of these runs, failed or not.
# Argument: side_by_side.py (measuring.py and spin_waiting.h beside it).
set -euo pipefail
script="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"  # absolute: part 4 runs elsewhere
work="$TEST_TMPDIR/work"
mkdir -p "$work/tmp"
export TMPDIR="$work/tmp"  # where side_by_side.py keeps its binaries and worktrees
log="$work/runs.log"
export SIDE_BY_SIDE_LOG="$log"

# A stand-in for throughput at a fixed speed: logs its name, its CPU
# affinity and its arguments, then prints one JSON line (after some noise).
# With a third argument N, its Nth start fails.
fake() {  # fake PATH TOKENS_PER_S [N]
  cat > "$1" <<EOF
#!/usr/bin/python3
import json, os, sys
with open(os.environ["SIDE_BY_SIDE_LOG"], "a") as log:
    log.write("$(basename "$1") cpus=%d %s\n" % (len(os.sched_getaffinity(0)), " ".join(sys.argv[1:])))
starts = "$1.starts"
count = (int(open(starts).read()) if os.path.exists(starts) else 0) + 1
open(starts, "w").write(str(count))
if count == int("${3:-0}"):
    sys.exit("out of memory, say")
print("warming up")
print(json.dumps({"side": "ours", "tokens_per_s": $2}))
EOF
  chmod +x "$1"
}

no_leftovers() {  # nothing left in TMPDIR
  if [[ -n $(ls -A "$TMPDIR") ]]; then
    echo "FAIL: $1: left behind in TMPDIR:"; ls -A "$TMPDIR"; exit 1
  fi
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
  no_leftovers "$what"
  echo "ok: $what"
}

# 1. Binaries. Options may come between the builds.
fake "$work/slow" 100
fake "$work/fast" 110
fake "$work/fastest" 120
/usr/bin/python3 -B "$script" slow="$work/slow" --pin fast="$work/fast" fastest="$work/fastest" \
  --rounds 3 --seconds 0 --modes train,forward --threads 1 --out "$work/report" -- --embed_size 8 \
  > "$work/stdout.md" 2> "$work/progress.txt" || { cat "$work/progress.txt"; exit 1; }
no_leftovers "binaries"
/usr/bin/python3 -B - "$work" <<'PY'
import json, sys
work = sys.argv[1]
md = open(f"{work}/report/side_by_side.md").read()
assert md == open(f"{work}/stdout.md").read(), "the report on stdout and in --out differ"
header = ("| mode, threads | slow | fast | fastest | fast / slow | rounds fast faster "
          "| fast / slow, round by round | fastest / slow | rounds fastest faster "
          "| fastest / slow, round by round |")
assert header in md and "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" in md, md
for cell in ("train, 1", "forward, 1"):  # 3 rounds: their whole range, at 75%
    row = (f"| {cell} | 100 (100–100) | 110 (110–110) | 120 (120–120) | 1.100× | 3 of 3 "
           "| 1.100× (1.100–1.100, 75%) | 1.200× | 3 of 3 | 1.200× (1.200–1.200, 75%) |")
    assert row in md, f"no row {row!r} in:\n{md}"
assert "**slow**: the binary" in md and "pinned" in md and "3 rounds" in md, md
report = json.load(open(f"{work}/report/side_by_side.json"))
runs = report["runs"]
assert len(runs) == 3 * 2 * 3, len(runs)  # rounds x modes x builds
for r in (1, 2, 3):
    order = [run["build"] for run in runs if run["round"] == r and run["cell"] == "train, 1"]
    want = ["slow", "fast", "fastest"][r - 1:] + ["slow", "fast", "fastest"][:r - 1]
    assert order == want, f"round {r} ran {order}, not {want}"
assert report["table"]["train, 1"]["fast"]["rounds_faster"] == 3
assert report["info"]["portable"] is None, "binaries were not built: no --portable to record"
log = open(f"{work}/runs.log").read().splitlines()
assert len(log) == 18, log
for line in log:
    assert "cpus=1 " in line, f"a pinned one-thread run on more than one CPU: {line}"
    assert "--threads 1 --seconds 0" in line and line.endswith("--embed_size 8"), line
print("ok: binaries")
PY
# The round-by-round range (the sign test's): with 9 rounds, the 2nd to the 8th
# ratio in order (96.1%); with 30, the 10th to the 21st; with 5, all (93.75%);
# with 6, all (96.9%, the fewest rounds with a 95% range); one round, none.
/usr/bin/python3 -B - "$script" <<'PY'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("side_by_side", sys.argv[1])
sbs = importlib.util.module_from_spec(spec)
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
spec.loader.exec_module(sbs)
nine = [1.05, 0.97, 1.01, 0.99, 1.10, 1.02, 0.90, 1.00, 1.03]  # in order: 0.90 0.97 0.99 ... 1.10
assert sbs.median_interval(nine)[:3] == (1.01, 0.97, 1.05), sbs.median_interval(nine)
assert abs(sbs.median_interval(nine)[3] - 0.9609375) < 1e-12
assert sbs.median_interval(list(range(30)))[1:3] == (9, 20)
assert sbs.median_interval([3, 1, 2, 5, 4]) == (3, 1, 5, 0.9375)
assert sbs.median_interval([6, 1, 5, 2, 4, 3]) == (3.5, 1, 6, 0.96875)  # 6: the first 95% range
assert sbs.median_interval([1.5]) == (1.5, 1.5, 1.5, 0.0)
assert sbs.interval_text({"median": 1.5, "low": 1.5, "high": 1.5, "confidence": 0.0}) == "—"
assert sbs.interval_text({"median": 1.0123, "low": 0.99, "high": 1.031, "confidence": 0.96}) \
    == "1.012× (0.990–1.031)"
print("ok: the round-by-round range")
PY
grep -q "round 3/3" "$work/progress.txt" || { echo "FAIL: no progress"; exit 1; }
# Unpinned, a run may use every CPU this test may use.
cpus=$(/usr/bin/python3 -c 'import os; print(len(os.sched_getaffinity(0)))')
: > "$log"
/usr/bin/python3 -B "$script" slow="$work/slow" fast="$work/fast" --rounds 1 --seconds 0 \
  --modes forward --threads 1 > /dev/null 2>&1
no_leftovers "unpinned"
if grep -v "cpus=$cpus " "$log"; then echo "FAIL: an unpinned run on fewer than $cpus CPUs"; exit 1; fi

# 2. --benchmark, with stand-ins for fast_cpu_bench: BM_A takes MICROSECONDS,
# BM_B twice as long; an aggregate line to leave out; with "extra", a third.
fakebench() {  # fakebench PATH MICROSECONDS [extra]
  cat > "$1" <<EOF
#!/usr/bin/python3
import json, os, sys
with open(os.environ["SIDE_BY_SIDE_LOG"], "a") as log:
    log.write("$(basename "$1") cpus=%d %s\n" % (len(os.sched_getaffinity(0)), " ".join(sys.argv[1:])))
t = $2
runs = [{"name": "BM_A/real_time", "run_type": "iteration", "real_time": t, "time_unit": "us"},
        {"name": "BM_B/real_time", "run_type": "iteration", "real_time": 2 * t, "time_unit": "us"},
        {"name": "BM_A/real_time_mean", "run_type": "aggregate", "real_time": 1, "time_unit": "us"}]
if "${3:-}" == "extra":
    runs.append({"name": "BM_C/real_time", "run_type": "iteration", "real_time": t, "time_unit": "us"})
if "${3:-}" == "ms":  # the same times in ms, BM_A repeated: 80, t and 120 us
    for r in runs:
        r["real_time"] /= 1000
        r["time_unit"] = "ms"
    runs += [dict(runs[0], real_time=0.08), dict(runs[0], real_time=0.12)]
if "${3:-}" == "error":
    runs[1].update(error_occurred=True, error_message="out of buffers")
print(json.dumps({"context": {}, "benchmarks": runs}))
EOF
  chmod +x "$1"
}
fakebench "$work/bench_old" 100
fakebench "$work/bench_new" 90
fakebench "$work/bench_more" 90 extra
fakebench "$work/bench_ms" 90 ms
fakebench "$work/bench_error" 90 error
: > "$log"
/usr/bin/python3 -B "$script" old="$work/bench_old" new="$work/bench_new" --benchmark 'BM_' \
  --rounds 3 --seconds 0.5 --pin --threads 1 --out "$work/bench" -- --benchmark_repetitions=1 \
  > /dev/null 2> "$work/bench.err" || { cat "$work/bench.err"; exit 1; }
no_leftovers "benchmarks"
md="$work/bench/side_by_side.md"
for want in "| benchmark | old | new | new / old | rounds new faster |" \
            "| BM_A/real_time | 100 (100–100) | 90 (90–90) | 0.900× | 3 of 3 |" \
            "| BM_B/real_time | 200 (200–200) | 180 (180–180) | 0.900× | 3 of 3 |" \
            "Time per iteration in us (lower is faster)"; do
  grep -qF -- "$want" "$md" || { echo "FAIL: benchmarks: no '$want' in:"; cat "$md"; exit 1; }
done
if grep -q "real_time_mean" "$md"; then echo "FAIL: an aggregate in the table"; exit 1; fi
[[ $(wc -l < "$log") == 6 ]] || { echo "FAIL: not one run per build a round:"; cat "$log"; exit 1; }
started="cpus=1 --benchmark_filter=BM_ --benchmark_format=json --benchmark_min_time=0.5 --benchmark_repetitions=1"
if grep -v -- "$started\$" "$log"; then echo "FAIL: fast_cpu_bench started otherwise"; exit 1; fi
echo "ok: benchmarks"
/usr/bin/python3 -B "$script" old="$work/bench_old" new="$work/bench_ms" --benchmark BM_ \
  --rounds 2 --seconds 0 --out "$work/bench_units" > /dev/null 2>&1
grep -qF "| BM_A/real_time | 100 (100–100) | 90 (90–90) | 0.900× | 2 of 2 |" "$work/bench_units/side_by_side.md" \
  || { echo "FAIL: ms not converted, or repetitions not their median:"; cat "$work/bench_units/side_by_side.md"; exit 1; }
echo "ok: other units converted, repetitions' median"
expect_failure "an errored benchmark" "BM_B/real_time did not run: out of buffers" \
  /usr/bin/python3 -B "$script" old="$work/bench_old" bad="$work/bench_error" --benchmark BM_ \
  --rounds 1 --seconds 0
expect_failure "benchmarks that differ" "its benchmarks differ from the others': BM_C/real_time" \
  /usr/bin/python3 -B "$script" old="$work/bench_old" more="$work/bench_more" --benchmark BM_ \
  --rounds 1 --seconds 0
expect_failure "--benchmark_min_time after --" "are set by this script" /usr/bin/python3 -B "$script" \
  old="$work/bench_old" new="$work/bench_new" --benchmark BM_ -- --benchmark_min_time=3

# 3. A run that fails in round 2: round 1 is still reported.
fake "$work/flaky" 90 4  # its 4th start: round 2's forward (one start per cell a round)
expect_failure "a run that fails" "out of memory, say" /usr/bin/python3 -B "$script" \
  slow="$work/slow" flaky="$work/flaky" --rounds 3 --seconds 0 --modes train,forward --threads 1 \
  --out "$work/stopped"
grep -qF "**Stopped** after 1 of 3 rounds" "$work/stopped/side_by_side.md" \
  || { echo "FAIL: no stop noted:"; cat "$work/stopped/side_by_side.md"; exit 1; }
for cell in train forward; do  # train finished round 2 too: only whole rounds count
  grep -qF "| $cell, 1 | 100 (100–100) | 90 (90–90) | 0.900× | 0 of 1 |" "$work/stopped/side_by_side.md" \
    || { echo "FAIL: round 1 not reported alone:"; cat "$work/stopped/side_by_side.md"; exit 1; }
done
echo "ok: round 1 reported after a failure in round 2"
fake "$work/flaky_early" 90 2  # its 2nd start: round 1's forward, the first run of that cell
expect_failure "a run that fails in round 1" "out of memory, say" /usr/bin/python3 -B "$script" \
  early="$work/flaky_early" slow="$work/slow" --rounds 3 --seconds 0 --modes train,forward \
  --threads 1 --out "$work/stopped_early"
grep -qF "stopped before a round was finished" "$work/stopped_early/side_by_side.md" \
  || { echo "FAIL: a half round reported:"; cat "$work/stopped_early/side_by_side.md"; exit 1; }
echo "ok: no table from half a round"

# 4. Revisions and '.', in a repository of their own, with a stand-in bazel.
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
# throughput at the speed in speed.txt (and fails without --config=portable);
# `clean --expunge` is logged.
echo "bazel $* in $(basename "$PWD")" >> "$SIDE_BY_SIDE_LOG.bazel"
if [[ $1 == build ]]; then
  [[ " $* " == *" --config=portable "* ]] || { echo "ERROR: no --config=portable" >&2; exit 1; }
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
no_leftovers "revisions"
grep -qF "| forward, 1 | 200 (200–200) | 300 (300–300) | 400 (400–400) | 1.500× | 2 of 2 | 1.500× (1.500–1.500, 50%) | 2.000× | 2 of 2 | 2.000× (2.000–2.000, 50%) |" \
  "$work/revisions.md" || { echo "FAIL: revisions:"; cat "$work/revisions.md"; exit 1; }
grep -q "the working tree (HEAD [0-9a-f]*, with changes)" "$work/revisions.md" \
  || { echo "FAIL: '.' not described as the working tree with changes"; cat "$work/revisions.md"; exit 1; }
grep -qF "built with --config=portable" "$work/revisions.md" || { echo "FAIL: no --portable"; exit 1; }
[[ $(git worktree list | wc -l) == 1 ]] || { echo "FAIL: worktrees left:"; git worktree list; exit 1; }
[[ $(grep -c "clean --expunge in first$" "$SIDE_BY_SIDE_LOG.bazel") == 1 &&
   $(grep -c "clean --expunge in second$" "$SIDE_BY_SIDE_LOG.bazel") == 1 ]] \
  || { echo "FAIL: a worktree's output not expunged:"; cat "$SIDE_BY_SIDE_LOG.bazel"; exit 1; }
echo "ok: revisions and the working tree"
expect_failure "a build that fails" "building second (HEAD) failed" /usr/bin/python3 -B "$script" \
  first="$work/slow" second=HEAD --repo "$repo" --bazel "$bazel" --rounds 1 --seconds 0
[[ $(git worktree list | wc -l) == 1 ]] || { echo "FAIL: worktrees left:"; git worktree list; exit 1; }
[[ $(grep -c "clean --expunge in second$" "$SIDE_BY_SIDE_LOG.bazel") == 2 ]] \
  || { echo "FAIL: the failed build's output not expunged"; exit 1; }
echo "ok: no worktree left after a failed build"
expect_failure "--benchmark builds fast_cpu_bench" "no bazel-bin/chapters/10_fast_cpu/fast_cpu_bench" \
  /usr/bin/python3 -B "$script" first="$work/bench_old" second=HEAD --repo "$repo" --bazel "$bazel" \
  --portable --benchmark BM_ --rounds 1 --seconds 0
grep -q "build -c opt --config=portable //chapters/10_fast_cpu:fast_cpu_bench in second$" \
  "$SIDE_BY_SIDE_LOG.bazel" || { echo "FAIL: fast_cpu_bench not built"; cat "$SIDE_BY_SIDE_LOG.bazel"; exit 1; }
cd "$work"

# 5. Clear failures.
printf '#!/bin/sh\necho "boom: bad flag" >&2\nexit 3\n' > "$work/broken"
printf '#!/bin/sh\necho "no numbers here"\n' > "$work/silent"
chmod +x "$work/broken" "$work/silent"
run=(/usr/bin/python3 -B "$script" --rounds 1 --seconds 0 --modes forward --threads 1)
expect_failure "a run that fails, with its message" "boom: bad flag" "${run[@]}" slow="$work/slow" bad="$work/broken"
expect_failure "its name in the message" "bad:" "${run[@]}" slow="$work/slow" bad="$work/broken"
expect_failure "no JSON" "no JSON line with tokens_per_s" "${run[@]}" slow="$work/slow" quiet="$work/silent"
expect_failure "one build" "two or more builds" "${run[@]}" slow="$work/slow"
expect_failure "no name" "want NAME=SOURCE" "${run[@]}" "$work/slow" fast="$work/fast"
expect_failure "a name twice" "names two builds" "${run[@]}" a="$work/slow" a="$work/fast"
expect_failure "a name with a /" "a build's name is letters" "${run[@]}" a/b="$work/slow" c="$work/fast"
expect_failure "a bad mode" "is not train, forward or generate" "${run[@]}" --modes sprint \
  slow="$work/slow" fast="$work/fast"
expect_failure "--threads after --" "are set by this script" "${run[@]}" slow="$work/slow" \
  fast="$work/fast" -- --threads 4
expect_failure "--seconds= after --" "are set by this script" "${run[@]}" slow="$work/slow" \
  fast="$work/fast" -- --seconds=9
touch "$work/a_file"
expect_failure "--out a file" "not a directory" "${run[@]}" --out "$work/a_file" slow="$work/slow" \
  fast="$work/fast"
expect_failure "an unknown revision" "neither a binary, nor '.', nor a revision" "${run[@]}" \
  --repo "$repo" --bazel "$bazel" slow="$work/slow" other=no-such-branch
expect_failure "no bazel" "no no-such-bazel to build" "${run[@]}" --bazel no-such-bazel \
  slow="$work/slow" other=HEAD
expect_failure "too many pinned threads" "CPUs to pin them to" "${run[@]}" --pin --threads 9999 \
  slow="$work/slow" fast="$work/fast"
echo "PASS"
