#!/bin/bash
# chapters/10_fast_cpu/profile_shares_test.sh — profile_shares.py's arithmetic, with stand-ins.
#
# A stand-in perf runs the program it is asked to record and answers
# `perf report` with a fixed profile: one with the kernel at 70% of the
# samples when asked for the timed steps' window (--time), another with it
# at 60% when asked for the whole run. A stand-in throughput prints a JSON
# line at 200 GFLOP/s with a timed window; a stand-in peak_flops probes 300,
# 350 and 320 GFLOP/s. No timing is checked (tests never time). Checked:
#   1. the window perf report is given is exactly the one throughput printed;
#   2. the shares: kernel 70% (timed) and 60% (whole run), packing pack_A +
#      pack_B, the OpenMP runtime by its library (libgomp), the rest listed
#      with short names, largest first;
#   3. the products' part of the FLOPs (0.9601 at the seed size) and the
#      kernel's rate: 200 × 0.9601 / 0.70 = 274 GFLOP/s, 0.78 of the best
#      probe (350), the model at 57.1% of it; the JSON has every run;
#   4. clear failures: generation refused, no perf, a failing throughput, a
#      profile without the kernel; no temporary files left behind.
# Argument: profile_shares.py (measuring.py and spin_waiting.h beside it).
set -euo pipefail
script="$1"
work="$TEST_TMPDIR/work"
mkdir -p "$work/tmp" "$work/bin"
export TMPDIR="$work/tmp"
log="$work/perf.log"
export FAKE_PERF_LOG="$log"

cat > "$work/bin/perf" <<'EOF'
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
if os.environ.get("FAKE_PERF_NO_KERNEL"):
    print("   100.00%  throughput  [.] main  -  -")
    sys.exit(0)
timed = "--time" in args
print("# Overhead  Shared Object  Symbol")
print("#")
print("    %.2f%%  throughput        [.] gpt::micro_kernel<8>  -  -" % (70.0 if timed else 60.0))
print("     5.00%  throughput        [.] gpt::(anonymous namespace)::pack_A  -  -")
print("     2.00%  throughput        [.] gpt::(anonymous namespace)::pack_B  -  -")
print("     1.50%  libgomp.so.1.0.0  [.] 0x000000000001f7da  -  -")
print("     4.00%  throughput        [.] gpt::scaled_causal_softmax  -  -")
print("     3.00%  throughput        [.] gpt::parallel_rows<gpt::fast_bias_gelu_forward(float*, int)::{lambda(int)#1}>  -  -")
print("     %.2f%%  libm.so.6         [.] __cos_fma  -  -" % (0.0 if timed else 10.0))
print("     0.50%  [kernel.kallsyms]  [k] clear_page_erms  -  -")
EOF
cat > "$work/bin/throughput" <<'EOF'
#!/usr/bin/python3
import json, sys
if "--fail" in sys.argv:
    sys.exit("throughput: out of memory, say")
print(json.dumps({"side": "ours", "mode": sys.argv[sys.argv.index("--mode") + 1],
                  "gflop_per_s": 200.0, "tokens_per_s": 20000.0,
                  "config": {"batch_size": 32, "block_size": 64, "embed_size": 256,
                             "num_layers": 6, "heads": 8, "ff_dim": 1024, "vocab_size": 65},
                  "timed_from_s": 1234.5, "timed_to_s": 1240.25}))
EOF
cat > "$work/bin/peak_flops" <<'EOF'
#!/usr/bin/python3
import json, os
n = os.path.join(os.environ["TMPDIR"], "..", "probes")
count = (int(open(n).read()) if os.path.exists(n) else 0) + 1
open(n, "w").write(str(count))
print(json.dumps({"peak_gflops_1_thread": 170.0,
                  "peak_gflops_all": [300.0, 350.0, 320.0][(count - 1) % 3], "threads_all": 2}))
EOF
chmod +x "$work/bin/"*

check() {  # check WHAT: fails unless the output holds every pattern after it
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

run() { python3 "$script" --perf "$work/bin/perf" --throughput "$work/bin/throughput" "$@"; }

# 1-3: two rounds of forward, with the peak.
out=$(run --peak "$work/bin/peak_flops" --modes forward --rounds 2 --seconds 1 \
          --out "$work/report" -- --embed_size 256 2>/dev/null)
check "the window" "$(cat "$log")" "--time 1234.500000,1240.250000"
check "the flags after --" "$(cat "$log")" "--mode forward --threads 2 --seconds 1 --embed_size 256"
check "the table" "$out" \
  "| forward | 200 (200–200) | 57.1% (57.1%–57.1%) | 70.0% (70.0%–70.0%) | 60.0% (60.0%–60.0%) | 7.0% (7.0%–7.0%) | 1.5% (1.5%–1.5%) | 274 (274–274) | 0.78 (0.78–0.78) |" \
  "the best of 6 probes, 350 GFLOP/s (lowest 300)"
check "the rest, largest first" "$(grep -A3 'largest of the rest' <<<"$out")" \
  " 4.00%  gpt::scaled_causal_softmax" " 3.00%  gpt::parallel_rows<gpt::fast_bias_gelu_forward::{lambda}>"
if grep -q "__cos_fma" <<<"$out"; then
  echo "FAIL: start-up's samples (cos at 0% in the window) listed:"; echo "$out"; exit 1
fi
python3 - "$work/report/profile_shares.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["runs"]) == 2 and d["probes"] == [300.0, 350.0, 320.0] * 2, d
r = d["runs"][0]
assert abs(r["products_fraction"] - 9470464 / 9863680) < 1e-12, r["products_fraction"]
assert abs(r["kernel_rate_gflops"] - 200 * r["products_fraction"] / 0.70) < 1e-9, r
assert r["kernel_share_whole_run"] == 0.60 and abs(r["timed"]["packing"] - 0.07) < 1e-12, r
EOF
test -f "$work/report/profile_shares.md"
no_leftovers "a finished run"

# Without --peak: no shares of the peak, the rest as before.
out=$(run --modes train --rounds 1 --seconds 1 2>/dev/null)
check "no peak" "$out" "| train | 200 (200–200) | — | 70.0% (70.0%–70.0%) |"
no_leftovers "a run without the peak"

# 4: clear failures.
expect_failure() {  # expect_failure WHAT PATTERN ARGS...
  local what="$1" pattern="$2"; shift 2
  local err
  if err=$(run "$@" 2>&1 >/dev/null); then echo "FAIL: $what succeeded"; exit 1; fi
  check "$what" "$err" "$pattern"
  no_leftovers "$what"
}
expect_failure "generation" "is not train or forward" --modes generate
expect_failure "a failing run" "out of memory, say" --rounds 1 -- --fail
FAKE_PERF_NO_KERNEL=1 expect_failure "no kernel" "no samples in micro_kernel" --rounds 1
if err=$(python3 "$script" --perf "$work/bin/no-such-perf" --throughput "$work/bin/throughput" 2>&1); then
  echo "FAIL: a missing perf succeeded"; exit 1
fi
check "no perf" "$err" "install Linux's perf"
echo "PASS"
