#!/bin/bash
# chapters/09_training/checkpoint_portability_test.sh — our checkpoints load in PyTorch.
#
# Trains a tiny model for a few steps with the C++ `train` program, has
# checkpoint_logits compute the logits of the checkpoint's model on one
# sequence with gpt_forward, and has tests/load_checkpoint.py load the same
# checkpoint into the PyTorch reference model (by name, strictly) and compare
# its logits with ours: max |ours - torch| <= 1e-4 * max |torch|.
# Then it checks that the comparison can fail: a logits file off by 1% of the
# logits' scale must be rejected.
#
# Arguments: the train binary, the checkpoint_logits binary, load_checkpoint.py.
set -euo pipefail
train="$1" checkpoint_logits="$2" load_checkpoint="$3"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 HOME="$TEST_TMPDIR"
run="$TEST_TMPDIR/run"

"$train" --data random --vocab_size 11 --embed_size 16 --num_layers 2 --heads 2 \
  --block_size 8 --batch_size 2 --max_steps 3 --lr 0.01 --sample_tokens 0 --out "$run" \
  > "$TEST_TMPDIR/train.log"
"$checkpoint_logits" "$run/checkpoint.safetensors" "$run/logits.safetensors"
/usr/bin/python3 -B "$load_checkpoint" "$run/checkpoint.safetensors" \
  --compare "$run/logits.safetensors"

# A wrong answer must fail the comparison.
/usr/bin/python3 -B - "$load_checkpoint" "$run/logits.safetensors" "$run/wrong.safetensors" <<'EOF'
import os, sys
import numpy as np
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[1])))
from reference import safetensors_io
tensors, metadata = safetensors_io.read(sys.argv[2])
logits = tensors["logits"].copy()
logits[0, -1, 0] += 0.01 * np.abs(logits).max()
tensors["logits"] = logits
safetensors_io.write(sys.argv[3], tensors, metadata)
EOF
if /usr/bin/python3 -B "$load_checkpoint" "$run/checkpoint.safetensors" \
    --compare "$run/wrong.safetensors" > "$TEST_TMPDIR/wrong.log" 2>&1; then
  echo "FAIL: load_checkpoint.py accepted logits that are off by 1%"
  cat "$TEST_TMPDIR/wrong.log"
  exit 1
fi
echo "PASS: checkpoint portable to PyTorch; a 1% error is caught"
