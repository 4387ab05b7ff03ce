#!/bin/bash
# chapters/10_fast_cpu/versus_pytorch_test.sh — the comparison's machinery, at a tiny size.
#
# Runs versus_pytorch.py end to end (peak probe, a one-setting PyTorch search,
# one round per mode) on a tiny GPT, then checks what it wrote: every mode has
# positive tokens/s and GFLOP/s on both sides, the ratio is ours / PyTorch's,
# and the markdown holds the table. Timing is not checked (tests never time).
# Arguments: versus_pytorch.py, then the flags that name the binaries.
set -euo pipefail
out="$TEST_TMPDIR/results"
/usr/bin/python3 -B "$@" --out "$out" --rounds 1 --seconds 0 --steps 1 \
  --coretypes unset --blas_threads 1 --torch_threads 1 --search_seconds 0 \
  --search_new_tokens 4 --new_tokens 8 --threads 2 \
  --embed_size 32 --num_layers 2 --heads 2 --ff_dim 64 --batch_size 2 --block_size 8 \
  > "$TEST_TMPDIR/log.txt"

/usr/bin/python3 -B - "$out/versus_pytorch.json" "$out/versus_pytorch.md" <<'PY'
import json, math, sys
data = json.load(open(sys.argv[1]))
markdown = open(sys.argv[2]).read()
def positive(x, what):
    assert isinstance(x, (int, float)) and math.isfinite(x) and x > 0, f"{what}: {x!r}"
assert data["peak"]["peak_gflops_all"] > 0 and data["peak"]["peak_gflops_1_thread"] > 0
modes = [r["mode"] for r in data["rows"]]
assert modes == ["train", "forward", "generate"], modes
for r in data["rows"]:
    for side in ("ours", "pytorch"):
        for key in ("tokens_per_s", "gflop_per_s", "ms_per_step"):
            positive(r[side][key], f"{r['mode']} {side} {key}")
    positive(r["ratio"], f"{r['mode']} ratio")
    assert abs(r["ratio"] - r["ours"]["tokens_per_s"] / r["pytorch"]["tokens_per_s"]) < 1e-9
    assert r["config"]["embed_size"] == 32, r["config"]
    ours, theirs = r["runs"]["ours"][0], r["runs"]["pytorch"][0]
    assert ours["flop_per_token"] == theirs["flop_per_token"], "both sides count the same FLOPs"
    assert f"| {r['mode']} |" in markdown, f"no {r['mode']} row in the markdown"
assert len(data["search"]) == 3, "one search trial per mode"
print("versus_pytorch: ok;", ", ".join(f"{r['mode']} {r['ratio']:.2f}x" for r in data["rows"]))
PY
