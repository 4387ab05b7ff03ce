#!/usr/bin/python3
"""Chapter 10: where a step's time goes, from a profile of the timed steps only.

  bazel run //chapters/10_fast_cpu:profile_shares [-- --modes forward --rounds 3]
  bazel run //chapters/10_fast_cpu:profile_shares -- --out /tmp/shares -- \\
      --embed_size 128 --num_layers 4 --heads 4 --ff_dim 512 --batch_size 12
  bazel run --config=portable //chapters/10_fast_cpu:profile_shares   (the AVX2 path)

Each round probes the FMA peak three times (peak_flops), then runs
`throughput` once per mode under `perf record` and reads the profile:

- the micro-kernel's share of the samples (`micro_kernel<MR>`), packing's
  (`pack_A`, `pack_B`), the OpenMP runtime's (libgomp: threads waiting at a
  barrier or for work) and the largest of the rest;
- the rate the matrix products ran at while the kernel had the core: the
  model's GFLOP/s × the products' part of the model's FLOPs ÷ the kernel's
  share (model_flops.h: the products are 2N of the 2N + 4·L·T·C FLOPs a token,
  the rest attention's scores and mix, done outside the kernel), and that
  rate as a fraction of the best probe of all rounds (the probe for the run's
  thread count: one thread, or all of the machine's cores);
- how much of the timed steps the samples cover: the samples taken, over
  the sampling frequency × threads × the timed seconds. Below 1, a thread was
  off its core for part of the time (asleep at a barrier, or the machine's
  other work ran), and the kernel's rate above counts that time against it.

Profile only what you time. A program spends its first second or so on
things no step repeats: loading its libraries, drawing the initial weights
(cos and log for the normal draws), touching fresh memory, a warm-up step.
`throughput` gives the start and end of its timed steps on the monotonic
clock; `perf record -k CLOCK_MONOTONIC` stamps the samples on the same clock,
and `perf report --time` keeps the samples between the two. The report gives
the kernel's share over the whole run as well, start-up included, to show
how far start-up would shift it.

The report goes to stdout and, with --out DIR, to DIR/profile_shares.md, with
every run in DIR/profile_shares.json. Needs Linux's `perf` and permission to
use it (kernel.perf_event_paranoid <= 2 for a process's own samples). Flags
after `--` go to every throughput run (a model size, --steps, --warmup), except
those this script sets itself (--device, --mode, --threads, --seconds).
"""
import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measuring import (RunFailed, clean_env, cpu_name, json_lines, probe_peak,  # noqa: E402
                       run_measured, user_path, write_report)

KERNEL = re.compile(r"^gpt::micro_kernel<")
PACKING = re.compile(r"\bpack_[AB]\b")
OPENMP_DSO = re.compile(r"^libgomp")


def fail(message):
    sys.exit(f"profile_shares: {message}")


def products_fraction(line):
    """The products with the weights' part of the FLOPs throughput counted (model_flops.h)."""
    return line["product_flop_per_token"] / line["flop_per_token"]


def parse_report(text):
    """`perf report --fields overhead,sample,dso,sym` lines: [(percent, samples, dso, symbol)]."""
    rows = []
    for line in text.splitlines():
        # "    70.30%     12345  throughput    [.] gpt::micro_kernel<8>  -  -": the dashes are
        # perf's IPC columns, empty without a hardware counter; [k] marks the kernel's code.
        m = re.match(r"\s*([0-9.]+)%\s+([0-9]+)\s+(\S+)\s+\[[.kguH]\]\s+(.*?)(?:\s+-\s+-)?\s*$",
                     line)
        if m and int(m.group(2)) > 0:
            rows.append((float(m.group(1)), int(m.group(2)), m.group(3), m.group(4)))
    return rows


def short_name(symbol):
    """A symbol without its argument lists and namespaces' noise, for the table."""
    s = re.sub(r"\(anonymous namespace\)::", "", symbol)
    depth, out = 0, []
    for ch in s:  # drop everything inside (...) but keep template arguments
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    s = "".join(out).replace("::operator", "").replace("{lambda#1}", "{lambda}")
    s = re.sub(r"\s+", " ", s).strip()
    if s.startswith("Eigen::internal::"):  # an expression's loop: its type is pages long
        s = "Eigen " + ("erf" if "scalar_erf_op" in symbol else "expression")
    return s


def shares(rows):
    """The kernel's, packing's and OpenMP's shares (fractions), the rest by name, the samples."""
    kernel = sum(p for p, _, _, s in rows if KERNEL.search(s)) / 100
    packing = sum(p for p, _, _, s in rows if PACKING.search(s)) / 100
    openmp = sum(p for p, _, d, _ in rows if OPENMP_DSO.search(d)) / 100
    rest = {}
    for p, _, d, s in rows:
        if KERNEL.search(s) or PACKING.search(s) or OPENMP_DSO.search(d):
            continue
        name = short_name(s) if not s.startswith("0x") else f"{d} {s}"
        rest[name] = rest.get(name, 0.0) + p / 100  # one function's instantiations, summed
    return {"kernel": kernel, "packing": packing, "openmp": openmp, "rest": rest,
            "samples": sum(n for _, n, _, _ in rows)}


class Profiler:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="profile_shares.")

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def report(self, data, window=None):
        command = [self.args.perf, "report", "-i", data, "--no-children", "--sort", "dso,symbol",
                   "--fields", "overhead,sample,dso,sym", "--stdio"]
        if window:
            command += ["--time", f"{window[0]:.6f},{window[1]:.6f}"]
        return parse_report(run_measured(command, clean_env()).stdout)

    def profile(self, mode, round_number):
        a = self.args
        data = os.path.join(self.dir, f"{mode}.{round_number}.data")
        command = [a.perf, "record", "-q", "--no-buildid-cache", "-k", "CLOCK_MONOTONIC",
                   "-F", str(a.frequency), "-o", data, "--",
                   a.throughput, "--device", "fast", "--mode", mode, "--threads", str(a.threads),
                   "--seconds", f"{a.seconds:g}"] + a.flags
        line = json_lines(command, clean_env())[0]
        if any(k not in line for k in ("timed_from_s", "timed_to_s", "product_flop_per_token")):
            fail(f"{a.throughput} printed no timed_from_s, timed_to_s or "
                 "product_flop_per_token: build this chapter's throughput again")
        window = (line["timed_from_s"], line["timed_to_s"])
        timed = shares(self.report(data, window))
        whole = shares(self.report(data))
        os.remove(data)
        if timed["kernel"] <= 0:
            fail(f"no samples in micro_kernel during the timed steps of {mode}: is perf "
                 "allowed to sample this process, is throughput built with symbols, and "
                 "did the compiler inline micro_kernel into its caller?")
        expected = a.frequency * line["threads"] * (window[1] - window[0])
        return {"mode": mode, "round": round_number, "throughput": line, "timed": timed,
                "kernel_share_whole_run": whole["kernel"],
                "sample_coverage": timed["samples"] / expected}


def peak_for(probe, threads):
    """A probe's peak for a run on `threads` threads, or None where it measured no such run."""
    if threads == 1:
        return probe["peak_gflops_1_thread"]
    if threads == probe["threads_all"]:
        return probe["peak_gflops_all"]
    return None


def median_range(values, fmt):
    return f"{fmt(statistics.median(values))} ({fmt(min(values))}–{fmt(max(values))})"


def summarise(runs, best_probe, modes, top):
    for r in runs:
        line = r["throughput"]
        fraction = products_fraction(line)
        r["products_fraction"] = fraction
        r["kernel_rate_gflops"] = line["gflop_per_s"] * fraction / r["timed"]["kernel"]
        if best_probe:
            r["peak_share"] = line["gflop_per_s"] / best_probe
            r["kernel_rate_of_peak"] = r["kernel_rate_gflops"] / best_probe
    pct = lambda v: f"{100 * v:.1f}%"
    gflops = lambda v: f"{v:.0f}"
    frac = lambda v: f"{v:.2f}"
    head = ("| mode | model GFLOP/s | of the best probe | micro-kernel | micro-kernel, whole run "
            "| packing | OpenMP runtime | products' rate in the kernel's time | of the best probe "
            "| samples / expected |")
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for mode in modes:
        rs = [r for r in runs if r["mode"] == mode]
        if not rs:
            continue
        cells = [median_range([r["throughput"]["gflop_per_s"] for r in rs], gflops),
                 median_range([r["peak_share"] for r in rs], pct) if best_probe else "—",
                 median_range([r["timed"]["kernel"] for r in rs], pct),
                 median_range([r["kernel_share_whole_run"] for r in rs], pct),
                 median_range([r["timed"]["packing"] for r in rs], pct),
                 median_range([r["timed"]["openmp"] for r in rs], pct),
                 median_range([r["kernel_rate_gflops"] for r in rs], gflops),
                 median_range([r["kernel_rate_of_peak"] for r in rs], frac) if best_probe else "—",
                 median_range([r["sample_coverage"] for r in rs], frac)]
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    lines.append("")
    for mode in modes:
        rs = [r for r in runs if r["mode"] == mode]
        if not rs:
            continue
        names = {n for r in rs for n in r["timed"]["rest"]}
        med = {n: statistics.median(r["timed"]["rest"].get(n, 0.0) for r in rs) for n in names}
        largest = sorted(names, key=lambda n: (-med[n], n))[:top]
        lines.append(f"The largest of the rest, {mode} (median share of the timed samples):")
        lines.append("")
        lines += [f"    {100 * med[n]:5.2f}%  {n[:100]}" for n in largest]
        lines.append("")
    return "\n".join(lines)


def parse(argv):
    flags = []
    if "--" in argv:
        at = argv.index("--")
        argv, flags = argv[:at], argv[at + 1:]
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                epilog=__doc__.split("\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--throughput", required=True, help="the throughput binary")
    p.add_argument("--peak", help="the peak_flops binary (without it, no shares of the peak)")
    p.add_argument("--perf", default="perf", help="the perf command")
    p.add_argument("--modes", default="train,forward", help="train, forward or both")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="threads of the runs (default: all CPUs this process may use, as "
                   "peak_flops' all-core probe)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=8, help="each run times at least this long")
    p.add_argument("--frequency", type=int, default=999, help="samples a second a thread")
    p.add_argument("--top", type=int, default=10, help="how many of the rest to list (0: none)")
    p.add_argument("--out", metavar="DIR", help="also write profile_shares.md and .json there")
    args = p.parse_args(argv)
    args.flags = flags
    args.modes = list(dict.fromkeys(args.modes.split(",")))
    for mode in args.modes:
        if mode not in ("train", "forward"):
            p.error(f"--modes: {mode!r} is not train or forward (generation runs no micro-kernel)")
    if args.rounds < 1 or args.threads < 1 or args.seconds <= 0 or args.frequency < 1:
        p.error("--rounds, --threads and --frequency must be at least 1, --seconds above 0")
    if args.top < 0:
        p.error("--top must be 0 or more")
    for flag in ("--device", "--mode", "--threads", "--seconds"):
        if any(f == flag or f.startswith(flag + "=") for f in flags):
            p.error(f"{flag} after -- : this script sets it itself")
    if shutil.which(args.perf) is None:
        p.error(f"no {args.perf!r} here: install Linux's perf (Debian: linux-perf)")
    return args


def main(argv):
    args = parse(argv)
    profiler = Profiler(args)
    runs, probes, stopped = [], [], False
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    try:
        for rnd in range(1, args.rounds + 1):
            if args.peak:
                probes += [probe_peak(args.peak) for _ in range(3)]
            for mode in args.modes:
                print(f"round {rnd}: {mode}", file=sys.stderr, flush=True)
                runs.append(profiler.profile(mode, rnd))
    except RunFailed as e:
        fail(f"a run failed, {e}")
    except KeyboardInterrupt:
        stopped = True
        print("stopped: the runs finished so far follow", file=sys.stderr)
    finally:
        profiler.remove()
    if not runs:
        fail("no run finished")
    threads = runs[0]["throughput"]["threads"]
    peaks = [peak_for(p, threads) for p in probes]
    best = max(peaks) if peaks and None not in peaks else None
    ended = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    config = runs[0]["throughput"]["config"]
    rounds = len({r["round"] for r in runs})
    header = (f"{cpu_name()}, {os.cpu_count()} CPUs; {started} to {ended}; {threads} "
              f"thread(s); {rounds} round(s){' (stopped during the last)' if stopped else ''} "
              f"of `perf record -F {args.frequency}` over `throughput --seconds "
              f"{args.seconds:g}` (C {config['embed_size']}, L {config['num_layers']}, "
              f"H {config['heads']}, F {config['ff_dim']}, B {config['batch_size']}, "
              f"T {config['block_size']}); shares of the samples in the timed steps, medians "
              f"(range).")
    if best:
        header += (f" FMA peak on {threads} thread(s): the best of {len(peaks)} probes, "
                   f"{best:.0f} GFLOP/s (lowest {min(peaks):.0f}).")
    elif probes:
        header += (f" No share of the peak: peak_flops measures 1 thread and all "
                   f"{probes[0]['threads_all']} cores, not {threads}.")
    md = header + "\n\n" + summarise(runs, best, args.modes, args.top)
    print(md)
    if args.out:
        path = write_report(user_path(args.out), "profile_shares", md,
                            {"cpu": cpu_name(), "started": started, "ended": ended,
                             "threads": threads, "probes": probes, "stopped": stopped,
                             "runs": runs})
        print(f"written: {path}.md and .json", file=sys.stderr)
    if stopped:
        sys.exit(130)


if __name__ == "__main__":
    main(sys.argv[1:])
