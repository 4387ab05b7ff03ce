#!/usr/bin/python3
"""Chapter 10: two or more builds of the fast engine, measured side by side on this machine.

  python3 chapters/10_fast_cpu/side_by_side.py NAME=SOURCE NAME=SOURCE... [options] [-- FLAGS]
  python3 chapters/10_fast_cpu/side_by_side.py before=HEAD after=. --benchmark BM_AttentionHeads

  python3 chapters/10_fast_cpu/side_by_side.py before=HEAD after=.
  python3 chapters/10_fast_cpu/side_by_side.py before=HEAD after=. --portable --pin --threads 1
  python3 chapters/10_fast_cpu/side_by_side.py old=HEAD~3 new=. --out results/mine -- \\
      --embed_size 128 --num_layers 4 --heads 4 --ff_dim 512 --batch_size 12

What is measured: the model's speed, with `throughput` (tokens/s, one run
per mode and thread count), or with --benchmark REGEX the benchmarks of
`fast_cpu_bench` that match it (time per iteration, in the first run's unit,
all of them in one run; --seconds is then --benchmark_min_time, which a
benchmark's own MinTime overrides; --modes does not apply, and --threads
only says how many CPUs --pin gives each run; with --benchmark_repetitions
after --, each run's median of its repetitions counts).

Each NAME=SOURCE names one build of that program (NAME: letters, digits, _ . -).
SOURCE is a git revision (built in a temporary worktree of this repository,
then the worktree and its Bazel output are removed), `.` (the working tree as
it is now, uncommitted changes included), or the path of a `throughput`
binary already built (a path: it has a /, as in ./throughput or ./fast_cpu_bench).
`--portable` builds with --config=portable (the AVX2 path). Each revision is
a fresh Bazel workspace: the shared disk cache (.bazelrc) makes most of the
build a cache hit, but what changed compiles, a minute or more on 2 cores.

Why alternate. A shared machine's speed moves from minute to minute by more
than most changes are worth: a VM's neighbours come and go, the clock turbos
and throttles. Measured one after the other, build A's five runs and then B's
five compare two different machines. So every round runs each build once, in
each mode and thread count, the builds' order turned by one place each round
(no build is always the first after an idle pause), and a change in the
machine hits all of them alike. The report gives each build's median and
range, its median over the first build's, in how many rounds it was faster
than the first build in the same round (with 5 rounds, 5 of 5 says more than
a median 2% apart), and, round by round, the median of its ratios to the
first build in the same round with the range that holds that median at 95%
(measuring.py's median_interval): many short rounds narrow it.

`--pin` runs each process on as many of this process's CPUs as it has
threads, the first of them (taskset -c 0 for one thread), so that a one-thread
run does not wander between cores; with --benchmark, on as many as the
largest of --threads (--pin --threads 1: core 0).

The report goes to stdout and, with --out DIR, to DIR/side_by_side.md, with
every run in DIR/side_by_side.json; progress goes to stderr. A run that fails,
or Ctrl-C, stops the measurement, and the rounds finished so far are still
reported. Flags after `--` go to every run (for throughput a model size,
--steps, --warmup), except those this script sets itself.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# This script's directory is on sys.path.
from measuring import (RunFailed, clean_env, cpu_flags, cpu_name, interval_text, json_lines,
                       median_interval, run_measured, write_report)

# The two programs it can measure, and the flags it sets on each (never after --).
PROGRAMS = {"throughput": ("--mode", "--threads", "--seconds"),
            "fast_cpu_bench": ("--benchmark_filter", "--benchmark_format", "--benchmark_min_time",
                               "--benchmark_report_aggregates_only",
                               "--benchmark_display_aggregates_only", "--benchmark_out",
                               "--benchmark_out_format")}
NANOSECONDS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}  # Google Benchmark's time units


def fail(message):
    raise SystemExit(f"side_by_side: {message}")


def instruction_sets():
    """Which of chapter 10's two vector paths this CPU can run: its AVX2, FMA and AVX-512 flags."""
    try:
        flags = cpu_flags("/proc/cpuinfo")
    except OSError:
        flags = set()
    return [name for name in ("avx2", "fma", "avx512f") if name in flags]


def load_average():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def now():
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime())


def run(command, cwd, what):
    """Runs a command, its output kept; on failure, stops with what it was and its last lines."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        fail(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n{tail}")
    return result.stdout


def is_binary(source):
    """A SOURCE that is a path (it has a /) to a file, not a revision or '.'."""
    return os.path.sep in source and os.path.isfile(source)


def quietly(command, cwd):
    """A clean-up step: run it, and go on to the next whatever happens (even Ctrl-C)."""
    try:
        subprocess.run(command, cwd=cwd, capture_output=True)
    except (OSError, KeyboardInterrupt):
        pass


class Builds:
    """The builds' binaries, copied into one temporary directory that is removed at the end."""

    def __init__(self, repo, bazel, portable, program):
        self.repo, self.bazel, self.portable = repo, bazel, portable
        self.target = f"//chapters/10_fast_cpu:{program}"
        self.built = os.path.join("bazel-bin", "chapters", "10_fast_cpu", program)
        self.dir = tempfile.mkdtemp(prefix="side_by_side.")

    def bazel_build(self, workspace, what):
        flags = ["--config=portable"] if self.portable else []
        run([self.bazel, "build", "-c", "opt", *flags, self.target], workspace, f"building {what}")
        built = os.path.join(workspace, self.built)
        if not os.path.isfile(built):
            fail(f"building {what}: no {self.built} after the build")
        return built

    def binary(self, name, source):
        """(the path of `name`'s binary, a description of where it came from)."""
        if is_binary(source):
            if not os.access(source, os.X_OK):
                fail(f"{name}={source}: not executable")
            return os.path.abspath(source), f"the binary {source}"
        copy = os.path.join(self.dir, "binaries", name)
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        if source == ".":
            shutil.copy(self.bazel_build(self.repo, f"{name} (the working tree)"), copy)
            head = run(["git", "rev-parse", "--short", "HEAD"], self.repo, "git rev-parse").strip()
            changed = run(["git", "status", "--porcelain", "--untracked-files=no"], self.repo,
                          "git status").strip()
            return copy, f"the working tree (HEAD {head}{', with changes' if changed else ''})"
        commit = subprocess.run(["git", "rev-parse", "--verify", "--quiet", source + "^{commit}"],
                                cwd=self.repo, capture_output=True, text=True).stdout.strip()
        if not commit:
            fail(f"{name}={source}: neither a binary, nor '.', nor a revision of {self.repo}")
        worktree = os.path.join(self.dir, "worktrees", name)
        try:
            run(["git", "worktree", "add", "--detach", worktree, commit], self.repo,
                "git worktree add")
            shutil.copy(self.bazel_build(worktree, f"{name} ({source})"), copy)
        finally:
            # Each step on its own: the worktree's Bazel server and output base
            # (in ~/.cache/bazel), then the worktree and git's note of it.
            quietly([self.bazel, "clean", "--expunge"], worktree)
            quietly(["git", "worktree", "remove", "--force", worktree], self.repo)
        return copy, f"revision {source} ({commit[:10]})"

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.repo:
            quietly(["git", "worktree", "prune"], self.repo)


def pinned_cpus(threads):
    """The first `threads` CPUs this process may run on."""
    allowed = sorted(os.sched_getaffinity(0))
    if threads > len(allowed):
        fail(f"--pin: {threads} threads but only {len(allowed)} CPUs to pin them to")
    return set(allowed[:threads])


def last_lines(text, n=10):
    return "\n".join(text.strip().splitlines()[-n:])


def measure_throughput(name, binary, mode, threads, args):
    """{"mode, threads": tokens/s}: one run, read from the JSON line throughput prints."""
    command = [binary, "--mode", mode, "--threads", str(threads), "--seconds", f"{args.seconds:g}",
               *args.program_flags]
    try:
        records = json_lines(command, clean_env(), pinned_cpus(threads) if args.pin else None)
    except RunFailed as failure:
        if failure.returncode == 0:
            records = []
        else:
            fail(f"{name}: {' '.join(command)}: {failure.status}\n{last_lines(failure.output)}")
    tokens = [r["tokens_per_s"] for r in records
              if isinstance(r, dict) and isinstance(r.get("tokens_per_s"), (int, float))]
    if not tokens:
        fail(f"{name}: no JSON line with tokens_per_s in the output of {' '.join(command)}")
    return {f"{mode}, {threads}": float(tokens[-1])}


def measure_benchmarks(name, binary, args):
    """{benchmark: its time per iteration}: one run of every benchmark the filter matches,
    in the unit of the first run's first benchmark (args.time_unit); with repetitions,
    each benchmark's median."""
    command = [binary, f"--benchmark_filter={args.benchmark}", "--benchmark_format=json",
               f"--benchmark_min_time={args.seconds:g}", *args.program_flags]
    try:
        cpus = pinned_cpus(max(args.threads)) if args.pin else None
        done = run_measured(command, clean_env(), cpus)
    except RunFailed as failure:
        fail(f"{name}: {' '.join(command)}: {failure.status}\n{last_lines(failure.output)}")
    output, errors = done.stdout, last_lines(done.stderr)
    try:
        entries = [b for b in json.loads(output)["benchmarks"]
                   if b.get("run_type", "iteration") == "iteration"]
    except (ValueError, KeyError, TypeError):
        fail(f"{name}: no Google Benchmark JSON in the output of {' '.join(command)}\n{errors}")
    if not entries:
        fail(f"{name}: no benchmark matches --benchmark {args.benchmark}\n{errors}")
    times = {}  # benchmark -> its times in ns, one per repetition
    for b in entries:
        if b.get("error_occurred") or b.get("skipped"):
            why = b.get("error_message") or b.get("skip_message") or "no reason given"
            fail(f"{name}: {b['name']} did not run: {why}")
        if b.get("time_unit") not in NANOSECONDS:
            fail(f"{name}: {b['name']}: unknown time unit {b.get('time_unit')!r}")
        ns = float(b["real_time"]) * NANOSECONDS[b["time_unit"]]
        times.setdefault(b["name"], []).append(ns)
    if not getattr(args, "time_unit", None):
        args.time_unit = entries[0]["time_unit"]
    scale = NANOSECONDS[args.time_unit]
    return {benchmark: statistics.median(ns) / scale for benchmark, ns in times.items()}


def summary(runs, names, rounds, higher_is_faster):
    """Per cell and build, over the first `rounds` rounds: median, range, median over the
    first build's, rounds faster than it, and the median of its round-by-round ratios to
    the first build with the range that holds it at 95% (median_interval)."""
    first = names[0]
    table = {}
    for cell, by_build in runs.items():
        rows = {}
        for name in names:
            values = by_build[name][:rounds]
            rows[name] = {"median": statistics.median(values), "min": min(values),
                          "max": max(values), "runs": values}
            if name != first:
                base = rows[first]["median"]
                rows[name]["over_first"] = rows[name]["median"] / base if base > 0 else None
                rows[name]["rounds_faster"] = sum(
                    (mine > theirs) if higher_is_faster else (mine < theirs)
                    for mine, theirs in zip(values, by_build[first]))
                ratios = [mine / theirs for mine, theirs in zip(values, by_build[first])
                          if theirs > 0]
                rows[name]["paired"] = median_interval(ratios)._asdict() if ratios else None
        table[cell] = rows
    return table


def number(value):
    """Whole numbers with thousands separators from 1,000 up, four significant digits below."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def markdown(info, table, names):
    first = names[0]
    rounds = info["rounds_done"]
    if info["program"] == "throughput":
        command = ["throughput", "--seconds", format(info["seconds"], "g")]
        measured = "Tokens/s"
    else:
        command = ["fast_cpu_bench", f"--benchmark_filter={info['benchmark']}",
                   f"--benchmark_min_time={info['seconds']:g}"]
        measured = f"Time per iteration in {info['time_unit']} (lower is faster)"
    how = ["`" + " ".join(command + info["program_flags"]) + "`"]
    if info["portable"]:
        how.append("built with --config=portable")
    if info["pin"]:
        cpus = max(info["threads"])
        how.append("pinned" if info["program"] == "throughput" else
                   f"pinned to {cpus} {'CPU' if cpus == 1 else 'CPUs'}")
    how.append(f"{rounds} {'round' if rounds == 1 else 'rounds'}")
    lines = [
        f"# {' / '.join(names)}, side by side",
        "",
        f"{info['cpu']} ({', '.join(info['instruction_sets']) or 'no AVX2'}), "
        f"{info['cpus']} CPUs; {info['start']} to {info['end']} UTC; "
        f"load average {info['load_start']} at the start, {info['load_end']} at the end.",
        "",
    ]
    if rounds < info["rounds"]:
        why = " / ".join(line for line in info.get("stopped", "").splitlines() if line.strip())
        lines += [f"**Stopped** after {rounds} of {info['rounds']} rounds: {why}", ""]
    lines += [f"- **{name}**: {info['sources'][name]}" for name in names]
    lines += [
        "",
        ", ".join(how) + ", the builds alternated run by run (their order turned by one each "
        f"round). {measured}: median (range); the ratio is the median over that of {first}, and "
        f"the rounds count those in which the build was faster than {first} in the same round. "
        f"Round by round: the median of the build's ratios to {first} in the same round, and "
        "the range of those ratios that holds their true median (the median over endless "
        "rounds) with at least 95% confidence (the sign test's; from 6 rounds on, else all of "
        "them, at the confidence given): a range that holds 1 has not told the builds apart.",
        "",
    ]
    cells = "mode, threads" if info["program"] == "throughput" else "benchmark"
    header = f"| {cells} |" + "".join(f" {name} |" for name in names)
    header += "".join(f" {name} / {first} | rounds {name} faster | {name} / {first}, round by "
                      "round |" for name in names[1:])
    lines += [header, "|---|" + "---:|" * (len(names) + 3 * (len(names) - 1))]
    for cell, rows in table.items():
        line = f"| {cell} |"
        for name in names:
            r = rows[name]
            line += f" {number(r['median'])} ({number(r['min'])}–{number(r['max'])}) |"
        for name in names[1:]:
            r = rows[name]
            ratio = "—" if r["over_first"] is None else f"{r['over_first']:.3f}×"
            line += (f" {ratio} | {r['rounds_faster']} of {len(r['runs'])} | "
                     f"{interval_text(r['paired'])} |")
        lines.append(line)
    return "\n".join(lines) + "\n"


def parse(argv):
    flags, program_flags = argv, []
    if "--" in argv:
        at = argv.index("--")
        flags, program_flags = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        usage="%(prog)s NAME=SOURCE NAME=SOURCE... [options] [-- the program's flags]",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("builds", nargs="+", metavar="NAME=SOURCE",
                        help="two or more builds; the others are compared with the first")
    parser.add_argument("--benchmark", metavar="REGEX",
                        help="measure fast_cpu_bench's benchmarks that match, not throughput")
    parser.add_argument("--modes", default="train,forward",
                        help="train, forward, generate (throughput only)")
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2 "
                        "(with --benchmark, the largest is how many CPUs --pin gives a run)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4, help="each run times at least this "
                        "long (with --benchmark: --benchmark_min_time)")
    parser.add_argument("--portable", action="store_true",
                        help="build with --config=portable (AVX2)")
    parser.add_argument("--pin", action="store_true", help="pin each run to its first N CPUs")
    parser.add_argument("--out", metavar="DIR", help="also write side_by_side.md and .json there")
    parser.add_argument("--bazel", default="bazel", help="the bazel command")
    parser.add_argument("--repo", help="the repository whose revisions are built "
                        "(default: the one that holds this script)")
    args = parser.parse_intermixed_args(flags)
    if args.benchmark == "":
        parser.error("--benchmark: an empty pattern (give a regular expression, '.' for all)")
    args.program = "fast_cpu_bench" if args.benchmark is not None else "throughput"
    args.program_flags = program_flags
    own = PROGRAMS[args.program]
    for flag in program_flags:
        if flag.split("=")[0] in own:
            parser.error(f"{flag} after --: {', '.join(own)} are set by this script")

    args.pairs = []
    for spec in args.builds:
        name, sep, source = spec.partition("=")
        if not sep or not source:
            parser.error(f"{spec!r}: want NAME=SOURCE (a revision, '.', or a binary's path)")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name in (".", ".."):
            parser.error(f"{name!r}: a build's name is letters, digits, _ . and -")
        if any(name == other for other, _ in args.pairs):
            parser.error(f"{name!r} names two builds")
        args.pairs.append((name, source))
    if len(args.pairs) < 2:
        parser.error("two or more builds, to compare")
    args.modes = list(dict.fromkeys(args.modes.split(",")))  # in order, once each
    for mode in args.modes:
        if mode not in ("train", "forward", "generate"):
            parser.error(f"--modes: {mode!r} is not train, forward or generate")
    try:
        args.threads = list(dict.fromkeys(int(t) for t in args.threads.split(",")))
    except ValueError:
        parser.error(f"--threads: {args.threads!r} is not a list of numbers")
    if any(t < 1 for t in args.threads):
        parser.error("--threads: each count at least 1")
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    return args


def main(argv):
    args = parse(argv)
    # Everything that can be checked is checked before the builds and the runs.
    if args.pin:
        pinned_cpus(max(args.threads))
    if args.out and os.path.exists(args.out) and not os.path.isdir(args.out):
        fail(f"--out {args.out}: not a directory")
    to_build = [name for name, source in args.pairs if not is_binary(source)]
    repo = ""
    if to_build:
        found = shutil.which(args.bazel)
        if found is None:
            fail(f"no {args.bazel} to build {', '.join(to_build)} with (--bazel)")
        args.bazel = os.path.abspath(found) if os.path.sep in args.bazel else args.bazel
        where = args.repo or os.path.dirname(os.path.realpath(__file__))
        if os.path.isdir(where):
            repo = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True,
                                  text=True, cwd=where).stdout.strip()
        if not repo:
            fail(f"no git repository at {where} to build {', '.join(to_build)} in")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        if not os.access(args.out, os.W_OK):
            fail(f"--out {args.out}: cannot write there")

    names = [name for name, _ in args.pairs]
    builds = Builds(repo, args.bazel, args.portable, args.program)
    throughput = args.program == "throughput"
    # cell -> build -> its values, round by round: throughput's cells known now,
    # fast_cpu_bench's from its first run (all its benchmarks in one).
    runs = {f"{m}, {t}": {n: [] for n in names} for m in args.modes for t in args.threads} \
        if throughput else {}
    order = []  # every run, in the order it ran
    info = {"cpu": cpu_name(), "instruction_sets": instruction_sets(),
            "cpus": len(os.sched_getaffinity(0)), "sources": {},
            "portable": args.portable if to_build else None, "pin": args.pin,
            "rounds": args.rounds, "seconds": args.seconds,
            "program": args.program, "benchmark": args.benchmark, "threads": args.threads,
            "program_flags": args.program_flags}
    binaries = {}
    try:
        for name, source in args.pairs:
            print(f"side_by_side: {name} = {source} ...", file=sys.stderr, flush=True)
            binaries[name], info["sources"][name] = builds.binary(name, source)
        info["start"], info["load_start"] = now(), load_average()
        try:
            # One process per step: throughput's a mode and thread count each,
            # fast_cpu_bench's all its benchmarks at once.
            steps = [(m, t) for m in args.modes for t in args.threads] if throughput else [None]
            for r in range(args.rounds):
                turned = names[r % len(names):] + names[:r % len(names)]
                for step in steps:
                    for name in turned:
                        if throughput:
                            values = measure_throughput(name, binaries[name], *step, args)
                        else:
                            values = measure_benchmarks(name, binaries[name], args)
                            if runs and set(values) != set(runs):
                                fail(f"{name}: its benchmarks differ from the others': "
                                     f"{', '.join(sorted(set(values) ^ set(runs)))}")
                        for cell, value in values.items():
                            runs.setdefault(cell, {n: [] for n in names})[name].append(value)
                            order.append({"round": r + 1, "cell": cell, "build": name,
                                          "value": value})
                            print(f"round {r + 1}/{args.rounds}  {cell:40s} {name:>12s}  "
                                  f"{value:14,.1f}", file=sys.stderr, flush=True)
        except BaseException as stop:  # a failed run, Ctrl-C, or anything else
            if isinstance(stop, KeyboardInterrupt):
                info["stopped"] = "interrupted (Ctrl-C)"
            else:
                info["stopped"] = str(stop) or type(stop).__name__
            raise
        finally:  # the rounds finished so far, reported even when a run failed
            info["end"], info["load_end"] = now(), load_average()
            info["rounds_done"] = min((len(v) for cell in runs.values() for v in cell.values()),
                                      default=0)
            info["time_unit"] = getattr(args, "time_unit", None)
            record = {"info": info, "runs": order}
            if info["rounds_done"] > 0:
                record["table"] = summary(runs, names, info["rounds_done"], throughput)
                report = markdown(info, record["table"], names)
            else:
                why = " / ".join(line for line in info.get("stopped", "").splitlines() if line)
                report = f"# {' / '.join(names)}: stopped before a round was finished: {why}\n"
            print(report, end="")
            if args.out:
                write_report(args.out, "side_by_side", report, record)
    finally:
        builds.remove()


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except KeyboardInterrupt:  # the rounds so far are reported already
        sys.exit(130)
