#!/usr/bin/python3
"""A Google Benchmark JSON file as a Markdown table a lesson can quote.

    /usr/bin/python3 tools/bench_table.py results/amd-epyc-2-cores/gpt_bench.json
        > results/amd-epyc-2-cores/gpt_bench.md

tools/run_benchmarks.sh writes one beside every JSON file it writes. A lesson
quotes the table (`<!-- table: ../../results/<machine>/<name>.md -->`) or names
its numbers in prose (`<!-- measured: ... -->`), and tools/lesson_quotes.py
checks that the table is still what this script makes of the JSON, so a
number in a lesson always traces back to a measurement.

Times are rounded to 3 significant digits, in the unit that keeps them between
1 and 1000; rates (items/s, bytes/s, FLOP/s, tokens/s counters) likewise.
"""
import json
import math
import os
import sys


def significant(x, digits=3):
    """x rounded to `digits` significant digits, as text (no exponent)."""
    if x == 0 or not math.isfinite(x):
        return str(x)
    rounded = float(f"{x:.{digits - 1}e}")  # 999.7 -> 1000: the digits after rounding
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(rounded)))))
    return f"{rounded:.{decimals}f}"


def duration(value, unit):
    """A benchmark time in its JSON unit, as text in ns, µs, ms or s."""
    ns = float(f"{value * {'ns': 1, 'us': 1e3, 'ms': 1e6, 's': 1e9}[unit]:.2e}")
    for limit, scale, name in ((1e3, 1, "ns"), (1e6, 1e3, "µs"), (1e9, 1e6, "ms")):
        if ns < limit:
            return f"{significant(ns / scale)} {name}"
    return f"{significant(ns / 1e9)} s"


def rate(per_second, what):
    """A rate as text with a k, M, G or T prefix: '418 M items/s', '57.3 GFLOP/s'."""
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if per_second >= scale:
            return f"{significant(per_second / scale)} {prefix}{joiner(what)}{what}/s"
    return f"{significant(per_second)} {what}/s"


def joiner(what):
    """'GFLOP/s' and 'GB/s' are written together, 'M items/s' apart."""
    return "" if what in ("FLOP", "B") else " "


# Counters that are rates, with the unit each is shown in.
RATES = {"items_per_second": "items", "bytes_per_second": "B", "FLOP": "FLOP",
         "FLOP/s": "FLOP", "tokens_per_second": "tokens", "tokens": "tokens",
         "tokens/s": "tokens", "tokens_per_s": "tokens"}
# Counters already scaled by the benchmark: shown as they are, with their unit.
SCALED = ("GFLOP/s", "TFLOP/s", "GB/s")


def markdown(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    context = data.get("context", {})
    machine_file = os.path.join(os.path.dirname(path), "machine.json")
    where = os.path.basename(os.path.dirname(os.path.abspath(path)))
    if os.path.exists(machine_file):
        with open(machine_file, encoding="utf-8") as f:
            machine = json.load(f)
        where = f"{machine.get('cpu', where)}, {machine.get('cores', '?')} cores" + (
            f", {machine['gpu']}" if machine.get("gpu") else "")
    lines = [f"# {os.path.basename(path)[:-5]}",
             "",
             f"Measured on {where}, {context.get('date', 'date unknown')[:10]}; "
             f"written by tools/bench_table.py from {os.path.basename(path)}.",
             "",
             "| benchmark | label | time | rate | other counters |",
             "|---|---|---:|---:|---|"]
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        rates, others = [], []
        for key, value in b.items():
            if key in RATES and isinstance(value, (int, float)):
                rates.append(rate(value, RATES[key]))
            elif key in SCALED and isinstance(value, (int, float)):
                rates.append(f"{significant(value)} {key}")
            elif key not in KNOWN and isinstance(value, (int, float)):
                others.append(f"{key} {significant(value)}")
        lines.append(f"| {b['name']} | {b.get('label', '')} | "
                     f"{duration(b['real_time'], b.get('time_unit', 'ns'))} | "
                     f"{', '.join(rates)} | {', '.join(others)} |")
    return "\n".join(lines) + "\n"


# Fields every benchmark has, not counters.
KNOWN = {"family_index", "per_family_instance_index", "repetitions", "repetition_index",
         "threads", "iterations", "real_time", "cpu_time"}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.stdout.write(markdown(sys.argv[1]))


if __name__ == "__main__":
    main()
