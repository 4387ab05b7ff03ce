#!/usr/bin/python3
"""CPU time per step by op, from `perf record` of `throughput` runs: one thread against two.

  perf record -F 1999 -k CLOCK_MONOTONIC -o t1.data throughput --threads 1 ... > t1.json
  perf record -F 1999 -k CLOCK_MONOTONIC -o t2.data throughput --threads 2 ... > t2.json
  python3 cpu_per_step.py t1 t2          (reads t1.data, t1.json, t2.data, t2.json)

Only the samples of the timed steps count (`perf report --time`, the window
throughput prints). Samples / frequency / steps = CPU microseconds per step,
all threads together: with two threads, a step's wall time is about half the
sum. Symbols are put in groups by name; the table gives each group's CPU time
per step on one thread and on two, and what the second thread added.
"""
import json
import re
import subprocess
import sys

FREQUENCY = 1999
GROUPS = [  # (group, pattern on "dso symbol"), first match wins
    ("waiting (the OpenMP runtime's spin loops)", r"libgomp"),
    ("operating system", r"\[kernel|\[k\]"),
    ("micro-kernel", r"micro_kernel"),
    ("packing B", r"pack_B"),
    ("packing A", r"pack_A"),
    ("GELU and its backward", r"gelu|erf_op"),
    ("LayerNorm and its backward", r"layernorm|scalar_difference_op|mean_op|redux"),
    ("attention (scores, softmax, mix, copies)",
     r"row_dots|rows_mix|softmax|row_largest|attention|memmove|memcpy|transpose_rows|HeadScratch"),
    ("residual adds and their backward", r"dropout_residual|residual_backward"),
    ("weight gradients' halves and their sum", r"weight_gradient|matmul_pair|::own|::help"),
    ("AdamW and the gradient norm", r"adamw|clip_grad"),
]


def per_step(stem):
    run = json.load(open(stem + ".json"))
    window = f"--time={run['timed_from_s']:.6f},{run['timed_to_s']:.6f}"
    report = subprocess.run(
        ["perf", "report", "-i", stem + ".data", "--no-children", "--sort", "dso,sym", "--stdio",
         "-g", "none", "-F", "sample,dso,sym", window],
        capture_output=True, text=True, check=True).stdout
    groups = {}
    for line in report.splitlines():
        match = re.match(r"\s+(\d+)\s+(\S+)\s+(.*)", line)
        if not match or line.lstrip().startswith("#"):
            continue
        samples, name = int(match.group(1)), match.group(2) + " " + match.group(3)
        group = next((g for g, pattern in GROUPS if re.search(pattern, name)), "the rest")
        groups[group] = groups.get(group, 0) + samples / FREQUENCY / run["steps"] * 1e6
    return groups, run


def main():
    one, run1 = per_step(sys.argv[1])
    two, run2 = per_step(sys.argv[2])
    print(f"one thread: {run1['tokens_per_s']:,.0f} tokens/s, {run1['gflop_per_s']:.1f} GFLOP/s; "
          f"two threads: {run2['tokens_per_s']:,.0f} tokens/s, {run2['gflop_per_s']:.1f} GFLOP/s\n")
    print("| CPU µs per step | 1 thread | 2 threads, both | added by the second |")
    print("|---|---:|---:|---:|")
    names = [g for g, _ in GROUPS] + ["the rest"]
    for g in sorted(names, key=lambda g: -(two.get(g, 0) - one.get(g, 0))):
        a, b = one.get(g, 0), two.get(g, 0)
        print(f"| {g} | {a:,.0f} | {b:,.0f} | {b - a:+,.0f} |")
    a, b = sum(one.values()), sum(two.values())
    print(f"| all | {a:,.0f} | {b:,.0f} | {b - a:+,.0f} ({(b - a) / a:+.0%}) |")


if __name__ == "__main__":
    main()
