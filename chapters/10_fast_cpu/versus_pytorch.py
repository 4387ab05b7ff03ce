#!/usr/bin/python3
"""Chapter 10: our CPU GPT against PyTorch's, on this machine, in one run.

  bazel run //chapters/10_fast_cpu:versus_pytorch                 # about 5 minutes
  bazel run //chapters/10_fast_cpu:versus_pytorch -- --quick      # about 1 minute
  bazel run //chapters/10_fast_cpu:versus_pytorch -- --scaling    # embed_size 128..768, 1 and 2 threads

1. The machine's FMA peak (peak_flops), for 1 thread and all cores: probed
   at the start and again before every round of step 3, and the best probe
   taken. A probe only ever falls short of the peak (the host or another
   process took a core for a moment): on a 2-core Intel Xeon VM twelve probes
   in a row gave 245 to 345 GFLOP/s on two threads (results/intel-xeon-avx512/
   peak_probes_in_a_row.txt), so one probe is no measure of a share.
2. PyTorch at its best: OpenBLAS reads OPENBLAS_NUM_THREADS and
   OPENBLAS_CORETYPE when it loads, so one process per setting runs every mode
   with torch.set_num_threads 1 and 2; the best setting per mode is chosen by
   tokens/s, and the whole table is printed. Core types whose kernels need
   instructions this CPU lacks (CORETYPE_NEEDS against /proc/cpuinfo's flags)
   are skipped, a setting whose process fails anyway is recorded as failed, and
   only settings that ran are candidates.
3. Per mode (train, forward, generate), R rounds alternating ours and
   PyTorch's (its chosen setting), so that a change in the machine's load
   hits both sides alike; the medians, GFLOP/s, share of the best peak,
   and the ratio ours / PyTorch are printed and written, as markdown and JSON,
   to --out (default: chapters/10_fast_cpu/results/ in the workspace).

Our side is the `throughput` binary (one JSON line per run), PyTorch's is
pytorch_throughput.py (the same fields). Both count FLOPs with model_flops.h's
formulas, so their GFLOP/s compare directly.
"""
import argparse
import itertools
import json
import os
import statistics
import sys
import time

# This script's directory is on sys.path.
from measuring import (RunFailed, clean_env, cpu_flags, cpu_name, interval_text, json_lines,
                       median_interval, probe_peak, user_path, write_report)

MODES = ["train", "forward", "generate"]


CORETYPES = ["unset", "Haswell", "SkylakeX", "Cooperlake", "Zen"]

# OPENBLAS_CORETYPE -> the /proc/cpuinfo flags its kernels need.
#
# OPENBLAS_CORETYPE makes OpenBLAS run one core type's kernels whatever the CPU
# is; kernels with an instruction the CPU lacks kill the process with SIGILL
# (SkylakeX's AVX-512 on an AVX2-only AMD EPYC). The names are those Debian 12's
# OpenBLAS (libopenblas0-pthread 0.3.21, built DYNAMIC_ARCH=1 DYNAMIC_OLDER=1)
# knows on x86-64: driver/others/dynamic.c's corename[] list. The flags are the
# extensions whose instructions `objdump -d` finds in that library's functions
# for each core type (sgemm_kernel_HASWELL, ...), and for SkylakeX and
# Cooperlake also what their kernels were compiled for (-march=skylake-avx512,
# -march=cooperlake: the compiler may use any of it). SSE and SSE2 are part of
# x86-64; /proc/cpuinfo calls SSE3 "pni". (On an Intel Xeon with AVX-512, which
# has neither 3DNow! nor FMA4, Opteron, Opteron_SSE3 and Bulldozer to Excavator
# do die of SIGILL; every other core type runs.)
CORETYPE_NEEDS = {
    # 32-bit cores: on x86-64 OpenBLAS runs Prescott's kernels for them.
    "Katmai": "pni",
    "Coppermine": "pni",
    "Northwood": "pni",
    "Banias": "pni",
    "Athlon": "pni",
    "Prescott": "pni",
    "Core2": "pni ssse3",
    "Atom": "pni ssse3",
    "Nano": "pni ssse3",
    "Penryn": "pni ssse3 sse4_1",
    "Dunnington": "pni ssse3 sse4_1",
    "Nehalem": "pni ssse3 sse4_1",
    # femms, a 3DNow! instruction: no Intel CPU has it, nor AMD's since Bulldozer.
    "Opteron": "pni 3dnow",
    "Opteron_SSE3": "pni 3dnow",
    "Barcelona": "pni",
    "Bobcat": "pni ssse3",
    "Sandybridge": "pni avx",
    # FMA4 (vfmaddps with four operands): AMD's Bulldozer family only.
    "Bulldozer": "pni avx fma4",
    "Piledriver": "pni avx fma fma4",
    "Steamroller": "pni avx fma fma4",
    "Excavator": "pni avx fma fma4",
    "Haswell": "pni avx avx2 fma",
    "Zen": "pni avx avx2 fma",
    "SkylakeX": "pni avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl",
    # 0.3.21 lists Cooperlake but does not accept it as OPENBLAS_CORETYPE: it
    # prints "Core not found: Cooperlake" and picks the newest core type the CPU
    # supports (the search table's "OpenBLAS's core" column says which). Later
    # versions accept it.
    "Cooperlake": "pni avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl "
                  "avx512_vnni avx512_bf16",
    # Not in 0.3.21 at all (newer OpenBLAS: -march=sapphirerapids, AMX kernels).
    "SapphireRapids": "pni avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl "
                      "avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16",
}


def missing_flags(coretype, flags):
    """The flags OPENBLAS_CORETYPE=coretype needs that are not in flags ("unset": none,
    OpenBLAS then picks kernels this CPU runs)."""
    if coretype == "unset":
        return []
    return sorted(set(CORETYPE_NEEDS[coretype].split()) - flags)


def core_behind_cpu(core, flags):
    """Whether OpenBLAS's core type `core` (as it names it) runs kernels older than the
    CPU's vector units: no AVX2 where the CPU has AVX2 and FMA. OpenBLAS left to pick
    its own falls back that far on a CPU it does not know (0.3.21 runs its SSE3
    Prescott kernels on an Intel Xeon with AVX-512), and PyTorch then runs far below
    its best."""
    needs = next((set(needed.split()) for name, needed in CORETYPE_NEEDS.items()
                  if name.lower() == core.lower()), None)
    return needs is not None and {"avx2", "fma"} <= flags and "avx2" not in needs


def config_flags(args, embed_size=None, ff_dim=None):
    return ["--embed_size", str(embed_size or args.embed_size), "--num_layers", str(args.num_layers),
            "--heads", str(args.heads), "--ff_dim", str(ff_dim or args.ff_dim),
            "--vocab_size", str(args.vocab_size), "--batch_size", str(args.batch_size),
            "--block_size", str(args.block_size)]


def timing_flags(seconds, steps, warmup, new_tokens):
    return ["--seconds", str(seconds), "--steps", str(steps), "--warmup", str(warmup),
            "--new_tokens", str(new_tokens)]


def run_ours(args, mode, threads, seconds, steps, embed_size=None, ff_dim=None):
    command = [args.ours, "--device", args.device, "--mode", mode, "--threads", str(threads)]
    command += config_flags(args, embed_size, ff_dim)
    command += timing_flags(seconds, steps, 3, args.new_tokens)
    return json_lines(command, clean_env())[0]


def run_pytorch(args, modes, torch_threads, blas_threads, coretype, seconds, steps, new_tokens,
                warmup=3, embed_size=None, ff_dim=None):
    command = ["/usr/bin/python3", "-B", args.pytorch, "--modes", ",".join(modes),
               "--torch_threads", ",".join(str(t) for t in torch_threads)]
    command += config_flags(args, embed_size, ff_dim)
    command += timing_flags(seconds, steps, warmup, new_tokens)
    return json_lines(command, clean_env(blas_threads, coretype))


def best_peak(probes):
    """The peak the shares are of: each thread count's best probe, with every
    probe kept and the range of the all-cores ones."""
    every = [p["peak_gflops_all"] for p in probes]
    return {"peak_gflops_1_thread": max(p["peak_gflops_1_thread"] for p in probes),
            "peak_gflops_all": max(every), "peak_gflops_all_lowest": min(every),
            "threads_all": probes[0]["threads_all"], "probes": probes}


def setting_name(r):
    return (f"torch threads {r['torch_threads']}, OPENBLAS_NUM_THREADS {r['openblas_threads']}, "
            f"OPENBLAS_CORETYPE {r['openblas_coretype']}")


def search_pytorch(args, modes, flags):
    """Every (OPENBLAS_CORETYPE, OPENBLAS_NUM_THREADS, torch threads) this CPU can run:
    the best per mode, and the settings skipped and failed."""
    # A core type whose kernels need an instruction the CPU lacks would die of
    # SIGILL: it is skipped, saying which flags are missing.
    coretypes, skipped = [], []
    for coretype in args.coretypes.split(","):
        missing = missing_flags(coretype, flags)
        if missing:
            skipped.append({"openblas_coretype": coretype, "missing_flags": missing})
            print(f"skipped OPENBLAS_CORETYPE {coretype}: its kernels need {' '.join(missing)}, "
                  f"which {args.cpuinfo} does not list", flush=True)
        else:
            coretypes.append(coretype)
    # One process per setting: a thread pool that torch.set_num_threads(2) created
    # keeps running (spinning a while at every region's end) after a switch back
    # to 1, and would slow every later trial in the same process.
    grid = list(itertools.product(coretypes, args.blas_threads.split(","),
                                  [int(t) for t in args.torch_threads.split(",")]))
    print(f"PyTorch settings search: {len(grid)} processes (OPENBLAS_CORETYPE x "
          f"OPENBLAS_NUM_THREADS x torch threads), short trials ({args.search_seconds} s, "
          f"generation of {args.search_new_tokens} tokens)", flush=True)
    results, failed = [], []
    for coretype, blas, torch_n in grid:
        try:
            trials = run_pytorch(args, modes, [torch_n], int(blas), coretype, args.search_seconds,
                                 1, args.search_new_tokens)
        except RunFailed as failure:
            # Whatever it printed before it failed is left out too: only
            # settings that ran are candidates for the best.
            failed.append({"torch_threads": torch_n, "openblas_threads": blas,
                           "openblas_coretype": coretype, "returncode": failure.returncode,
                           "status": failure.status, "output_tail": failure.output[-2000:]})
            print(f"  failed   {setting_name(failed[-1])}: {failure.status}", flush=True)
            continue
        for r in trials:
            results.append(r)
            print(f"  {r['mode']:8s} {r['tokens_per_s']:10.0f} tokens/s   {setting_name(r)} "
                  f"(OpenBLAS's core: {r['openblas_core']})", flush=True)
    best = {}
    for mode in modes:
        candidates = [r for r in results if r["mode"] == mode]
        if not candidates:
            sys.exit(f"versus_pytorch: no PyTorch setting ran ({len(skipped)} skipped, "
                     f"{len(failed)} failed): nothing to compare")
        best[mode] = max(candidates, key=lambda r: r["tokens_per_s"])
        print(f"chosen for {mode}: {setting_name(best[mode])} "
              f"({best[mode]['tokens_per_s']:.0f} tokens/s in the search)", flush=True)
    return results, best, skipped, failed


def summarise(runs):
    return {
        "tokens_per_s": statistics.median(r["tokens_per_s"] for r in runs),
        "gflop_per_s": statistics.median(r["gflop_per_s"] for r in runs),
        "ms_per_step": statistics.median(r["ms_per_step"] for r in runs),
        "tokens_per_s_min": min(r["tokens_per_s"] for r in runs),
        "tokens_per_s_max": max(r["tokens_per_s"] for r in runs),
    }


def compare(args, first_probe, modes, best):
    """R rounds per mode, ours and PyTorch's alternating, the peak probed before
    each; their medians and ratio, and the shares of the best probe."""
    rows, probes = [], [first_probe]
    for mode in modes:
        b = best[mode]
        ours, theirs = [], []
        for round_ in range(args.rounds):
            probes.append(probe_peak(args.peak))
            ours.append(run_ours(args, mode, args.threads, args.seconds, args.steps))
            theirs.append(run_pytorch(args, [mode], [b["torch_threads"]],
                                      int(b["openblas_threads"]), b["openblas_coretype"],
                                      args.seconds, args.steps, args.new_tokens)[0])
            print(f"  {mode:8s} round {round_ + 1}/{args.rounds}: ours "
                  f"{ours[-1]['tokens_per_s']:9.0f} tokens/s, PyTorch "
                  f"{theirs[-1]['tokens_per_s']:9.0f} tokens/s", flush=True)
        o, t = summarise(ours), summarise(theirs)
        rows.append({
            "mode": mode, "ours": o, "pytorch": t,
            "ratio": o["tokens_per_s"] / t["tokens_per_s"],
            "ratio_round_by_round": median_interval(
                [a["tokens_per_s"] / b["tokens_per_s"] for a, b in zip(ours, theirs)])._asdict(),
            "pytorch_setting": setting_name(b),
            "pytorch_threads": max(int(b["torch_threads"]), int(b["openblas_threads"])),
            "ours_threads": ours[0]["threads"],
            "ours_description": ours[0]["description"],
            "config": ours[0]["config"],
            "runs": {"ours": ours, "pytorch": theirs},
        })
    peak = best_peak(probes)
    for r in rows:
        for side in ("ours", "pytorch"):
            r[f"{side}_peak"] = peak_at(peak, r[f"{side}_threads"])
            r[f"{side}_peak_share"] = r[side]["gflop_per_s"] / r[f"{side}_peak"]
    return rows, peak


def peak_at(peak, threads):
    """The peak a side's share is of: one thread's when it ran on one thread,
    else all the cores' (the probe measures those two)."""
    return peak["peak_gflops_1_thread"] if threads == 1 else peak["peak_gflops_all"]


def comparison_markdown(peak, rows, info):
    out = [f"# Ours vs PyTorch on {info['cpu']} ({info['cores']} cores)", "",
           f"Measured FMA peak, the best of {len(peak['probes'])} probes (one at the start, "
           f"one before each round): {peak['peak_gflops_1_thread']:.0f} GFLOP/s on 1 thread, "
           f"{peak['peak_gflops_all']:.0f} GFLOP/s on {peak['threads_all']} (its probes ranged "
           f"from {peak['peak_gflops_all_lowest']:.0f}); a % column is of the one-thread "
           f"peak where that side ran on one thread, else of the latter. "
           f"PyTorch {info['torch_version']}, BLAS: "
           f"{info['blas']}. Medians of {info['rounds']} alternating rounds; "
           f"FLOPs counted by model_flops.h's formulas on both sides. Round by round: the "
           f"median of the ratios of the two sides' runs in the same round, and the range of "
           f"those ratios that holds their true median with at least 95% confidence (the sign "
           f"test's, from 6 rounds on; with fewer, all the rounds' range, at the confidence "
           f"given).", "",
           "| mode | ours tokens/s | PyTorch tokens/s | ours / PyTorch | ours / PyTorch, round by "
           "round | ours GFLOP/s (% peak) | PyTorch GFLOP/s (% peak) | ours ms/step | PyTorch "
           "ms/step | PyTorch setting |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        o, t = r["ours"], r["pytorch"]
        paired = interval_text(r["ratio_round_by_round"], digits=2, times="x")
        out.append(f"| {r['mode']} | {o['tokens_per_s']:,.0f} | {t['tokens_per_s']:,.0f} | "
                   f"{r['ratio']:.2f}x | {paired} | "
                   f"{o['gflop_per_s']:.1f} ({100 * r['ours_peak_share']:.0f}%) | "
                   f"{t['gflop_per_s']:.1f} ({100 * r['pytorch_peak_share']:.0f}%) | "
                   f"{o['ms_per_step']:.1f} | {t['ms_per_step']:.1f} | {r['pytorch_setting']} |")
    c = rows[0]["config"] if rows else {}
    out += ["", f"Configuration: {json.dumps(c)}; generation: batch 1, "
            f"{info['new_tokens']} new tokens after a 1-token prompt (ours: KV cache; PyTorch: "
            "nanoGPT's generate, full recompute of the cropped context).",
            f"Our device: {rows[0]['ours_description'] if rows else ''}, "
            f"{rows[0]['ours_threads'] if rows else ''} threads.", ""]
    return "\n".join(out)


def search_markdown(results, skipped, failed):
    out = ["## PyTorch settings search", "",
           "| mode | tokens/s | torch threads | OPENBLAS_NUM_THREADS | OPENBLAS_CORETYPE "
           "| OpenBLAS's core |",
           "|---|---:|---:|---:|---|---|"]
    for r in sorted(results, key=lambda r: (MODES.index(r["mode"]), -r["tokens_per_s"])):
        out.append(f"| {r['mode']} | {r['tokens_per_s']:,.0f} | {r['torch_threads']} | "
                   f"{r['openblas_threads']} | {r['openblas_coretype']} | {r['openblas_core']} |")
    if skipped:
        out += ["", "Skipped (their kernels need instructions this CPU lacks): " +
                "; ".join(f"{s['openblas_coretype']} (no {', '.join(s['missing_flags'])})"
                          for s in skipped) + "."]
    if failed:
        out += ["", "Failed (left out of the choice): " +
                "; ".join(f"{setting_name(f)}: {f['status']}" for f in failed) + "."]
    return "\n".join(out) + "\n"


def scaling(args, peak, info, flags):
    """Train and forward tokens/s for embed_size 128..768 (heads 8, ff 4C), 1 and 2 threads."""
    rows = []
    for C in [int(c) for c in args.scaling_sizes.split(",")]:
        for mode in ["train", "forward"]:
            for n in (1, 2):
                ours = run_ours(args, mode, n, 0, args.scaling_steps, embed_size=C, ff_dim=4 * C)
                # PyTorch's n cores, split its best way: OpenBLAS's threads and
                # ATen's (torch.set_num_threads) together never exceed n.
                splits = [(1, 1)] if n == 1 else [(1, n), (n, 1)]
                tries = [run_pytorch(args, [mode], [torch_n], blas_n, args.scaling_coretype, 0,
                                     args.scaling_steps, args.new_tokens, embed_size=C,
                                     ff_dim=4 * C)[0]
                         for torch_n, blas_n in splits]
                theirs = max(tries, key=lambda r: r["tokens_per_s"])
                row = {"embed_size": C, "mode": mode, "threads": n,
                       "ours_tokens_per_s": ours["tokens_per_s"],
                       "pytorch_tokens_per_s": theirs["tokens_per_s"],
                       "ours_gflop_per_s": ours["gflop_per_s"],
                       "pytorch_gflop_per_s": theirs["gflop_per_s"],
                       "pytorch_setting": setting_name(theirs),
                       "pytorch_openblas_core": theirs["openblas_core"],
                       "ratio": ours["tokens_per_s"] / theirs["tokens_per_s"]}
                rows.append(row)
                print(f"  C={C:4d} {mode:8s} threads {n}: ours {row['ours_tokens_per_s']:8.0f}, "
                      f"PyTorch {row['pytorch_tokens_per_s']:8.0f} tokens/s, "
                      f"ratio {row['ratio']:.2f}", flush=True)
    cores = sorted({r["pytorch_openblas_core"] for r in rows})
    behind = [c for c in cores if core_behind_cpu(c, flags)]
    core_note = f" OpenBLAS's core: {', '.join(cores)}."
    if behind:
        warning = (f"OpenBLAS ran its {', '.join(behind)} kernels, older than this CPU's "
                   "vector units: PyTorch is far below its best here. Name a core type "
                   "with --scaling_coretype (the comparison's search finds the fastest).")
        print(f"versus_pytorch: {warning}", flush=True)
        core_note += f" **{warning}**"
    md = [f"# Scaling on {info['cpu']}: tokens/s as embed_size grows", "",
          f"L={args.num_layers}, heads {args.heads}, ff_dim 4C, B={args.batch_size}, "
          f"T={args.block_size}, V={args.vocab_size}. PyTorch with n threads: the faster of "
          f"(torch threads 1, OPENBLAS_NUM_THREADS n) and (torch threads n, OPENBLAS_NUM_THREADS 1) "
          f"— never more threads than n — OPENBLAS_CORETYPE "
          f"{args.scaling_coretype}. Peak: {peak['peak_gflops_1_thread']:.0f} GFLOP/s (1 thread), "
          f"{peak['peak_gflops_all']:.0f} (all cores). One run of >= {args.scaling_steps} steps "
          "per cell." + core_note, "",
          "| C | mode | threads | ours tokens/s | PyTorch tokens/s | ours / PyTorch "
          "| ours GFLOP/s | PyTorch GFLOP/s | PyTorch's split |",
          "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        md.append(f"| {r['embed_size']} | {r['mode']} | {r['threads']} | "
                  f"{r['ours_tokens_per_s']:,.0f} | {r['pytorch_tokens_per_s']:,.0f} | "
                  f"{r['ratio']:.2f}x | {r['ours_gflop_per_s']:.1f} | "
                  f"{r['pytorch_gflop_per_s']:.1f} | {r['pytorch_setting'].rsplit(',', 1)[0]} |")
    return rows, "\n".join(md) + "\n"


def out_dir(args):
    if args.out:
        return user_path(args.out)
    workspace = os.environ.get("BUILD_WORKSPACE_DIRECTORY")
    if not workspace:
        sys.exit("versus_pytorch: give --out DIR (not run by `bazel run`)")
    return os.path.join(workspace, "chapters", "10_fast_cpu", "results")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--ours", required=True, help="the throughput binary")
    p.add_argument("--pytorch", required=True, help="pytorch_throughput.py")
    p.add_argument("--peak", required=True, help="the peak_flops binary")
    p.add_argument("--out", default="", help="directory for the results (relative: to the "
                   "directory bazel run was started from)")
    p.add_argument("--quick", action="store_true",
                   help="1 round, short trials, search OPENBLAS_CORETYPE unset and Zen only")
    p.add_argument("--scaling", action="store_true", help="the embed_size / threads table instead")
    p.add_argument("--device", default="fast")
    p.add_argument("--modes", default=",".join(MODES))
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=3.0, help="per run, at least")
    p.add_argument("--steps", type=int, default=2, help="per run, at least")
    p.add_argument("--threads", type=int, default=0, help="ours; 0: all cores")
    p.add_argument("--coretypes", default=",".join(CORETYPES),
                   help="OPENBLAS_CORETYPE values to search (unset: OpenBLAS picks)")
    p.add_argument("--cpuinfo", default="/proc/cpuinfo",
                   help="where the CPU's flags are read from, a file in /proc/cpuinfo's "
                   "format: another file pretends to be another CPU (relative: to the "
                   "directory bazel run was started from)")
    p.add_argument("--blas_threads", default="1,2")
    p.add_argument("--torch_threads", default="1,2")
    p.add_argument("--search_seconds", type=float, default=2.0)
    p.add_argument("--search_new_tokens", type=int, default=100)
    p.add_argument("--scaling_sizes", default="128,256,512,768")
    p.add_argument("--scaling_steps", type=int, default=3)
    p.add_argument("--scaling_coretype", default="unset",
                   help="OPENBLAS_CORETYPE for --scaling's PyTorch (unset: OpenBLAS picks; the "
                   "table warns when its pick is older than the CPU)")
    p.add_argument("--embed_size", type=int, default=256)
    p.add_argument("--num_layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--ff_dim", type=int, default=1024)
    p.add_argument("--vocab_size", type=int, default=65)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--block_size", type=int, default=64)
    p.add_argument("--new_tokens", type=int, default=200)
    args = p.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.steps = 1, 1.0, 1
        args.search_seconds, args.search_new_tokens = 0.0, 20
        if args.coretypes == ",".join(CORETYPES):
            args.coretypes = "unset,Zen"
    for coretype in args.coretypes.split(",") + [args.scaling_coretype]:
        if coretype != "unset" and coretype not in CORETYPE_NEEDS:
            p.error(f"unknown OPENBLAS_CORETYPE {coretype!r}: unset or one of "
                    f"{', '.join(CORETYPE_NEEDS)}")
    args.cpuinfo = user_path(args.cpuinfo)
    flags = cpu_flags(args.cpuinfo)
    if args.scaling and missing_flags(args.scaling_coretype, flags):
        p.error(f"--scaling_coretype {args.scaling_coretype} needs "
                f"{' '.join(missing_flags(args.scaling_coretype, flags))}, which "
                f"{args.cpuinfo} does not list")
    modes = args.modes.split(",")
    start = time.time()
    peak = probe_peak(args.peak)
    print(f"FMA peak: {peak['peak_gflops_1_thread']:.1f} GFLOP/s (1 thread), "
          f"{peak['peak_gflops_all']:.1f} GFLOP/s ({peak['threads_all']} threads)", flush=True)
    info = {"cpu": cpu_name(), "cores": os.cpu_count(), "rounds": args.rounds,
            "new_tokens": args.new_tokens, "cpu_flags_from": args.cpuinfo}
    directory = out_dir(args)
    if args.scaling:
        info["torch_version"] = "see pytorch runs"
        rows, md = scaling(args, peak, info, flags)
        path = write_report(directory, "scaling", md, {"peak": peak, "info": info, "rows": rows})
        print(md)
    else:
        results, best, skipped, failed = search_pytorch(args, modes, flags)
        info["torch_version"] = results[0]["torch_version"]
        info["blas"] = results[0]["blas"]
        rows, peak = compare(args, peak, modes, best)
        md = (comparison_markdown(peak, rows, info) + "\n" +
              search_markdown(results, skipped, failed))
        path = write_report(directory, "versus_pytorch", md,
                            {"peak": peak, "info": info, "rows": rows, "search": results,
                             "search_skipped": skipped, "search_failed": failed})
        print(comparison_markdown(peak, rows, info))
    print(f"wrote {path}.md and .json ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    try:
        main()
    except RunFailed as failure:
        sys.exit(f"versus_pytorch: {failure}")
