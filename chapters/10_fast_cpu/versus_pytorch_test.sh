#!/bin/bash
# chapters/10_fast_cpu/versus_pytorch_test.sh — the comparison's machinery, at a tiny size.
#
# Runs versus_pytorch.py end to end (peak probes, a small PyTorch search, two
# rounds per mode) on a tiny GPT, then checks what it wrote: every mode has
# positive tokens/s and GFLOP/s on both sides, the ratio is ours / PyTorch's,
# the round-by-round ratio is the median of the two rounds' ratios with their
# range at 50% (measuring.py's median_interval), the peak is the best of a probe at the start and one before each round and
# the shares are of it, and the markdown holds the table. Timing is not checked (tests never time).
#
# The search pretends to run on an AVX2-only CPU (a fake cpuinfo, --cpuinfo):
# SkylakeX and Cooperlake, whose kernels need AVX-512, must be skipped without
# a PyTorch process ever starting for them. PyTorch runs through a wrapper
# that logs every OPENBLAS_CORETYPE it is started with and dies of SIGILL for
# Zen, as SkylakeX does on a real AVX2-only CPU: the failure must be recorded
# and the search and comparison go on with the setting that ran (unset).
# Then --scaling, with PyTorch forced onto OpenBLAS's Prescott (SSE3) kernels on
# that AVX2 CPU: the table must name the core and say that PyTorch runs far
# below its best there.
# Arguments: versus_pytorch.py, then the flags that name the binaries.
set -euo pipefail

# An AMD EPYC (Zen 3)'s flags: AVX2 and FMA, no AVX-512.
cpuinfo="$TEST_TMPDIR/cpuinfo"
for processor in 0 1; do
  cat >> "$cpuinfo" <<EOF
processor	: $processor
vendor_id	: AuthenticAMD
model name	: AMD EPYC 7B13 (pretended)
flags		: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext invpcid_single ssbd ibrs ibpb stibp vmmcall fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr arat npt nrip_save umip vaes vpclmulqdq rdpid fsrm

EOF
done

# The wrapper stands in for pytorch_throughput.py (BUILD passes the real one's
# path after --pytorch); the later --pytorch below replaces it.
args=("$@")
for i in "${!args[@]}"; do
  if [[ ${args[$i]} == --pytorch ]]; then export REAL_PYTORCH="$PWD/${args[$((i + 1))]}"; fi
done
export TRIED_LOG="$TEST_TMPDIR/tried.txt"
wrapper="$TEST_TMPDIR/pytorch_wrapper.py"
cat > "$wrapper" <<'PY'
import os, resource, signal, sys
coretype = os.environ.get("OPENBLAS_CORETYPE", "unset")
with open(os.environ["TRIED_LOG"], "a") as log:
    log.write(coretype + "\n")
if coretype == "Zen":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
    os.kill(os.getpid(), signal.SIGILL)
os.execv(sys.executable, [sys.executable, "-B", os.environ["REAL_PYTORCH"]] + sys.argv[1:])
PY

out="$TEST_TMPDIR/results"
/usr/bin/python3 -B "$@" --pytorch "$wrapper" --cpuinfo "$cpuinfo" --out "$out" \
  --rounds 2 --seconds 0 --steps 1 \
  --coretypes Zen,SkylakeX,Cooperlake,unset --blas_threads 1 --torch_threads 1 \
  --search_seconds 0 --search_new_tokens 4 --new_tokens 8 --threads 2 \
  --embed_size 32 --num_layers 2 --heads 2 --ff_dim 64 --batch_size 2 --block_size 8 \
  > "$TEST_TMPDIR/log.txt"

/usr/bin/python3 -B - "$out/versus_pytorch.json" "$out/versus_pytorch.md" "$TRIED_LOG" \
  "$TEST_TMPDIR/log.txt" <<'PY'
import json, math, statistics, sys
data = json.load(open(sys.argv[1]))
markdown = open(sys.argv[2]).read()
tried = open(sys.argv[3]).read().split()
log = open(sys.argv[4]).read()
def positive(x, what):
    assert isinstance(x, (int, float)) and math.isfinite(x) and x > 0, f"{what}: {x!r}"
assert data["peak"]["peak_gflops_all"] > 0 and data["peak"]["peak_gflops_1_thread"] > 0
# The peak: one probe at the start and one before each round (two rounds, three
# modes), the best of them, and the shares of it.
probes = data["peak"]["probes"]
assert len(probes) == 1 + 3 * 2, f"{len(probes)} probes"  # at the start, before each round
assert data["peak"]["peak_gflops_all"] == max(p["peak_gflops_all"] for p in probes)
assert data["peak"]["peak_gflops_all_lowest"] == min(p["peak_gflops_all"] for p in probes)
assert data["peak"]["peak_gflops_1_thread"] == max(p["peak_gflops_1_thread"] for p in probes)
for r in data["rows"]:  # each side's share: of one thread's peak on one thread
    for side in ("ours", "pytorch"):
        one = r[f"{side}_threads"] == 1
        peak = data["peak"]["peak_gflops_1_thread" if one else "peak_gflops_all"]
        share = r[side]["gflop_per_s"] / peak
        assert abs(r[f"{side}_peak_share"] - share) < 1e-12, (r["mode"], side)
assert "the best of 7 probes" in markdown, markdown

# AVX-512 core types: skipped, never started.
assert "SkylakeX" not in tried and "Cooperlake" not in tried, f"started for {tried}"
skipped = {s["openblas_coretype"]: s["missing_flags"] for s in data["search_skipped"]}
assert sorted(skipped) == ["Cooperlake", "SkylakeX"], skipped
assert all("avx512f" in missing for missing in skipped.values()), skipped
assert "skipped OPENBLAS_CORETYPE SkylakeX: its kernels need" in log, log
assert "SkylakeX (no avx512bw, avx512cd, avx512dq, avx512f, avx512vl)" in markdown, markdown
# Zen (AVX2) passes the check; its process dies, is recorded, and the rest goes on.
assert tried[0] == "Zen" and "unset" in tried, tried
failed = data["search_failed"]
assert [f["openblas_coretype"] for f in failed] == ["Zen"], failed
assert failed[0]["returncode"] == -4 and "signal 4" in failed[0]["status"], failed
assert "Failed (left out of the choice)" in markdown and "Zen: killed by signal 4" in markdown
# Only the setting that ran is in the search: one trial per mode.
assert [r["openblas_coretype"] for r in data["search"]] == ["unset"] * 3, data["search"]
assert all(r["openblas_core"] for r in data["search"]), "OpenBLAS names its core"

# The comparison, with the setting that ran.
modes = [r["mode"] for r in data["rows"]]
assert modes == ["train", "forward", "generate"], modes
for r in data["rows"]:
    for side in ("ours", "pytorch"):
        for key in ("tokens_per_s", "gflop_per_s", "ms_per_step"):
            positive(r[side][key], f"{r['mode']} {side} {key}")
    positive(r["ratio"], f"{r['mode']} ratio")
    assert abs(r["ratio"] - r["ours"]["tokens_per_s"] / r["pytorch"]["tokens_per_s"]) < 1e-9
    # Round by round: the median of the rounds' ratios, inside its range.
    paired = sorted(a["tokens_per_s"] / b["tokens_per_s"]
                    for a, b in zip(r["runs"]["ours"], r["runs"]["pytorch"]))
    p = r["ratio_round_by_round"]
    assert abs(p["median"] - statistics.median(paired)) < 1e-12, (p, paired)
    assert (p["low"], p["high"], p["confidence"]) == (paired[0], paired[-1], 0.5), (p, paired)
    assert f"{r['ratio']:.2f}x | {p['median']:.2f}x ({p['low']:.2f}–{p['high']:.2f}, " in markdown
    assert r["config"]["embed_size"] == 32, r["config"]
    ours, theirs = r["runs"]["ours"][0], r["runs"]["pytorch"][0]
    assert ours["flop_per_token"] == theirs["flop_per_token"], "both sides count the same FLOPs"
    assert f"| {r['mode']} |" in markdown, f"no {r['mode']} row in the markdown"
    assert r["pytorch_setting"].endswith("OPENBLAS_CORETYPE unset"), r["pytorch_setting"]
print("versus_pytorch: ok;", ", ".join(f"{r['mode']} {r['ratio']:.2f}x" for r in data["rows"]))
PY

# --scaling on OpenBLAS's Prescott kernels: one size, both modes, 1 and 2 threads.
scaling_out="$TEST_TMPDIR/scaling"
/usr/bin/python3 -B "$@" --pytorch "$wrapper" --cpuinfo "$cpuinfo" --out "$scaling_out" \
  --scaling --scaling_sizes 32 --scaling_steps 1 --scaling_coretype Prescott \
  --num_layers 2 --heads 2 --batch_size 2 --block_size 8 > "$TEST_TMPDIR/scaling_log.txt"

/usr/bin/python3 -B - "$scaling_out/scaling.json" "$scaling_out/scaling.md" \
  "$TEST_TMPDIR/scaling_log.txt" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
markdown = open(sys.argv[2]).read()
log = open(sys.argv[3]).read()
cells = [(r["embed_size"], r["mode"], r["threads"]) for r in data["rows"]]
assert cells == [(32, "train", 1), (32, "train", 2), (32, "forward", 1), (32, "forward", 2)], cells
cores = {r["pytorch_openblas_core"].lower() for r in data["rows"]}
assert cores == {"prescott"}, cores
for text, where in ((markdown, "scaling.md"), (log, "the log")):
    assert "kernels, older than this CPU's vector units" in text, f"no warning in {where}"
print("versus_pytorch --scaling: ok; OpenBLAS's core", ", ".join(sorted(cores)))
PY
