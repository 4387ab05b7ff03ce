#!/bin/bash
# tools/export/export_test.sh — every exporter runs, writes what it promises,
# and refuses bad input with a non-zero exit status.
#
# Trains a tiny model on a small text file with `train`, then runs each
# exporter and checks its file with numpy (tests/reference/safetensors_io.py):
# shapes, the vocabulary, attention rows that are causal and add up to 1,
# sampling distributions that add up to 1 with the right number of candidates.
#
# Arguments: export_corpus, export_embeddings, export_attention, export_sampling, train.
set -euo pipefail
export_corpus="$1" export_embeddings="$2" export_attention="$3" export_sampling="$4" train="$5"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 HOME="$TEST_TMPDIR"
dir="$TEST_TMPDIR"

fail() { echo "FAIL: $*"; exit 1; }
# expect_error LOG COMMAND...: the command must fail.
expect_error() {
  local log="$1"; shift
  if "$@" > "$log" 2>&1; then fail "accepted: $*"; fi
}

# A small corpus: a sentence repeated, so train has both a train and a validation part.
for i in $(seq 60); do echo "It is a truth universally acknowledged, that a single man."; done \
  > "$dir/text.txt"

"$export_corpus" --data "$dir/text.txt" --out "$dir/corpus.safetensors"
"$export_embeddings" --positions 16 --embed_size 8 --out "$dir/sinusoidal.safetensors"
"$train" --data "$dir/text.txt" --embed_size 16 --num_layers 2 --heads 2 --block_size 16 \
  --batch_size 4 --max_steps 3 --sample_tokens 0 --out "$dir/run" > "$dir/train.log"
ckpt="$dir/run/checkpoint.safetensors"
"$export_attention" --checkpoint "$ckpt" --text "a single man" --out "$dir/attention.safetensors"
# Longer than the context of 16: cut to 16 characters.
"$export_attention" --checkpoint "$ckpt" --text "It is a truth universally acknowledged" \
  --out "$dir/attention_long.safetensors" > "$dir/long.log"
grep -q "cut to the model's context of 16" "$dir/long.log" || fail "no note about the cut text"
"$export_sampling" --checkpoint "$ckpt" --prompt "It is a tr" --setting 1,0,1 --setting 0,0,1 \
  --setting 1,3,1 --setting 0.5,0,0.5 --out "$dir/sampling.safetensors"

# Bad input: an odd embed_size, a character outside the vocabulary, a bad setting, no checkpoint.
expect_error "$dir/e1.log" "$export_embeddings" --positions 4 --embed_size 7 --out "$dir/x.safetensors"
grep -q "even" "$dir/e1.log" || fail "odd embed_size: $(cat "$dir/e1.log")"
expect_error "$dir/e2.log" "$export_attention" --checkpoint "$ckpt" --text "zebra" --out "$dir/x.safetensors"
grep -q "vocabulary" "$dir/e2.log" || fail "unknown character: $(cat "$dir/e2.log")"
expect_error "$dir/e3.log" "$export_sampling" --checkpoint "$ckpt" --prompt "It" --setting 1,0 \
  --out "$dir/x.safetensors"
grep -q "temperature,top_k,top_p" "$dir/e3.log" || fail "bad setting: $(cat "$dir/e3.log")"
expect_error "$dir/e4.log" "$export_sampling" --checkpoint "$ckpt" --prompt "It" --setting -1,0,1 \
  --out "$dir/x.safetensors"
expect_error "$dir/e5.log" "$export_attention" --checkpoint "$dir/missing.safetensors" --text "It" \
  --out "$dir/x.safetensors"
[ ! -e "$dir/x.safetensors" ] || fail "a failed export wrote its file"

/usr/bin/python3 -B - "$dir" <<'PY'
import os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
from reference import safetensors_io as st
d = sys.argv[1]
def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)

t, m = st.read(f"{d}/corpus.safetensors")
vocab = m["vocabulary"]
check(vocab == "\n ,.Iacdeghiklmnorstuvwy", f"vocabulary {vocab!r}")
check(t["counts"].shape == (len(vocab),) and t["counts"].sum() == int(m["tokens"]) == 60 * 59,
      f"counts {t['counts'].sum()} of {m['tokens']}")
check(t["bigrams"].sum() == int(m["tokens"]) - 1, "bigrams")
check(t["bigrams"][vocab.index("I"), vocab.index("t")] == 60, "bigram It")
check(int(m["train_tokens"]) + int(m["val_tokens"]) == int(m["tokens"]), "split")

t, _ = st.read(f"{d}/sinusoidal.safetensors")
pe = t["sinusoidal"]
check(pe.shape == (16, 8), f"sinusoidal shape {pe.shape}")
check(np.allclose(pe[0, 0::2], 0) and np.allclose(pe[0, 1::2], 1), "position 0 is sin 0, cos 0")
check(abs(pe[3, 0] - np.sin(3.0)) < 1e-6, "PE[3, 0] = sin 3")

t, m = st.read(f"{d}/attention.safetensors")
check(m["text"] == "a single man" and t["tokens"].shape == (1, 12), "attention tokens")
check(sorted(k for k in t if k.startswith("blocks.")) ==
      ["blocks.0.attn.weights", "blocks.1.attn.weights"], f"attention names {sorted(t)}")
for l in range(2):
    w = t[f"blocks.{l}.attn.weights"]
    check(w.shape == (1, 2, 12, 12), f"weights shape {w.shape}")
    check(np.allclose(w.sum(-1), 1, atol=1e-5), "attention rows add up to 1")
    check(np.all(np.triu(w[0, 0], 1) == 0) and np.all(w >= 0), "attention is causal")
    check(not np.allclose(w[0, 0], w[0, 1]), "the two heads differ")
check(abs(t["next_probs"].sum() - 1) < 1e-5 and t["next_probs"].shape == (len(vocab),), "next_probs")
t, m = st.read(f"{d}/attention_long.safetensors")
check(t["tokens"].shape == (1, 16) and m["text"] == "It is a truth un", f"cut text {m['text']!r}")

t, m = st.read(f"{d}/sampling.safetensors")
check(m["settings"] == "4" and m["setting.2"] == "1,3,1", "sampling metadata")
logits = t["logits"].astype(np.float64)
softmax = np.exp(logits - logits.max()); softmax /= softmax.sum()
dists = [t[f"distribution.{i}"] for i in range(4)]
for p in dists:
    check(abs(p.sum() - 1) < 1e-5 and np.all(p >= 0), "a distribution adds up to 1")
check(np.allclose(dists[0], softmax, atol=1e-6), "temperature 1 is the softmax")
check(dists[1][np.argmax(logits)] == 1 and np.count_nonzero(dists[1]) == 1, "temperature 0 is greedy")
check(np.count_nonzero(dists[2]) == 3 and
      set(np.flatnonzero(dists[2])) == set(np.argsort(-logits)[:3]), "top-k 3 keeps the 3 likeliest")
kept = np.flatnonzero(dists[3])
check(0 < len(kept) < len(vocab), "top-p 0.5 keeps some")
print("export_test: all exporters checked")
PY
