"""Medians of probe.sh's rounds: one process on two threads at B = 12 against
two one-thread processes at B = 6, and the pair's ratio to the one, round by
round. Usage: python3 summarize.py ROUNDS.jsonl"""
import json
import math
import statistics
import sys


def sign_test_range(values):
    """The range of sorted values that holds their true median with at least
    95% confidence (the sign test's), and that confidence."""
    n, v = len(values), sorted(values)
    below = lambda k: sum(math.comb(n, i) for i in range(k)) / 2**n  # P(fewer than k under it)
    k = max((k for k in range(1, n // 2 + 1) if below(k) <= 0.025), default=1)
    return v[k - 1], v[n - k], 1 - 2 * below(k)

rows = [json.loads(line) for line in open(sys.argv[1])]
print("| mode | one process, 2 threads, B = 12: GFLOP/s | two processes, 1 thread, B = 6 each: GFLOP/s | pair / one, round by round: median (95% range) | rounds the pair was faster |")
print("|---|---:|---:|---:|---:|")
for mode in ("train", "forward"):
    one = [r["one_process_two_threads_b12"]["gflop_per_s"] for r in rows if r["mode"] == mode]
    pair = [r["two_processes_one_thread_b6"]["gflop_per_s"] for r in rows if r["mode"] == mode]
    ratio = [p / o for o, p in zip(one, pair)]
    low, high, confidence = sign_test_range(ratio)
    print(f"| {mode} | {statistics.median(one):.1f} ({min(one):.1f}–{max(one):.1f}) "
          f"| {statistics.median(pair):.1f} ({min(pair):.1f}–{max(pair):.1f}) "
          f"| {statistics.median(ratio):.3f}× ({low:.3f}–{high:.3f}, {confidence:.1%}) "
          f"| {sum(r > 1 for r in ratio)} of {len(ratio)} |")
