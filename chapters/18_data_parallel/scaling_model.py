#!/usr/bin/python3
"""chapters/18_data_parallel/scaling_model.py — the measured runs as tables, and a model of more ranks.

  scaling_model.py RUNS.jsonl "MACHINE, DATE" > results/data_parallel.md

A ring all-reduce of S bytes over N ranks sends and receives 2(N-1)/N x S
bytes per rank (a reduce-scatter, then an all-gather, N-1 hops each), so
it takes 2(N-1)/N x S / bandwidth, almost independent of N. The model
keeps each rank's batch at the 2-rank run's (16 rows of 64 tokens), its
compute time at that run's measured compute (step minus communication),
and the bandwidth at the all-reduce's measured bus bandwidth for a
buffer of the model's size; without overlap the step is compute plus
all-reduce, with perfect overlap the larger of the two. Latency (2(N-1)
messages per all-reduce) is left out: at megabytes per message it is small.
"""
import json
import sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
machine = sys.argv[2]
by_ranks = {r["ranks"]: r for r in runs}
print(f"# Chapter 18 — data parallelism, measured ({machine})\n")
print("| ranks | threads per rank | step ms | tokens/s | communication ms | share of the step |")
print("|---:|---:|---:|---:|---:|---:|")
for r in runs:
    print(f"| {r['ranks']} | {r['threads_per_rank']} | {r['step_ms']:.1f} | {r['tokens_per_s']:.0f} | "
          f"{r['communication_ms']:.2f} | {100 * r['communication_share']:.1f}% |")
two = by_ranks.get(2)
if two is None:
    sys.exit(0)
print("\n<!-- table-name: all_reduce -->")
print("| buffer MB | 2 ranks: all-reduce ms | bus GB/s |")
print("|---:|---:|---:|")
for a in two["all_reduce"]:
    print(f"| {a['bytes'] / 1e6:.1f} | {a['ms']:.3f} | {a['bus_GBps']:.2f} |")
bytes_ = 4 * two["parameters"]
bus = two["all_reduce"][-1]["bus_GBps"] * 1e9
compute_s = (two["step_ms"] - two["communication_ms"]) / 1e3
rows, T = two["B"] // 2, two["T"]
print("\n<!-- table-name: model -->")
print("| ranks | all-reduce ms | tokens/s, no overlap | tokens/s, overlapped | efficiency, no overlap |")
print("|---:|---:|---:|---:|---:|")
for n in (2, 8, 64):
    ring = 2 * (n - 1) / n * bytes_ / bus
    plain = n * rows * T / (compute_s + ring)
    overlapped = n * rows * T / max(compute_s, ring)
    ideal = n * rows * T / compute_s
    print(f"| {n} | {ring * 1e3:.1f} | {plain:.0f} | {overlapped:.0f} | {100 * plain / ideal:.0f}% |")
print(f"\nModel: each rank {rows} rows × {T} tokens, {compute_s * 1e3:.1f} ms of compute per step "
      f"(the 2-rank run's step minus its communication), gradients of {bytes_ / 1e6:.1f} MB, "
      f"bus bandwidth {bus / 1e9:.2f} GB/s (the 2-rank all-reduce of that buffer, through shared "
      f"memory on one machine).")
