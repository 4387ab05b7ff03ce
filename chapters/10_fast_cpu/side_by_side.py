#!/usr/bin/python3
"""Chapter 10: two or more builds of the fast engine, measured side by side on this machine.

  python3 chapters/10_fast_cpu/side_by_side.py before=HEAD~1 after=.
  python3 chapters/10_fast_cpu/side_by_side.py before=HEAD~1 after=. --portable --pin --threads 1
  python3 chapters/10_fast_cpu/side_by_side.py old=df90db0 new=. -- --embed_size 128 --num_layers 4

Each NAME=SOURCE names one build of `throughput`. SOURCE is a git revision
(built in a temporary worktree of this repository, then the worktree and its
Bazel output are removed), `.` (the working tree as it is now, uncommitted
changes included), or the path of a `throughput` binary already built.
`--portable` builds with --config=portable (the AVX2 path).

Why alternate. A shared machine's speed moves from minute to minute by more
than most changes are worth: a VM's neighbours come and go, the clock turbos
and throttles. Measured one after the other, build A's five runs and then B's
five compare two different machines. So every round runs each build once, in
each mode and thread count, the builds' order turned by one place each round
(no build is always the first after an idle pause), and a change in the
machine hits all of them alike. The report gives each build's median and
range, its median over the first build's, and in how many rounds it was
faster than the first build in the same round: with 5 rounds, 5 of 5 says
more than a median 2% apart.

`--pin` runs each process on as many of this process's CPUs as it has
threads, the first of them (taskset -c 0 for one thread), so that a one-thread
run does not wander between cores.

The report (markdown, and JSON with every run) goes to --out when given, and
always to stdout; progress goes to stderr. Flags after `--` go to every
throughput run (a model size, --steps, --warmup).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from versus_pytorch import cpu_flags, cpu_name  # this script's directory is on sys.path

TARGET = "//chapters/10_fast_cpu:throughput"
BINARY = os.path.join("bazel-bin", "chapters", "10_fast_cpu", "throughput")


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


def run(command, cwd, what):
    """Runs a command, its output kept; on failure, stops with what it was and its last lines."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        fail(f"{what} failed (exit {result.returncode}): {' '.join(command)}\n{tail}")
    return result.stdout


class Builds:
    """The builds' binaries, copied into one temporary directory that is removed at the end."""

    def __init__(self, repo, bazel, portable):
        self.repo, self.bazel, self.portable = repo, bazel, portable
        self.dir = tempfile.mkdtemp(prefix="side_by_side.")

    def bazel_build(self, workspace, what):
        flags = ["--config=portable"] if self.portable else []
        run([self.bazel, "build", "-c", "opt", *flags, TARGET], workspace, f"building {what}")
        built = os.path.join(workspace, BINARY)
        if not os.path.isfile(built):
            fail(f"building {what}: no {BINARY} after the build")
        return built

    def binary(self, name, source):
        """(the path of `name`'s throughput binary, a description of where it came from)."""
        if is_binary(source):
            if not os.access(source, os.X_OK):
                fail(f"{name}={source}: not executable")
            return os.path.abspath(source), f"the binary {source}"
        copy = os.path.join(self.dir, name)
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
        worktree = os.path.join(self.dir, f"worktree-{name}")
        run(["git", "worktree", "add", "--detach", worktree, commit], self.repo, "git worktree add")
        try:
            shutil.copy(self.bazel_build(worktree, f"{name} ({source})"), copy)
        finally:
            # The worktree's Bazel output base would stay behind in ~/.cache/bazel.
            subprocess.run([self.bazel, "clean", "--expunge"], cwd=worktree, capture_output=True)
            subprocess.run(["git", "worktree", "remove", "--force", worktree], cwd=self.repo,
                           capture_output=True)
        return copy, f"revision {source} ({commit[:10]})"

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def is_binary(source):
    """A SOURCE that is a path (it has a /) to a file, not a revision or '.'."""
    return os.path.sep in source and os.path.isfile(source)


def pinned_cpus(threads):
    """The first `threads` CPUs this process may run on."""
    allowed = sorted(os.sched_getaffinity(0))
    if threads > len(allowed):
        fail(f"--pin: {threads} threads but only {len(allowed)} CPUs to pin them to")
    return set(allowed[:threads])


def measure(name, binary, mode, threads, args):
    """One run: its tokens/s, read from the JSON line throughput prints."""
    command = [binary, "--mode", mode, "--threads", str(threads), "--seconds", f"{args.seconds:g}",
               *args.throughput_flags]
    cpus = pinned_cpus(threads) if args.pin else None
    result = subprocess.run(command, capture_output=True, text=True,
                            preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    if result.returncode != 0:
        tail = "\n".join(result.stderr.strip().splitlines()[-10:])
        fail(f"{name}: {' '.join(command)} failed (exit {result.returncode})\n{tail}")
    for line in reversed(result.stdout.splitlines()):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "tokens_per_s" in record:
            return float(record["tokens_per_s"])
    fail(f"{name}: no JSON line with tokens_per_s in the output of {' '.join(command)}")


def summary(runs, names):
    """Per cell and build: median, range, median over the first build's, rounds faster than it."""
    first = names[0]
    table = {}
    for cell, by_build in runs.items():
        rows = {}
        for name in names:
            values = by_build[name]
            rows[name] = {
                "median": statistics.median(values),
                "min": min(values),
                "max": max(values),
                "runs": values,
            }
            if name != first:
                rows[name]["over_first"] = rows[name]["median"] / rows[first]["median"]
                rows[name]["rounds_faster"] = sum(
                    mine > theirs for mine, theirs in zip(values, by_build[first]))
        table[cell] = rows
    return table


def markdown(info, table, names):
    first = names[0]
    lines = [
        f"# {' / '.join(names)}, side by side",
        "",
        f"{info['cpu']} ({', '.join(info['instruction_sets']) or 'no AVX2'}), "
        f"{info['cpus']} CPUs; {info['start']} to {info['end']} UTC; "
        f"load average {info['load_start']} at the start, {info['load_end']} at the end.",
        "",
    ]
    for name in names:
        lines.append(f"- **{name}**: {info['sources'][name]}")
    lines += [
        "",
        f"`{' '.join(['throughput', '--seconds', str(info['seconds'])] + info['throughput_flags'])}`"
        f", {'--config=portable, ' if info['portable'] else ''}"
        f"{'pinned, ' if info['pin'] else ''}{info['rounds']} "
        f"{'round' if info['rounds'] == 1 else 'rounds'}, the builds alternated "
        "run by run (their order turned by one each round). Tokens/s: median (range); "
        f"the ratio is the median over {first}'s, and the rounds count those in which the "
        f"build was faster than {first} in the same round.",
        "",
    ]
    header = "| mode, threads |" + "".join(f" {name} |" for name in names)
    header += "".join(f" {name} / {first} | rounds {name} faster |" for name in names[1:])
    lines += [header, "|---|" + "---:|" * (len(names) + 2 * (len(names) - 1))]
    for cell, rows in table.items():
        line = f"| {cell} |"
        for name in names:
            r = rows[name]
            line += f" {r['median']:,.0f} ({r['min']:,.0f}–{r['max']:,.0f}) |"
        for name in names[1:]:
            r = rows[name]
            line += f" {r['over_first']:.3f}× | {r['rounds_faster']} of {len(r['runs'])} |"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(argv):
    flags, throughput_flags = argv, []
    if "--" in argv:
        at = argv.index("--")
        flags, throughput_flags = argv[:at], argv[at + 1:]
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("builds", nargs="+", metavar="NAME=SOURCE",
                        help="two or more builds; the first is the one the others are compared with")
    parser.add_argument("--modes", default="train,forward", help="train, forward, generate")
    parser.add_argument("--threads", default="1,2", help="thread counts, e.g. 1,2")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4, help="each run times at least this long")
    parser.add_argument("--portable", action="store_true", help="build with --config=portable (AVX2)")
    parser.add_argument("--pin", action="store_true", help="pin each run to its first N CPUs")
    parser.add_argument("--out", help="write the report to OUT.md and every run to OUT.json")
    parser.add_argument("--bazel", default="bazel", help="the bazel command")
    parser.add_argument("--repo", help="the repository whose revisions are built "
                        "(default: the one that holds this script)")
    args = parser.parse_args(flags)
    args.throughput_flags = throughput_flags

    pairs = []
    for spec in args.builds:
        name, sep, source = spec.partition("=")
        if not sep or not name or not source:
            parser.error(f"{spec!r}: want NAME=SOURCE (a revision, '.', or a binary's path)")
        if any(name == other for other, _ in pairs):
            parser.error(f"{name!r} names two builds")
        pairs.append((name, source))
    if len(pairs) < 2:
        parser.error("two or more builds, to compare")
    modes = args.modes.split(",")
    for mode in modes:
        if mode not in ("train", "forward", "generate"):
            parser.error(f"--modes: {mode!r} is not train, forward or generate")
    try:
        threads = [int(t) for t in args.threads.split(",")]
    except ValueError:
        parser.error(f"--threads: {args.threads!r} is not a list of numbers")
    if any(t < 1 for t in threads):
        parser.error("--threads: each count at least 1")
    if args.rounds < 1:
        parser.error("--rounds: at least 1")
    if args.pin:
        pinned_cpus(max(threads))  # fails now, not after the builds

    repo = args.repo or os.path.dirname(os.path.realpath(__file__))
    repo = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                          cwd=repo).stdout.strip() if os.path.isdir(repo) else ""
    if not repo and not all(is_binary(source) for _, source in pairs):
        fail(f"no git repository at {args.repo or 'this script'} to build revisions or '.' in")
    builds = Builds(repo, args.bazel, args.portable)
    try:
        binaries, sources = {}, {}
        for name, source in pairs:
            print(f"side_by_side: {name} = {source} ...", file=sys.stderr, flush=True)
            binaries[name], sources[name] = builds.binary(name, source)
        names = [name for name, _ in pairs]
        info = {
            "cpu": cpu_name(), "instruction_sets": instruction_sets(),
            "cpus": len(os.sched_getaffinity(0)), "sources": sources,
            "portable": args.portable, "pin": args.pin, "rounds": args.rounds,
            "seconds": args.seconds, "throughput_flags": throughput_flags,
            "start": time.strftime("%Y-%m-%d %H:%M", time.gmtime()), "load_start": load_average(),
        }
        cells = [f"{mode}, {t}" for mode in modes for t in threads]
        runs = {cell: {name: [] for name in names} for cell in cells}
        order = []  # every run in the order it ran
        for r in range(args.rounds):
            turned = names[r % len(names):] + names[:r % len(names)]
            for mode in modes:
                for t in threads:
                    for name in turned:
                        tokens = measure(name, binaries[name], mode, t, args)
                        runs[f"{mode}, {t}"][name].append(tokens)
                        order.append({"round": r + 1, "mode": mode, "threads": t, "build": name,
                                      "tokens_per_s": tokens})
                        print(f"round {r + 1}/{args.rounds}  {mode:8s} {t} thread(s)  "
                              f"{name:>12s}  {tokens:12,.1f} tokens/s", file=sys.stderr, flush=True)
        info["end"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
        info["load_end"] = load_average()
    finally:
        builds.remove()
    table = summary(runs, names)
    report = markdown(info, table, names)
    print(report, end="")
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out + ".md", "w") as f:
            f.write(report)
        with open(args.out + ".json", "w") as f:
            json.dump({"info": info, "table": table, "runs": order}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
