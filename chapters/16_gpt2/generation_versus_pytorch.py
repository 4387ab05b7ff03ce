#!/usr/bin/python3
"""Chapter 16: our GPT-2 124M generation against PyTorch's, beside the memory bandwidth, in one run.

  bazel run //chapters/16_gpt2:generation_versus_pytorch              # about 6 minutes
  bazel run //chapters/16_gpt2:generation_versus_pytorch -- --quick   # 1 round, a small search
  bazel run //chapters/16_gpt2:generation_versus_pytorch -- --out /tmp/versus

Both sides generate with a KV cache on random weights at GPT-2's 124M shape,
batch 1, float32, greedy: a --prompt_tokens prompt, then --tokens new tokens
(each new token after the first is one forward pass of one token), timed
after an untimed warm-up of a few tokens, tokens/s = tokens / wall seconds.
  ours     gpt2_generate_throughput (chapter 10's generate_with_kv_cache);
  PyTorch  gpt2_reference.py generate (tests/reference/gpt2.py's KV cache).
Run it on a quiet machine: it records the load average before and after and
how many cores other processes kept busy while it ran, and says so.

1. PyTorch's settings, as chapter 10's versus_pytorch.py chooses them (its
   functions, imported from --chapter10): OpenBLAS reads OPENBLAS_CORETYPE
   and OPENBLAS_NUM_THREADS when it loads, so one process per setting; core
   types whose kernels need instructions this CPU lacks (CORETYPE_NEEDS
   against /proc/cpuinfo's flags) are skipped; with n threads, both ways to
   use n cores (torch n threads and 1 OpenBLAS thread, or 1 and n); a short
   generation each, and the fastest setting per thread count is kept.
2. R rounds (--rounds) per thread count (--threads). A round first reads the
   memory bandwidth (memory_bandwidth --json: 1 GiB, 1 thread and every core;
   a virtual machine's bandwidth drifts with its neighbours on the host, by
   half from one minute to the next on the course's 2-core Xeon), then runs
   both sides, the side that goes first alternating from round to round, so
   that a change in the machine's load hits both alike. Per run: the GB/s it
   read (decode_traffic.h's bytes per token: every weight once, the tied wte
   once as the output layer, one row of wpe, plus the keys and values
   attention reads) and its share of its round's bandwidth (1 thread: the
   1-thread reading; more: the all-cores reading). The medians over the
   rounds, and the ratio ours / PyTorch.

Writes generation_versus_pytorch.md and .json to --out (default:
chapters/16_gpt2/results/ in the workspace).
"""
import argparse
import datetime
import importlib.util
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time


def load_chapter10(path):
    """chapters/10_fast_cpu/versus_pytorch.py as a module: CORETYPE_NEEDS, missing_flags,
    cpu_flags, clean_env, json_lines, RunFailed (it reads spin_waiting.h beside it)."""
    spec = importlib.util.spec_from_file_location("versus_pytorch", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def out_dir(args, ch10):
    if args.out:
        return ch10.user_path(args.out)
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not workspace:
        sys.exit("generation_versus_pytorch: give --out DIR (not run by `bazel run`)")
    return os.path.join(workspace, "chapters", "16_gpt2", "results")


# --- The machine ---------------------------------------------------------------------------

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


def machine(ch10, flags):
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    info = {
        "cpu": ch10.cpu_name(),
        "cores": os.cpu_count(),
        "isa": isa,
        "avx512_flags": sorted(f for f in flags if f.startswith("avx512")),
        "hypervisor": lscpu_field("Hypervisor vendor"),
        "l2_cache": lscpu_field("L2 cache"),
        "l3_cache": lscpu_field("L3 cache"),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
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

def run_ours(args, ch10, threads, tokens):
    command = [args.ours, "--preset", args.preset, "--threads", str(threads), "--tokens",
               str(tokens), "--prompt_tokens", str(args.prompt_tokens), "--seed", str(args.seed)]
    return ch10.json_lines(command, ch10.clean_env())[0]


def run_pytorch(args, ch10, setting, tokens):
    command = ["/usr/bin/python3", "-B", args.reference, "generate", "--preset", args.preset,
               "--tokens", str(tokens), "--prompt_tokens", str(args.prompt_tokens),
               "--threads", str(setting["torch_threads"]), "--seed", str(args.seed), "--json"]
    env = ch10.clean_env(setting["openblas_threads"], setting["openblas_coretype"])
    return ch10.json_lines(command, env)[0]


def measure_bandwidth(args, ch10):
    command = [args.bandwidth, "--json", "--passes", str(args.bandwidth_passes)]
    return ch10.json_lines(command, ch10.clean_env())[0]


def setting_name(s):
    return (f"torch threads {s['torch_threads']}, OPENBLAS_NUM_THREADS {s['openblas_threads']}, "
            f"OPENBLAS_CORETYPE {s['openblas_coretype']}")


def search_pytorch(args, ch10, flags, thread_counts):
    """Chapter 10's way: every core type this CPU runs, both splits of n cores; the fastest per n."""
    coretypes, skipped = [], []
    for coretype in args.coretypes.split(","):
        missing = ch10.missing_flags(coretype, flags)
        if missing:
            skipped.append({"openblas_coretype": coretype, "missing_flags": missing})
            print(f"skipped OPENBLAS_CORETYPE {coretype}: its kernels need {' '.join(missing)}, "
                  f"which /proc/cpuinfo does not list", flush=True)
        else:
            coretypes.append(coretype)
    trials, failed, best = [], [], {}
    for n in thread_counts:
        splits = [(1, 1)] if n == 1 else [(n, 1), (1, n)]  # (torch threads, OpenBLAS threads)
        for coretype in coretypes:
            for torch_threads, blas_threads in splits:
                setting = {"threads": n, "torch_threads": torch_threads,
                           "openblas_threads": blas_threads, "openblas_coretype": coretype}
                try:
                    r = run_pytorch(args, ch10, setting, args.search_tokens)
                except ch10.RunFailed as failure:
                    failed.append(dict(setting, status=failure.status,
                                       output_tail=failure.output[-2000:]))
                    print(f"  failed   {setting_name(setting)}: {failure.status}", flush=True)
                    continue
                trials.append(dict(setting, tokens_per_s=r["tokens_per_s"]))
                print(f"  {n} cores: {r['tokens_per_s']:7.2f} tokens/s   {setting_name(setting)}",
                      flush=True)
        candidates = [t for t in trials if t["threads"] == n]
        if not candidates:
            sys.exit(f"generation_versus_pytorch: no PyTorch setting ran for {n} threads")
        best[n] = max(candidates, key=lambda t: t["tokens_per_s"])
        print(f"chosen for {n} cores: {setting_name(best[n])}", flush=True)
    return best, trials, skipped, failed


def summary(runs):
    """Medians over the rounds (and the slowest and fastest round's tokens/s)."""
    rates = [r["tokens_per_s"] for r in runs]
    return {"tokens_per_s": statistics.median(rates), "tokens_per_s_min": min(rates),
            "tokens_per_s_max": max(rates), "seconds": statistics.median(r["seconds"] for r in runs),
            "gb_per_s": statistics.median(r["gb_per_s"] for r in runs),
            "bandwidth_share": statistics.median(r["bandwidth_share"] for r in runs)}


def bandwidth_for(probe, threads):
    """The probe's GB/s for `threads` threads: its 1-thread reading, or its all-cores one."""
    return probe["read_gb_per_s_1_thread"] if threads == 1 else probe["read_gb_per_s_all"]


def compare(args, ch10, thread_counts, best):
    """R rounds per thread count: the bandwidth probe, then ours and PyTorch's (the side going
    first alternating); each run's GB/s as a share of its own round's bandwidth."""
    rows = []
    for n in thread_counts:
        ours, theirs, probes = [], [], []
        for round_ in range(args.rounds):
            probes.append(measure_bandwidth(args, ch10))
            sides = [("ours", lambda: run_ours(args, ch10, n, args.tokens)),
                     ("pytorch", lambda: run_pytorch(args, ch10, best[n], args.tokens))]
            if round_ % 2:
                sides.reverse()
            for name, run in sides:
                (ours if name == "ours" else theirs).append(run())
            bandwidth = bandwidth_for(probes[-1], n)
            for r in (ours[-1], theirs[-1]):
                r["gb_per_s"] = r["tokens_per_s"] * ours[0]["bytes_per_token"] / 1e9
                r["bandwidth_gb_per_s"] = bandwidth
                r["bandwidth_share"] = r["gb_per_s"] / bandwidth
            print(f"  {n} threads, round {round_ + 1}/{args.rounds} ({sides[0][0]} first), "
                  f"bandwidth {bandwidth:5.1f} GB/s: ours {ours[-1]['tokens_per_s']:6.2f} tokens/s "
                  f"({100 * ours[-1]['bandwidth_share']:3.0f}%), PyTorch "
                  f"{theirs[-1]['tokens_per_s']:6.2f} tokens/s "
                  f"({100 * theirs[-1]['bandwidth_share']:3.0f}%)", flush=True)
        o, t = summary(ours), summary(theirs)
        bandwidths = [bandwidth_for(p, n) for p in probes]
        rows.append({"threads": n, "ours": o, "pytorch": t,
                     "ratio": o["tokens_per_s"] / t["tokens_per_s"],
                     "bytes_per_token": ours[0]["bytes_per_token"],
                     "bandwidth_gb_per_s": statistics.median(bandwidths),
                     "bandwidth_gb_per_s_min": min(bandwidths),
                     "bandwidth_gb_per_s_max": max(bandwidths),
                     "one_stream_gb_per_s": statistics.median(
                         p["one_stream_gb_per_s_1_thread" if n == 1 else "one_stream_gb_per_s_all"]
                         for p in probes),
                     "pytorch_setting": setting_name(best[n]),
                     "runs": {"ours": ours, "pytorch": theirs, "bandwidth": probes}})
    return rows


# --- The report ----------------------------------------------------------------------------

def markdown(args, info, rows, search):
    torch_version = rows[0]["runs"]["pytorch"][0].get("torch", "?") if rows else "?"
    out = [
        "# GPT-2 124M generation: ours against PyTorch, beside the memory bandwidth", "",
        f"Measured {info['date']} on **{info['cpu']}**, {info['cores']} cores "
        f"({info.get('hypervisor') or 'no'} hypervisor), {info['isa']}; L2 {info.get('l2_cache')}, "
        f"L3 {info.get('l3_cache')}, {info['memory_gib']} GiB of memory. Written by "
        f"`bazel run //chapters/16_gpt2:generation_versus_pytorch` at commit "
        f"{info.get('commit', 'unknown')}.", "",
        f"How busy the machine was (it is shared): load average {info['load_before']} "
        f"(1 / 5 / 15 min) before, {info['load_after']} after; other processes kept "
        f"{info['others_busy_cores']:.2f} of the {info['cores']} cores busy on average during the "
        f"{info['seconds']:.0f} s run (/proc/stat's busy time less this run's). A virtual "
        f"machine's memory bandwidth also drifts with what its neighbours on the host do: the "
        f"rounds' own readings below.", "",
        f"Both sides: random weights at GPT-2's 124M shape (L=12, H=12, C=768, V=50257, P=1024, "
        f"tied output layer), batch 1, float32, greedy, a KV cache; a {args.prompt_tokens}-token "
        f"prompt, then {args.tokens} new tokens timed after an untimed warm-up; tokens/s = new "
        f"tokens / wall seconds. Ours: `gpt2_generate_throughput` (chapter 10's "
        f"`generate_with_kv_cache`, C++, `-c opt -march=native`). PyTorch {torch_version}: "
        f"`gpt2_reference.py generate` (tests/reference/gpt2.py), its fastest setting of the "
        f"search below. {args.rounds} rounds per thread count; each round reads the memory "
        f"bandwidth first (`memory_bandwidth`: 1 GiB, 1, 4, 8 and 16 streams per thread, best of "
        f"{args.bandwidth_passes} passes each), then runs both sides, the side going first "
        f"alternating. Medians over the rounds; a share is a run's GB/s over its own round's "
        f"bandwidth (1 thread: the 1-thread reading; more: the all-cores reading).", "",
        "| threads | ours tokens/s | PyTorch tokens/s | ours / PyTorch | bytes per token "
        "| read bandwidth | ours GB/s (share) | PyTorch GB/s (share) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        o, t = r["ours"], r["pytorch"]
        out.append(f"| {r['threads']} | {o['tokens_per_s']:.1f} | {t['tokens_per_s']:.1f} | "
                   f"{r['ratio']:.2f}x | {r['bytes_per_token'] / 1e6:.1f} MB | "
                   f"{r['bandwidth_gb_per_s']:.1f} GB/s | "
                   f"{o['gb_per_s']:.1f} ({100 * o['bandwidth_share']:.0f}%) | "
                   f"{t['gb_per_s']:.1f} ({100 * t['bandwidth_share']:.0f}%) |")
    out += ["", "Bytes per token (`decode_traffic.h`): every weight once (the tied wte once, as the "
            "output layer; one row of wpe), plus the keys and values attention reads at each "
            "position, averaged over the run; the same count for both sides (what the model must "
            "read, whoever runs it).", "",
            "Slowest and fastest round:", "",
            "| threads | read bandwidth | one stream per thread | ours | PyTorch "
            "| PyTorch's setting |", "|---:|---|---|---|---|---|"]
    for r in rows:
        o, t = r["ours"], r["pytorch"]
        out.append(f"| {r['threads']} | {r['bandwidth_gb_per_s_min']:.1f} to "
                   f"{r['bandwidth_gb_per_s_max']:.1f} GB/s | {r['one_stream_gb_per_s']:.1f} GB/s "
                   f"(median) | {o['tokens_per_s_min']:.1f} to {o['tokens_per_s_max']:.1f} "
                   f"tokens/s | {t['tokens_per_s_min']:.1f} to {t['tokens_per_s_max']:.1f} "
                   f"tokens/s | {r['pytorch_setting']} |")
    out += ["", "## PyTorch settings search", "",
            f"A {args.search_tokens}-token generation per setting, one process each.", "",
            "| cores | tokens/s | torch threads | OPENBLAS_NUM_THREADS | OPENBLAS_CORETYPE |",
            "|---:|---:|---:|---:|---|"]
    for s in sorted(search["trials"], key=lambda s: (s["threads"], -s["tokens_per_s"])):
        out.append(f"| {s['threads']} | {s['tokens_per_s']:.2f} | {s['torch_threads']} | "
                   f"{s['openblas_threads']} | {s['openblas_coretype']} |")
    if search["skipped"]:
        out += ["", "Skipped (their kernels need instructions this CPU lacks): " +
                "; ".join(f"{s['openblas_coretype']} (no {', '.join(s['missing_flags'])})"
                          for s in search["skipped"]) + "."]
    if search["failed"]:
        out += ["", "Failed (left out of the choice): " +
                "; ".join(f"{setting_name(f)}: {f['status']}" for f in search["failed"]) + "."]
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ours", required=True, help="the gpt2_generate_throughput binary")
    p.add_argument("--reference", required=True, help="gpt2_reference.py")
    p.add_argument("--bandwidth", required=True, help="the memory_bandwidth binary")
    p.add_argument("--chapter10", required=True, help="chapters/10_fast_cpu/versus_pytorch.py")
    p.add_argument("--out", default="", help="directory for the results (relative: to the "
                   "directory bazel run was started from)")
    p.add_argument("--quick", action="store_true",
                   help="1 round, 16 tokens, search OPENBLAS_CORETYPE unset only")
    p.add_argument("--preset", default="gpt2")
    p.add_argument("--threads", default="1,2", help="thread counts, both sides")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--tokens", type=int, default=64)
    p.add_argument("--prompt_tokens", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--coretypes", default="",
                   help="OPENBLAS_CORETYPE values to search (default: chapter 10's list)")
    p.add_argument("--search_tokens", type=int, default=16)
    p.add_argument("--bandwidth_passes", type=int, default=3,
                   help="memory_bandwidth's passes per stream count, in every round")
    args = p.parse_args()
    ch10 = load_chapter10(args.chapter10)
    if not args.coretypes:
        args.coretypes = ",".join(ch10.CORETYPES)
    if args.quick:
        args.rounds, args.tokens, args.search_tokens = 1, 16, 8
        args.coretypes = "unset"
    for coretype in args.coretypes.split(","):
        if coretype != "unset" and coretype not in ch10.CORETYPE_NEEDS:
            p.error(f"unknown OPENBLAS_CORETYPE {coretype!r}: unset or one of "
                    f"{', '.join(ch10.CORETYPE_NEEDS)}")
    thread_counts = [int(n) for n in args.threads.split(",")]
    flags = ch10.cpu_flags("/proc/cpuinfo")

    info = machine(ch10, flags)
    info["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info["load_before"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    start, busy_start, ours_start = time.time(), busy_jiffies(), children_cpu_seconds()

    best, trials, skipped, failed = search_pytorch(args, ch10, flags, thread_counts)
    rows = compare(args, ch10, thread_counts, best)

    wall = time.time() - start
    info["seconds"] = wall
    info["load_after"] = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    busy_end = busy_jiffies()
    if busy_start is not None and busy_end is not None:
        ticks = os.sysconf("SC_CLK_TCK")
        others = (busy_end - busy_start) / ticks - (children_cpu_seconds() - ours_start)
        info["others_busy_cores"] = max(0.0, others / wall)
    else:
        info["others_busy_cores"] = float("nan")
    search = {"trials": trials, "skipped": skipped, "failed": failed,
              "chosen": {str(n): best[n] for n in thread_counts}}
    md = markdown(args, info, rows, search)
    directory = out_dir(args, ch10)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "generation_versus_pytorch.md"), "w") as f:
        f.write(md)
    with open(os.path.join(directory, "generation_versus_pytorch.json"), "w") as f:
        json.dump({"machine": info, "rows": rows, "search": search,
                   "settings": {"preset": args.preset, "tokens": args.tokens,
                                "prompt_tokens": args.prompt_tokens, "rounds": args.rounds,
                                "seed": args.seed, "decoding": "greedy",
                                "bandwidth_passes": args.bandwidth_passes}}, f, indent=1)
    print(md)
    print(f"wrote {os.path.join(directory, 'generation_versus_pytorch')}.md and .json "
          f"({wall:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except Exception as failure:  # a side that failed: its command and output, not a traceback
        if type(failure).__name__ != "RunFailed":
            raise
        sys.exit(f"generation_versus_pytorch: {failure}")
