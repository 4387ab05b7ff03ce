#!/usr/bin/python3
"""Chapter 15: our BPE encoder against gpt-tokenizer on node, encoding Austen, in one run.

  bazel run //chapters/15_bpe:versus_gpt_tokenizer               # about a minute
  bazel run //chapters/15_bpe:versus_gpt_tokenizer -- --quick    # 1 round of 2 runs
  bazel run //chapters/15_bpe:versus_gpt_tokenizer -- --out /tmp/versus

Needs node and tools/setup.sh's third_party/npm/node_modules (gpt-tokenizer
4.0.0, whose r50k_base encoding is GPT-2's). Run it on a quiet machine: it
records the load average before and after, and how many cores other
processes kept busy while it ran, and says so in the results.

R rounds (--rounds), alternating which side goes first, so that a change in
the machine's load hits both alike. In each round, one fresh process per side:
  ours   bpe_bench, --benchmark_filter'ed to BM_Gpt2AustenFirstRun,
         BM_Gpt2Austen, BM_Gpt2AustenWarm and BM_Gpt2AustenParallel, each
         repeated N times (--runs) at one encode per repetition;
  node   gpt_tokenizer_bench.js, N runs of each kind.
The same three timings on both sides, all wall-clock, one thread:
  first run    the process's first encode (the vocabulary already loaded):
               nothing warm, not the JIT, not the piece cache;
  cold cache   every encode starts with an empty piece cache (ours: a fresh
               BpeEncoder, as Bpe::encode; node: clearMergeCache() first),
               the process otherwise warm: the honest steady-state number;
  warm cache   the cache kept from an encode of the same text just before.
Each is the median over all rounds' runs (first run: over the rounds); MB is
10^6 bytes of UTF-8 text (Austen is 4,025,029). Both sides' ids are checked
against tests/references/15_bpe/gpt2_cases.json (count and FNV-1a checksum):
bpe_bench stops with an error otherwise, and so does this script.

Writes versus_gpt_tokenizer.md and .json to --out (default:
chapters/15_bpe/results/ in the workspace; under `bazel test`, $TEST_TMPDIR).
versus_gpt_tokenizer_test runs it with 1 round of 1 run, as a check that it works.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

AUSTEN_FILTER = "^BM_Gpt2Austen(FirstRun|Warm|Parallel)?/"
KINDS = ["first", "cold", "warm"]


class RunFailed(Exception):
    pass


def user_path(path):
    """A relative path from the command line is relative to where `bazel run` started."""
    return os.path.join(os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd()), path)


def out_dir(args):
    if args.out:
        return user_path(args.out)
    if os.environ.get("TEST_TMPDIR"):  # under `bazel test`: nothing written to the workspace
        return os.environ["TEST_TMPDIR"]
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not workspace:
        sys.exit("versus_gpt_tokenizer: give --out DIR (not run by `bazel run`)")
    return os.path.join(workspace, "chapters", "15_bpe", "results")


# --- The machine ---------------------------------------------------------------------------

def cpuinfo():
    """Model name and the flags every processor lists, from /proc/cpuinfo."""
    model, flags = None, None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags":
                    these = set(value.split())
                    flags = these if flags is None else flags & these
    except OSError:
        pass
    model = model or platform.processor() or "unknown"
    return model, sorted(flags or [])


def lscpu_field(name):
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    return None


def machine():
    model, flags = cpuinfo()
    avx512 = [f for f in flags if f.startswith("avx512")]
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    info = {
        "cpu": model,
        "cores": os.cpu_count(),
        "isa": isa,
        "avx512_flags": avx512,
        "hypervisor": lscpu_field("Hypervisor vendor"),
        "l2_cache": lscpu_field("L2 cache"),
        "l3_cache": lscpu_field("L3 cache"),
        "kernel": platform.release(),
    }
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if workspace:  # read-only git: no index refresh (--no-optional-locks)
        git = ["git", "--no-optional-locks", "-C", workspace]
        try:
            commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True,
                                    text=True, timeout=10).stdout.strip()
            dirty = subprocess.run(git + ["status", "--porcelain"], capture_output=True,
                                   text=True, timeout=30).stdout.strip()
            info["commit"] = (commit or "unknown") + ("+local-changes" if dirty else "")
        except (OSError, subprocess.SubprocessError):
            pass
    return info


def busy_jiffies():
    """All CPUs' non-idle time so far, in clock ticks (/proc/stat's first line)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle  # user nice system idle iowait irq softirq steal


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- The two sides -------------------------------------------------------------------------

def run(command, what):
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RunFailed(f"{what} failed ({result.returncode}): {' '.join(command)}\n"
                        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def ours(args):
    """One bpe_bench process: {kind: [ms, ...]}, the parallel runs, and the details."""
    out = run([args.bench, f"--benchmark_filter={AUSTEN_FILTER}",
               f"--benchmark_repetitions={args.runs}", "--benchmark_min_time=0.001",
               "--benchmark_format=json"], "bpe_bench")
    data = json.loads(out)
    times = {kind: [] for kind in KINDS + ["parallel"]}
    cpu = {kind: [] for kind in KINDS}
    details = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "iteration":
            continue
        if b.get("error_occurred"):
            raise RunFailed(f"bpe_bench: {b['name']}: {b.get('error_message')}")
        name = b["run_name"].split("/")[0]
        kind = {"BM_Gpt2AustenFirstRun": "first", "BM_Gpt2Austen": "cold",
                "BM_Gpt2AustenWarm": "warm", "BM_Gpt2AustenParallel": "parallel"}[name]
        if b["iterations"] != 1:
            raise RunFailed(f"bpe_bench: {b['name']} ran {b['iterations']} iterations, not 1")
        if kind == "first" and "the process's first encode" not in b.get("label", ""):
            raise RunFailed(f"bpe_bench: {b['name']} was not the process's first encode")
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]
        times[kind].append(b["real_time"] * scale)
        if kind in cpu:
            cpu[kind].append(b["cpu_time"] * scale)
        details["tokens"] = int(b["token_count"])
        if kind == "parallel":
            details["threads"] = int(b["threads"])
        details.setdefault("labels", {})[kind] = b.get("label", "")
    missing = [kind for kind, ms in times.items() if not ms]
    if missing:
        raise RunFailed(f"bpe_bench reported no {', '.join(missing)} runs")
    details["library_build"] = data.get("context", {}).get("library_build_type")
    return times, cpu, details


def node(args, reference):
    out = run(["node", args.node_script, args.corpus, "--runs", str(args.runs),
               "--expect", str(reference["tokens"])], "gpt_tokenizer_bench.js")
    data = json.loads(out)
    if data["fnv1a_of_ids"] != reference["fnv1a_of_ids"]:
        raise RunFailed("gpt-tokenizer's ids for Austen differ from the reference's checksum")
    times = {"first": [data["first_ms"]], "cold": data["cold_ms"], "warm": data["warm_ms"]}
    cpu = {"first": [data["cpu_ms"]["first"]], "cold": data["cpu_ms"]["cold"],
           "warm": data["cpu_ms"]["warm"]}
    return times, cpu, data


# --- Summaries -----------------------------------------------------------------------------

def summary(ms_list, nbytes):
    mb_s = sorted(nbytes / (ms / 1e3) / 1e6 for ms in ms_list)
    return {"mb_per_s": statistics.median(mb_s), "mb_per_s_min": mb_s[0],
            "mb_per_s_max": mb_s[-1], "ms": statistics.median(ms_list), "runs": len(ms_list)}


def cell(s):
    return f"{s['mb_per_s']:.1f} MB/s ({s['ms']:.0f} ms)"


def markdown(result):
    m, o, n, r = result["machine"], result["ours"], result["node"], result["ratio"]
    load = result["load"]
    avx = f"{m['isa']}" + (f" ({' '.join(m['avx512_flags'])})" if m["avx512_flags"] else "")
    lines = [
        "# Our BPE against gpt-tokenizer: encoding Austen with GPT-2's vocabulary",
        "",
        f"Measured {result['date']} on **{m['cpu']}**, {m['cores']} cores"
        + (f" (a {m['hypervisor']} virtual machine)" if m.get("hypervisor") else "")
        + f", {avx}; L2 {m.get('l2_cache')}, L3 {m.get('l3_cache')}. "
        f"Written by `bazel run //chapters/15_bpe:versus_gpt_tokenizer`"
        + (f" at commit {m['commit']}" if m.get("commit") else "") + ".",
        "",
        f"How busy the machine was (it is shared): load average "
        f"{load['before'][0]:.2f} / {load['before'][1]:.2f} / {load['before'][2]:.2f} "
        f"(1 / 5 / 15 min) before, {load['after'][0]:.2f} / {load['after'][1]:.2f} / "
        f"{load['after'][2]:.2f} after; other processes kept "
        f"{load['other_cores_busy']:.2f} of the {m['cores']} cores busy on average "
        f"during the {result['seconds']:.0f} s run (/proc/stat's busy time less this run's).",
        "",
        f"{result['rounds']} rounds, alternating which side starts; each a fresh process "
        f"per side doing {result['runs']} runs of each kind. Medians over all runs (first run: "
        f"over the rounds); MB = 10^6 bytes of text, wall-clock time, one thread. On a "
        f"shared or virtual machine the speed of the same code drifts from minute to minute: "
        f"compare the two sides of one run (the rounds alternate for that), not two runs.",
        "",
        "| encoder | first run | cold cache | warm cache | tokens | ids |",
        "|---|---:|---:|---:|---:|---|",
        f"| ours (`bpe_bench`, C++, `-c opt -march=native`) | {cell(o['first'])} | "
        f"{cell(o['cold'])} | {cell(o['warm'])} | {o['tokens']:,} | = reference |",
        f"| {n['encoder']}, node {n['node']} | {cell(n['first'])} | {cell(n['cold'])} | "
        f"{cell(n['warm'])} | {n['tokens']:,} | = reference |",
        f"| **ours / gpt-tokenizer** | **{r['first']:.1f}x** | **{r['cold']:.1f}x** | "
        f"**{r['warm']:.1f}x** | | |",
        f"| ours, `encode_parallel` on all {o['threads']} cores (cold caches) | | "
        f"{cell(o['parallel'])} | | {o['tokens']:,} | = reference |",
        "",
        "- first run: the process's first encode, the vocabulary already loaded "
        f"(gpt-tokenizer's `require` took {n['load_ms_median']:.0f} ms, not counted): "
        "nothing warm, neither node's JIT nor a piece cache.",
        "- cold cache: each encode starts with an empty piece cache (ours: a fresh "
        "`BpeEncoder`, as `Bpe::encode` does; gpt-tokenizer: `clearMergeCache()` first), "
        "in a process that has encoded before. The honest steady-state number.",
        "- warm cache: the piece cache kept from an encode of the same text just before "
        "(ours: one `BpeEncoder`; gpt-tokenizer: its merge cache, 100,000 pieces).",
        f"- ids: both sides' {o['tokens']:,} ids match the reference's count and FNV-1a "
        "checksum (tests/references/15_bpe/gpt2_cases.json) in every run.",
        "",
        "The goal (the issue): at least 50 MB/s on one thread, at least 8x gpt-tokenizer. "
        f"Cold cache: {o['cold']['mb_per_s']:.1f} MB/s "
        f"({'met' if o['cold']['mb_per_s'] >= 50 else 'NOT met'}), "
        f"{r['cold']:.1f}x ({'met' if r['cold'] >= 8 else 'NOT met'}).",
        "",
        "Slowest and fastest run of each kind:",
        "",
        "| encoder | first run | cold cache | warm cache |",
        "|---|---:|---:|---:|",
    ]
    spread = lambda s: f"{s['mb_per_s_min']:.1f} to {s['mb_per_s_max']:.1f} MB/s"
    for label, side in (("ours", o), ("gpt-tokenizer", n)):
        lines.append(f"| {label} | {' | '.join(spread(side[kind]) for kind in KINDS)} |")
    lines.append(f"| ours, all {o['threads']} cores | | {spread(o['parallel'])} | |")
    oc, nc, rc = o["cpu"], n["cpu"], r["cpu"]
    lines += [
        "",
        "The same runs by CPU time instead of wall-clock time (ours: the encoding "
        "thread's; node: the whole process's, its garbage collector and compiler threads "
        "too), which time-sharing with other processes changes less than wall-clock time "
        "(their use of the caches still counts):",
        "",
        "| encoder | first run | cold cache | warm cache |",
        "|---|---:|---:|---:|",
        f"| ours | {' | '.join(cell(oc[kind]) for kind in KINDS)} |",
        f"| gpt-tokenizer | {' | '.join(cell(nc[kind]) for kind in KINDS)} |",
        f"| **ours / gpt-tokenizer** | {' | '.join(f'**{rc[kind]:.1f}x**' for kind in KINDS)} |",
    ]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench", required=True, help="the bpe_bench binary")
    p.add_argument("--node_script", required=True, help="gpt_tokenizer_bench.js")
    p.add_argument("--corpus", required=True, help="austen.txt")
    p.add_argument("--reference", required=True, help="tests/references/15_bpe/gpt2_cases.json")
    p.add_argument("--out", default="", help="directory for the results (relative: to the "
                   "directory bazel run was started from)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=5, help="runs of each kind per process")
    p.add_argument("--quick", action="store_true", help="1 round of 2 runs")
    args = p.parse_args()
    if args.quick:
        args.rounds, args.runs = 1, 2
    if args.rounds < 1 or args.runs < 1:
        p.error("--rounds and --runs must be at least 1")
    with open(args.reference) as f:
        reference = json.load(f)["austen"]
    nbytes = os.path.getsize(args.corpus)
    if nbytes != reference["bytes"]:
        raise RunFailed(f"{args.corpus} is {nbytes} bytes, the reference's Austen "
                        f"{reference['bytes']}")

    info = machine()
    load_before = os.getloadavg()
    if load_before[0] > 0.5:
        print(f"versus_gpt_tokenizer: the load average is {load_before[0]:.2f}: other work "
              "will slow both sides (the results say so)", flush=True)
    date = datetime.datetime.now(datetime.timezone.utc)
    start, busy0, cpu0 = time.time(), busy_jiffies(), children_cpu_seconds()
    our_times = {kind: [] for kind in KINDS + ["parallel"]}
    node_times = {kind: [] for kind in KINDS}
    our_cpu = {kind: [] for kind in KINDS}
    node_cpu = {kind: [] for kind in KINDS}
    our_details, node_runs = {}, []
    for r in range(args.rounds):
        order = ["ours", "node"] if r % 2 == 0 else ["node", "ours"]
        for side in order:
            if side == "ours":
                times, cpu, our_details = ours(args)
                for kind, ms in times.items():
                    our_times[kind] += ms
                for kind, ms in cpu.items():
                    our_cpu[kind] += ms
            else:
                times, cpu, data = node(args, reference)
                node_runs.append(data)
                for kind, ms in times.items():
                    node_times[kind] += ms
                for kind, ms in cpu.items():
                    node_cpu[kind] += ms
        print(f"round {r + 1}/{args.rounds}: ours cold "
              f"{nbytes / statistics.median(our_times['cold']) / 1e3:.1f} MB/s, "
              f"gpt-tokenizer cold {nbytes / statistics.median(node_times['cold']) / 1e3:.1f} "
              "MB/s (medians so far)", flush=True)
    seconds = time.time() - start
    busy1, cpu1 = busy_jiffies(), children_cpu_seconds()
    load_after = os.getloadavg()
    other = None
    if busy0 is not None and busy1 is not None:
        ticks = os.sysconf("SC_CLK_TCK")
        other = max(0.0, ((busy1 - busy0) / ticks - (cpu1 - cpu0)) / seconds)

    if our_details["tokens"] != reference["tokens"]:
        raise RunFailed(f"bpe_bench reported {our_details['tokens']} tokens")
    ours_summary = {kind: summary(ms, nbytes) for kind, ms in our_times.items()}
    ours_summary.update(tokens=our_details["tokens"], threads=our_details["threads"],
                        library_build=our_details["library_build"], times_ms=our_times,
                        cpu={kind: summary(ms, nbytes) for kind, ms in our_cpu.items()},
                        cpu_times_ms=our_cpu)
    last = node_runs[-1]
    node_summary = {kind: summary(ms, nbytes) for kind, ms in node_times.items()}
    node_summary.update(encoder=last["encoder"], node=last["node"], v8=last["v8"],
                        tokens=last["tokens"], fnv1a_of_ids=last["fnv1a_of_ids"],
                        load_ms_median=statistics.median(d["load_ms"] for d in node_runs),
                        times_ms=node_times,
                        cpu={kind: summary(ms, nbytes) for kind, ms in node_cpu.items()},
                        cpu_times_ms=node_cpu)
    ratio = {kind: ours_summary[kind]["mb_per_s"] / node_summary[kind]["mb_per_s"]
             for kind in KINDS}
    ratio["cpu"] = {kind: ours_summary["cpu"][kind]["mb_per_s"] /
                    node_summary["cpu"][kind]["mb_per_s"] for kind in KINDS}
    result = {
        "date": date.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": info,
        "load": {"before": list(load_before), "after": list(load_after),
                 "other_cores_busy": other if other is not None else float("nan")},
        "seconds": seconds,
        "rounds": args.rounds,
        "runs": args.runs,
        "corpus": {"file": os.path.basename(args.corpus), "bytes": nbytes,
                   "tokens": reference["tokens"], "fnv1a_of_ids": reference["fnv1a_of_ids"]},
        "ours": ours_summary,
        "node": node_summary,
        "ratio": ratio,
        "goal": {"cold_mb_per_s_at_least_50": ours_summary["cold"]["mb_per_s"] >= 50,
                 "cold_ratio_at_least_8": ratio["cold"] >= 8},
    }
    md = markdown(result)
    directory = out_dir(args)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "versus_gpt_tokenizer.md"), "w") as f:
        f.write(md)
    with open(os.path.join(directory, "versus_gpt_tokenizer.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(md)
    print(f"wrote {os.path.join(directory, 'versus_gpt_tokenizer')}.md and .json "
          f"({seconds:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except RunFailed as failure:
        sys.exit(f"versus_gpt_tokenizer: {failure}")
