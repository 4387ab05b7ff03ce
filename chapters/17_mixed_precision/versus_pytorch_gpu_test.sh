#!/bin/bash
# chapters/17_mixed_precision/versus_pytorch_gpu_test.sh — the GPU side-by-side's machinery, at a tiny size.
#
# Runs versus_pytorch_gpu.sh --tiny: bf16_training_bench's tiny shape (on the
# CPU emulator where there is no GPU: both formats' steps run, fp32 and bf16)
# and pytorch_bf16_training.py's on the CPU, then checks what it wrote: every
# side has positive tokens/s, the ratio is ours bf16 / PyTorch's, MFU is
# computed against the peak given (GPT_BF16_PEAK_TFLOPS), both sides count
# the same FLOPs, the engines' memory is there (bf16's the smaller), and the
# markdown has the device, the date, the row and the memory line.
# Timing is not checked (tests never time).
# Arguments: versus_pytorch_gpu.sh, bf16_training_bench, pytorch_bf16_training.py.
set -euo pipefail
runner=$1 bench=$2 pytorch=$3
out="$TEST_TMPDIR/versus"
GPT_BF16_PEAK_TFLOPS=0.001 bash "$runner" --tiny --bench "$bench" --pytorch "$pytorch" \
  --out "$out" --python /usr/bin/python3 >"$TEST_TMPDIR/log.txt" 2>&1 ||
  { cat "$TEST_TMPDIR/log.txt"; exit 1; }

/usr/bin/python3 -B - "$out" <<'PY'
import json, math, os, sys
out = sys.argv[1]
data = json.load(open(os.path.join(out, "versus_pytorch.json")))
markdown = open(os.path.join(out, "versus_pytorch.md")).read()
bench = json.load(open(os.path.join(out, "versus_pytorch_bench.json")))
pytorch = [json.loads(l) for l in open(os.path.join(out, "versus_pytorch_pytorch.jsonl")) if l.strip()]

def positive(x, what):
    assert isinstance(x, (int, float)) and math.isfinite(x) and x > 0, f"{what}: {x!r}"

assert data["tiny"] is True and data["peak_bf16_tflops"] == 0.001, data
assert data["peak_source"] == "GPT_BF16_PEAK_TFLOPS", data["peak_source"]
names = sorted("/".join(b["name"].split("/")[:3]) for b in bench["benchmarks"])
# bf16_ours_v4 runs where version 4 does (the emulator, an sm_90 GPU).
assert [n for n in names if n != "BM_TrainStep/bf16_ours_v4/tiny"] == [
    "BM_TrainStep/bf16/tiny", "BM_TrainStep/bf16_ours/tiny", "BM_TrainStep/fp32_cublas/tiny"], names
for b in bench["benchmarks"]:
    assert 3.5 < b["loss"] < 5.0, f"{b['name']}: loss {b['loss']} (ln 64 = 4.16)"
assert [r["shape"] for r in pytorch] == ["tiny"], pytorch
assert pytorch[0]["peak_tflops"] == 0.001, pytorch[0]

[row] = data["rows"]
assert row["shape"] == "tiny" and row["batch_size"] == 2 and row["block_size"] == 16, row
for side in ("ours_fp32", "ours_bf16", "pytorch_bf16"):
    positive(row["tokens_per_s"][side], f"tokens/s {side}")
    positive(row["ms_per_step"][side], f"ms/step {side}")
    positive(row["mfu_percent"][side], f"MFU {side}")
t = row["tokens_per_s"]
assert abs(row["ratio_ours_bf16_to_pytorch"] - t["ours_bf16"] / t["pytorch_bf16"]) < 1e-9
assert abs(row["ratio_bf16_to_fp32"] - t["ours_bf16"] / t["ours_fp32"]) < 1e-9
# The same FLOPs per token on both sides: MFU / tokens/s is the same ratio.
ours = row["mfu_percent"]["ours_bf16"] / t["ours_bf16"]
theirs = row["mfu_percent"]["pytorch_bf16"] / t["pytorch_bf16"]
assert abs(ours / theirs - 1) < 1e-6, (ours, theirs)
assert abs(theirs - 100 * pytorch[0]["flop_per_token"] / 1e9) < 1e-6 * theirs, theirs

# The engines' memory, counted: bf16 keeps less (no probs or dlogits, half a
# float a hidden value); PyTorch on the CPU has no CUDA allocations to report.
memory = row["memory_gib"]
for key in ("ours_fp32_engine", "ours_bf16_engine", "ours_fp32_card_in_use", "ours_bf16_card_in_use"):
    positive(memory[key], f"memory {key}")
assert memory["ours_bf16_engine"] < memory["ours_fp32_engine"], memory
assert "pytorch_bf16_max_allocated" not in memory, memory

for needle in ("- device: ", "- date: ", "| tiny | 2 | 16 |", "ours bf16 / PyTorch", "not a measurement",
               "Memory, tiny: the engine holds"):
    assert needle in markdown, f"{needle!r} not in:\n{markdown}"
print(markdown)
print("versus_pytorch_gpu: ok")
PY
