#!/bin/bash
# chapters/17_mixed_precision/versus_pytorch_gpu.sh — our bf16 training step against PyTorch's, on one GPU, in one run.
#
#   bash versus_pytorch_gpu.sh --bench PATH/bf16_training_bench \
#       --pytorch PATH/pytorch_bf16_training.py --out DIR [--gpt2_batch B] [--tiny] [--python PY]
#   bazel run //chapters/17_mixed_precision:versus_pytorch_gpu     # on a machine with a GPU and Bazel:
#                                                                  # writes results/<gpu>/versus_pytorch.md
#
# 1. bf16_training_bench: chapter 14's training step at the seed shape and at
#    GPT-2 small's (B = --gpt2_batch, default 8; T = 1024), fp32 (cuBLAS) and
#    bf16 (chapter 17's products); tokens/s and MFU against the card's dense
#    bf16 peak (the benchmark's table of datasheet peaks, or
#    GPT_BF16_PEAK_TFLOPS).
# 2. pytorch_bf16_training.py at each of the same shapes and batch sizes:
#    eager PyTorch, bf16 autocast, scaled_dot_product_attention, fused AdamW;
#    its MFU against the same peak, FLOPs counted the same way.
# 3. DIR/versus_pytorch.md and .json: the device, the date, tokens/s of ours
#    in fp32 and bf16 and of PyTorch in bf16, the ratio ours bf16 / PyTorch,
#    every MFU, and whether the goal (>= 40% bf16 MFU at GPT-2 small, ahead of
#    PyTorch) is met. The raw outputs beside them: versus_pytorch_bench.txt,
#    .json, versus_pytorch_pytorch.jsonl.
# The two sides run one after the other, once each (a GPU's speed does not
# drift with the host's load as a CPU's does; chapter 10 alternates rounds).
#
# --tiny: the benchmark's tiny shape (on the CPU emulator too) and PyTorch's on
# the CPU, for versus_pytorch_gpu_test: a check of the machinery, no numbers.
# In the GPU bundle, run_all.sh runs it as "versus_pytorch_gpu":
#   GPU_BUNDLE_ONLY=versus_pytorch_gpu bash gpu_bundle/run_all.sh
# Exit status: 0 when both sides ran (whatever the numbers say), 1 otherwise.
set -uo pipefail

bench="" pytorch="" out="" tiny=0 gpt2_batch=8 python=python3
while [ $# -gt 0 ]; do
  case $1 in
    --bench) bench=$2; shift 2 ;;
    --pytorch) pytorch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --gpt2_batch) gpt2_batch=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    --tiny) tiny=1; shift ;;
    *) echo "versus_pytorch_gpu: unknown argument $1" >&2; exit 2 ;;
  esac
done
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
# Under `bazel run`, --out defaults to results/<gpu>/ in the workspace
# ("NVIDIA H200, 580.159.04" -> h200).
if [ -z "$out" ] && [ -n "${BUILD_WORKSPACE_DIRECTORY:-}" ] && [ -n "$gpu" ]; then
  slug=$(sed -E 's/^NVIDIA //; s/[ ,].*//' <<<"$gpu" | tr 'A-Z' 'a-z')
  out=$BUILD_WORKSPACE_DIRECTORY/chapters/17_mixed_precision/results/$slug
fi
[ -n "$bench" ] && [ -n "$pytorch" ] && [ -n "$out" ] || {
  echo "usage: versus_pytorch_gpu.sh --bench BIN --pytorch SCRIPT --out DIR [--gpt2_batch B] [--tiny] [--python PY]" >&2
  exit 2
}
mkdir -p "$out" || exit 1
out=$(cd "$out" && pwd)
date=$(date -u +%Y-%m-%dT%H:%MZ)
echo "versus_pytorch_gpu: ${gpu:-no nvidia-smi}, $date"

# 1. Ours.
bench_args=(--benchmark_out="$out/versus_pytorch_bench.json" --benchmark_out_format=json)
[ "$tiny" -eq 1 ] && bench_args+=(--tiny) || bench_args+=(--gpt2_batch="$gpt2_batch")
rm -f "$out/versus_pytorch_bench.json"
"$bench" "${bench_args[@]}" 2>&1 | tee "$out/versus_pytorch_bench.txt"
bench_rc=${PIPESTATUS[0]}
if [ "$bench_rc" -ne 0 ] || [ ! -s "$out/versus_pytorch_bench.json" ]; then
  echo "versus_pytorch_gpu: bf16_training_bench gave no results (exit $bench_rc; no GPU?)" >&2
  exit 1
fi

# 2. PyTorch, at the benchmark's shapes and its peak. The GPU bundle's run_all.sh
# puts its own lib/ (an older libstdc++, say) and the toolkit first in
# LD_LIBRARY_PATH for our programs; PyTorch brings its own, so that prefix is
# taken off again for it.
bundle_lib=$(cd "$(dirname "$bench")/.." && pwd)/lib
python_ld=${LD_LIBRARY_PATH:-}
python_ld=${python_ld#"$bundle_lib:/usr/local/cuda/lib64:"}
python_ld=${python_ld#"$bundle_lib:"}
read -r peak shapes < <("$python" -B - "$out/versus_pytorch_bench.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
shapes = []
for b in data["benchmarks"]:
    shape = b["name"].split("/")[2]
    if shape not in shapes:
        shapes.append(shape)
print(data["context"].get("bf16_peak_tflops", "0"), " ".join(shapes))
PY
)
: >"$out/versus_pytorch_pytorch.jsonl"
pytorch_rc=0
for shape in ${shapes:-}; do
  args=(--shape "$shape" --peak_tflops "${peak:-0}")
  case $shape in
    gpt2) args+=(--batch_size "$gpt2_batch") ;;
    tiny) args+=(--device cpu --warmup 1 --steps 2) ;;
  esac
  echo "== PyTorch: ${args[*]}"
  LD_LIBRARY_PATH=$python_ld "$python" -B "$pytorch" "${args[@]}" >>"$out/versus_pytorch_pytorch.jsonl"
  rc=$?
  [ $rc -eq 0 ] || { echo "versus_pytorch_gpu: PyTorch at $shape failed (exit $rc)" >&2; pytorch_rc=1; }
done
cat "$out/versus_pytorch_pytorch.jsonl"

# 3. The table.
"$python" -B - "$out" "$date" "${gpu:-}" "$tiny" <<'PY'
import json, math, os, sys
out, date, gpu, tiny = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
bench = json.load(open(os.path.join(out, "versus_pytorch_bench.json")))
ctx = bench["context"]
peak = float(ctx.get("bf16_peak_tflops", "0"))
ours = {}
for b in bench["benchmarks"]:
    _, fmt, shape = b["name"].split("/")[:3]
    ours[(shape, fmt)] = b
tiny = tiny or any(shape == "tiny" for shape, _ in ours)  # GPT_BENCH_TINY=1 without --tiny
theirs = {}
for line in open(os.path.join(out, "versus_pytorch_pytorch.jsonl")):
    if line.strip():
        r = json.loads(line)
        theirs[r["shape"]] = r

GOAL_MFU = 40.0
rows = []
for shape in dict.fromkeys(s for s, _ in ours):
    fp32, bf16, torch_row = ours.get((shape, "fp32_cublas")), ours.get((shape, "bf16")), theirs.get(shape)
    row = {"shape": shape, "ms_per_step": {}, "tokens_per_s": {}, "mfu_percent": {},
           "memory_gib": {}}
    for side, b in (("ours_fp32", fp32), ("ours_bf16", bf16)):
        if b:
            row["tokens_per_s"][side] = b["tokens_per_s"]
            if "engine_GiB" in b:
                row["memory_gib"][side + "_engine"] = b["engine_GiB"]
                row["memory_gib"][side + "_card_in_use"] = b["used_GiB"]
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
            row["ms_per_step"][side] = b["real_time"] * scale
            if "mfu_bf16_percent" in b:
                row["mfu_percent"][side] = b["mfu_bf16_percent"]
    if torch_row:
        row["tokens_per_s"]["pytorch_bf16"] = torch_row["tokens_per_s"]
        row["ms_per_step"]["pytorch_bf16"] = torch_row["ms_per_step"]
        if "mfu_percent" in torch_row:
            row["mfu_percent"]["pytorch_bf16"] = torch_row["mfu_percent"]
        if "max_memory_gib" in torch_row:
            row["memory_gib"]["pytorch_bf16_max_allocated"] = torch_row["max_memory_gib"]
        row["batch_size"], row["block_size"] = (torch_row["config"]["batch_size"],
                                                torch_row["config"]["block_size"])
    t = row["tokens_per_s"]
    if "ours_bf16" in t and "pytorch_bf16" in t:
        row["ratio_ours_bf16_to_pytorch"] = t["ours_bf16"] / t["pytorch_bf16"]
    if "ours_bf16" in t and "ours_fp32" in t:
        row["ratio_bf16_to_fp32"] = t["ours_bf16"] / t["ours_fp32"]
    rows.append(row)

torch_info = next(iter(theirs.values()), {})
device = gpu or ctx.get("gpu", "unknown")
lines = [
    "# Chapter 17 — our bf16 training step against PyTorch's, on one GPU",
    "",
    ("**A check of the machinery (--tiny), not a measurement:** a tiny model, ours on "
     f"{ctx.get('gpu', '?')}, PyTorch on the CPU." if tiny else
     "Written by `versus_pytorch_gpu.sh` (chapter 17); both sides in the same run, one after the other."),
    "",
    f"- device: {device}",
    f"- date: {date}",
    f"- ours: chapter 14's `CudaEngine::step` (forward, loss, backward, clip, AdamW); fp32 = every product "
    f"by cuBLAS in fp32; bf16 = {ctx.get('bf16_products', '?')}; time from CUDA events",
    f"- PyTorch {torch_info.get('torch_version', '?')} (CUDA {torch_info.get('cuda_version')}): "
    f"{torch_info.get('what', 'did not run')}; wall clock between torch.cuda.synchronize() calls, "
    f"after {torch_info.get('warmup', '?')} warm-up steps",
    f"- MFU: model FLOPs per token 6N + 12·L·T·C (chapter 10's model_flops.h, both sides) × tokens/s ÷ "
    + (f"{peak:g} TFLOP/s dense bf16 ({ctx.get('bf16_peak_source', '?')})" if peak > 0 else
       f"no peak known for this device ({ctx.get('bf16_peak_source', '?')}; GPT_BF16_PEAK_TFLOPS sets one)"),
    "",
    "| shape | B | T | ours fp32 tokens/s | ours bf16 tokens/s | PyTorch bf16 tokens/s | ours bf16 / PyTorch "
    "| MFU ours fp32 | MFU ours bf16 | MFU PyTorch bf16 |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
]


def num(x, fmt):
    return "-" if x is None else format(x, fmt)


for r in rows:
    t, m = r["tokens_per_s"], r["mfu_percent"]
    ratio = r.get("ratio_ours_bf16_to_pytorch")
    lines.append(
        f"| {r['shape']} | {r.get('batch_size', '?')} | {r.get('block_size', '?')} "
        f"| {num(t.get('ours_fp32'), ',.0f')} | {num(t.get('ours_bf16'), ',.0f')} "
        f"| {num(t.get('pytorch_bf16'), ',.0f')} | {'-' if ratio is None else format(ratio, '.2f') + '×'} "
        f"| {num(m.get('ours_fp32'), '.1f')}% | {num(m.get('ours_bf16'), '.1f')}% "
        f"| {num(m.get('pytorch_bf16'), '.1f')}% |".replace("-%", "-"))
lines.append("")
for r in rows:
    g = r["memory_gib"]
    if g:
        lines.append(
            f"Memory, {r['shape']}: the engine holds {num(g.get('ours_fp32_engine'), '.2f')} GiB in "
            f"fp32 and {num(g.get('ours_bf16_engine'), '.2f')} GiB in bf16 (parameters, gradients, "
            f"AdamW's moments, activations, the backward's scratch; counted); the card had "
            f"{num(g.get('ours_fp32_card_in_use'), '.2f')} and {num(g.get('ours_bf16_card_in_use'), '.2f')} "
            f"GiB in use after each side's steps (CUDA's context, the libraries' workspaces and the "
            f"scratch earlier benchmarks of the run left, too); PyTorch's most allocated: "
            f"{num(g.get('pytorch_bf16_max_allocated'), '.2f')} GiB.")
lines.append("")
gpt2 = next((r for r in rows if r["shape"] == "gpt2"), None)
goal = None
if gpt2 and not tiny:
    mfu = gpt2["mfu_percent"].get("ours_bf16")
    ratio = gpt2.get("ratio_ours_bf16_to_pytorch")
    goal = {"mfu_at_least_40": None if mfu is None else mfu >= GOAL_MFU,
            "ahead_of_pytorch": None if ratio is None else ratio > 1}
    lines.append(f"Goal at GPT-2 small: bf16 MFU >= {GOAL_MFU:.0f}%: "
                 f"{'unknown' if mfu is None else ('met' if mfu >= GOAL_MFU else 'not met')} "
                 f"({num(mfu, '.1f')}%); ahead of PyTorch: "
                 f"{'unknown' if ratio is None else ('yes' if ratio > 1 else 'no')} "
                 f"({'-' if ratio is None else format(ratio, '.2f') + '×'}).")
    lines.append("")
lines.append("Raw: `versus_pytorch_bench.txt`/`.json` (ours, with the per-step loss), "
             "`versus_pytorch_pytorch.jsonl` (PyTorch).")
open(os.path.join(out, "versus_pytorch.md"), "w").write("\n".join(lines) + "\n")
json.dump({"device": device, "date": date, "tiny": tiny, "peak_bf16_tflops": peak,
           "peak_source": ctx.get("bf16_peak_source"), "goal": goal, "rows": rows,
           "pytorch": torch_info, "bench_context": ctx},
          open(os.path.join(out, "versus_pytorch.json"), "w"), indent=1)
print("\n".join(lines))
PY
report_rc=$?
[ $report_rc -eq 0 ] && [ $pytorch_rc -eq 0 ] || exit 1
