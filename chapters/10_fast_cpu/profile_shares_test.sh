#!/bin/bash
# chapters/10_fast_cpu/profile_shares_test.sh — profile_shares.py's arithmetic, with stand-ins.
#
# A stand-in perf runs the program it is asked to record and answers
# `perf report` with a fixed profile (a share and a sample count a line):
# with the kernel at 70% of 10,000 samples when asked for the timed steps'
# window (--time), at 60% when asked for the whole run. A stand-in throughput
# prints a JSON line at 190, 200, 230 GFLOP/s in turn, with a timed window of
# 5.75 s; a stand-in peak_flops probes 300, 350 and 320 GFLOP/s on 2 cores
# (170 on one). No timing is checked (tests never time). Checked:
#   1. perf record's and report's flags (the monotonic clock, the fields),
#      and the window perf report is given: exactly the one throughput printed;
#   2. the shares: kernel 70% (timed) and 60% (whole run), packing pack_A +
#      pack_B, the OpenMP runtime by its library (libgomp), the rest listed
#      with short names, largest first, without those three;
#   3. the products' part of the FLOPs (0.9601 at the seed size, from
#      throughput's product_flop_per_token and flop_per_token) and the kernel's rate, medians and ranges
#      over 3 rounds: 200 × 0.9601 / 0.70 = 274 GFLOP/s (261–315), 0.78 of the
#      best probe (350), the model at 57.1% of it; the samples' coverage,
#      10,000 of 999 × 2 × 5.75; the JSON has every run;
#   4. the peak for the run's thread count: one thread's probe for --threads 1,
#      none for a count peak_flops does not measure;
#   5. clear failures: generation refused, a flag the script sets passed after
#      --, no perf, a failing throughput, a profile without the kernel; no
#      temporary files left behind.
# Argument: profile_shares.py (measuring.py and spin_waiting.h beside it).
set -euo pipefail
script="$1"
work="$TEST_TMPDIR/work"
mkdir -p "$work/tmp" "$work/bin"
export TMPDIR="$work/tmp"
log="$work/perf.log"
export FAKE_PERF_LOG="$log"

cat > "$work/bin/perf" <<'PERF'
#!/usr/bin/python3
import os, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_PERF_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
if args[0] == "record":
    out = args[args.index("-o") + 1]
    open(out, "w").write("samples")
    sys.exit(subprocess.run(args[args.index("--") + 1:]).returncode)
assert args[0] == "report"
def row(percent, dso, symbol, kind="."):  # a share, its samples (of 10,000), the library, the name
    # and perf's two IPC columns, "-" without a hardware counter
    print("   %6.2f%%  %8d  %-16s  [%s] %-40s  -  -" % (percent, round(100 * percent), dso, kind, symbol))
print("# Overhead  Samples  Shared Object  Symbol")
print("#")
if os.environ.get("FAKE_PERF_NO_KERNEL"):
    row(100.0, "throughput", "main")
    sys.exit(0)
timed = "--time" in args
row(70.0 if timed else 60.0, "throughput", "gpt::micro_kernel<8>")
row(5.0, "throughput", "gpt::(anonymous namespace)::pack_A")
row(2.0, "throughput", "gpt::(anonymous namespace)::pack_B")
row(1.5, "libgomp.so.1.0.0", "0x000000000001f7da")
row(4.0, "throughput", "gpt::scaled_causal_softmax")
row(3.0, "throughput", "gpt::parallel_rows<gpt::fast_bias_gelu_forward(float*, int)::{lambda(int)#1}>")
row(14.0, "throughput", "gpt::everything_else")
row(0.0 if timed else 10.0, "libm.so.6", "__cos_fma")
row(0.5 if timed else 0.0, "[kernel.kallsyms]", "clear_page_erms", "k")
PERF
cat > "$work/bin/throughput" <<'THROUGHPUT'
#!/usr/bin/python3
import json, os, sys
if "--fail" in sys.argv:
    sys.exit("throughput: out of memory, say")
n = os.path.join(os.environ["TMPDIR"], "..", "starts")
count = (int(open(n).read()) if os.path.exists(n) else 0) + 1
open(n, "w").write(str(count))
mode = sys.argv[sys.argv.index("--mode") + 1]
print(json.dumps({"side": "ours", "mode": mode,
                  "gflop_per_s": [190.0, 200.0, 230.0][(count - 1) % 3], "tokens_per_s": 20000.0,
                  "flop_per_token": 9863680.0 * (3 if mode == "train" else 1),
                  "product_flop_per_token": 9470464.0 * (3 if mode == "train" else 1),
                  "threads": int(sys.argv[sys.argv.index("--threads") + 1]),
                  "config": {"batch_size": 32, "block_size": 64, "embed_size": 256,
                             "num_layers": 6, "heads": 8, "ff_dim": 1024, "vocab_size": 65},
                  "timed_from_s": 1234.5, "timed_to_s": 1240.25}))
THROUGHPUT
cat > "$work/bin/peak_flops" <<'PEAK'
#!/usr/bin/python3
import json, os
n = os.path.join(os.environ["TMPDIR"], "..", "probes")
count = (int(open(n).read()) if os.path.exists(n) else 0) + 1
open(n, "w").write(str(count))
print(json.dumps({"peak_gflops_1_thread": 170.0,
                  "peak_gflops_all": [300.0, 350.0, 320.0][(count - 1) % 3], "threads_all": 2}))
PEAK
chmod +x "$work/bin/"*

check() {  # check WHAT TEXT PATTERN...: fails unless TEXT holds every pattern
  local what="$1" text="$2"; shift 2
  for pattern in "$@"; do
    if ! grep -qF -- "$pattern" <<<"$text"; then
      echo "FAIL: $what: no '$pattern' in:"; echo "$text"; exit 1
    fi
  done
}
no_leftovers() {
  if [[ -n $(ls -A "$TMPDIR") ]]; then
    echo "FAIL: $1: left behind in TMPDIR:"; ls -A "$TMPDIR"; exit 1
  fi
}

run() {  # two threads unless told otherwise, whatever this machine's CPU count
  /usr/bin/python3 "$script" --perf "$work/bin/perf" --throughput "$work/bin/throughput" \
    --threads 2 "$@"
}
runs_well() {  # runs_well WHAT ARGS...: the report, or the failure with what the script said
  local what="$1"; shift
  if ! run "$@" 2>"$work/stderr"; then
    echo "FAIL: $what: profile_shares.py failed:" >&2; cat "$work/stderr" >&2; exit 1
  fi
}

# 1-3: three rounds of forward, with the peak.
out=$(runs_well "three rounds" --peak "$work/bin/peak_flops" --modes forward --rounds 3 \
        --seconds 1 --out "$work/report" -- --embed_size 256)
check "perf's flags" "$(cat "$log")" "record -q --no-buildid-cache -k CLOCK_MONOTONIC -F 999" \
  "--no-children --sort dso,symbol --fields overhead,sample,dso,sym --stdio --time 1234.500000,1240.250000"
check "the flags after --" "$(cat "$log")" "--mode forward --threads 2 --seconds 1 --embed_size 256"
check "the table" "$out" \
  "| forward | 200 (190–230) | 57.1% (54.3%–65.7%) | 70.0% (70.0%–70.0%) | 60.0% (60.0%–60.0%) | 7.0% (7.0%–7.0%) | 1.5% (1.5%–1.5%) | 274 (261–315) | 0.78 (0.74–0.90) | 0.87 (0.87–0.87) |" \
  "FMA peak on 2 thread(s): the best of 9 probes, 350 GFLOP/s (lowest 300)"
rest=$(sed -n '/largest of the rest/,$p' <<<"$out")
check "the rest, largest first" "$(head -5 <<<"$rest")" \
  "14.00%  gpt::everything_else" " 4.00%  gpt::scaled_causal_softmax" \
  " 3.00%  gpt::parallel_rows<gpt::fast_bias_gelu_forward::{lambda}>"
if grep -qF -- " - -" <<<"$rest"; then
  echo "FAIL: perf's IPC columns left in the names:"; echo "$rest"; exit 1
fi
for counted in __cos_fma micro_kernel pack_A pack_B libgomp; do
  if grep -q "$counted" <<<"$rest"; then
    echo "FAIL: $counted among the rest (start-up's, or counted in its own column):"; echo "$out"
    exit 1
  fi
done
/usr/bin/python3 - "$work/report/profile_shares.json" <<'JSON'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["runs"]) == 3, d
assert [p["peak_gflops_all"] for p in d["probes"]] == [300.0, 350.0, 320.0] * 3, d["probes"]
r = d["runs"][0]
assert abs(r["products_fraction"] - 9470464 / 9863680) < 1e-12, r["products_fraction"]
assert abs(r["kernel_rate_gflops"] - 190 * r["products_fraction"] / 0.70) < 1e-9, r
assert r["kernel_share_whole_run"] == 0.60 and abs(r["timed"]["packing"] - 0.07) < 1e-12, r
assert r["timed"]["samples"] == 10000, r["timed"]["samples"]
assert abs(r["sample_coverage"] - 10000 / (999 * 2 * 5.75)) < 1e-12, r["sample_coverage"]
JSON
test -f "$work/report/profile_shares.md"
no_leftovers "a finished run"

# Without --peak: no shares of the peak; training's fraction from its own FLOP count.
out=$(runs_well "no peak" --modes train --rounds 1 --seconds 1)
check "no peak" "$out" "| train | 190 (190–190) | — | 70.0% (70.0%–70.0%) |" "| 261 (261–261) | — |"
no_leftovers "a run without the peak"

# 4: one thread's peak for one thread; none for a count peak_flops does not measure.
out=$(runs_well "one thread" --peak "$work/bin/peak_flops" --threads 1 --modes train --rounds 1)
check "one thread" "$out" "FMA peak on 1 thread(s): the best of 3 probes, 170 GFLOP/s (lowest 170)"
out=$(runs_well "three threads" --peak "$work/bin/peak_flops" --threads 3 --modes train --rounds 1)
check "three threads" "$out" \
  "No share of the peak: peak_flops measures 1 thread and all 2 cores, not 3."
no_leftovers "runs on other thread counts"

# 5: clear failures.
expect_failure() {  # expect_failure WHAT PATTERN ARGS...
  local what="$1" pattern="$2"; shift 2
  local err
  if err=$(run "$@" 2>&1 >/dev/null); then echo "FAIL: $what succeeded"; exit 1; fi
  check "$what" "$err" "$pattern"
  no_leftovers "$what"
}
expect_failure "generation" "is not train or forward" --modes generate
expect_failure "--threads after --" "--threads after -- : this script sets it itself" -- --threads 4
expect_failure "a failing run" "out of memory, say" --rounds 1 -- --fail
FAKE_PERF_NO_KERNEL=1 expect_failure "no kernel" "no samples in micro_kernel" --rounds 1
if err=$(/usr/bin/python3 "$script" --perf "$work/bin/no-such-perf" \
           --throughput "$work/bin/throughput" 2>&1); then
  echo "FAIL: a missing perf succeeded"; exit 1
fi
check "no perf" "$err" "install Linux's perf"
echo "PASS"
