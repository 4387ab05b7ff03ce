#!/bin/bash
# tools/export/export_logit_lens_test.sh — new_gpt2_model writes a GPT-2 that
# export_logit_lens reads back, and the lens file holds what it promises.
#
# A tiny untrained GPT-2 (L = 2, H = 2, C = 16, P = 16, GPT-2's 50,257
# tokens), then the lens on a sentence: shapes, the tokens GPT-2's encoder
# gives ("It is a truth" is 1026 318 257 3872), guesses sorted and
# probabilities that add up to at most 1, ranks that agree with the
# probabilities, causal attention rows that add up to 1; a text longer than
# the context is cut, and bad input fails.
#
# Arguments: new_gpt2_model, export_logit_lens.
set -euo pipefail
new_gpt2_model="$1" export_logit_lens="$2"
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 HOME="$TEST_TMPDIR"
dir="$TEST_TMPDIR"
fail() { echo "FAIL: $*"; exit 1; }

"$new_gpt2_model" --num_layers 2 --heads 2 --embed_size 16 --max_length 16 --seed 3 \
  --out "$dir/tiny" > "$dir/new.log"
grep -qF "L=2 H=2 C=16 V=50257 P=16" "$dir/new.log" || fail "new_gpt2_model: $(cat "$dir/new.log")"
[[ -f "$dir/tiny/model.safetensors" && -f "$dir/tiny/config.json" ]] || fail "no model directory"

"$export_logit_lens" --model "$dir/tiny/model.safetensors" --text "It is a truth" --top 3 \
  --out "$dir/lens.safetensors" > "$dir/lens.log"
grep -q "matches the logits" "$dir/lens.log" || fail "export_logit_lens: $(cat "$dir/lens.log")"
# Longer than the context of 16 tokens: cut.
"$export_logit_lens" --model "$dir/tiny" --top 2 --out "$dir/long.safetensors" \
  --text "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife." \
  > "$dir/long.log"
grep -q "cut to the model's context of 16 tokens" "$dir/long.log" || fail "no note about the cut"

if "$export_logit_lens" --model "$dir/missing.safetensors" --text "It" --out "$dir/x.safetensors" \
  > "$dir/e1.log" 2>&1; then fail "accepted a missing model"; fi
if "$export_logit_lens" --model "$dir/tiny" --text "" --out "$dir/x.safetensors" \
  > "$dir/e2.log" 2>&1; then fail "accepted an empty text"; fi
grep -q "empty" "$dir/e2.log" || fail "empty text: $(cat "$dir/e2.log")"
[ ! -e "$dir/x.safetensors" ] || fail "a failed export wrote its file"

/usr/bin/python3 -B - "$dir" <<'PY'
import json, os, sys
import numpy as np
sys.path.insert(0, os.path.join(os.getcwd(), "tests"))
from reference import safetensors_io as st
d = sys.argv[1]
def check(ok, what):
    if not ok:
        sys.exit("FAIL: " + what)

t, m = st.read(f"{d}/lens.safetensors")
check(list(t["tokens"]) == [1026, 318, 257, 3872], f"tokens {t['tokens']}")
S, T, K = t["lens.top_ids"].shape
check((S, T, K) == (3, 4, 3), f"top_ids shape {(S, T, K)}")
probs = t["lens.top_probs"]
check(probs.shape == (3, 4, 3) and (np.diff(probs, axis=2) <= 0).all(), "guesses not sorted")
check((probs.sum(axis=2) <= 1 + 1e-5).all() and (probs > 0).all(), "probabilities")
check(t["lens.next_prob"].shape == (3, 3) and t["lens.next_rank"].shape == (3, 3), "next shapes")
check(0 < t["lens.entropy"].min() and t["lens.entropy"].max() <= np.log(50257) + 1e-3, "entropy")
# Where the actual next token is a guess, its rank is its place among the guesses.
for s in range(S):
    for i in range(T - 1):
        ids = list(t["lens.top_ids"][s, i])
        nxt = int(t["tokens"][i + 1])
        if nxt in ids:
            check(t["lens.next_rank"][s, i] == ids.index(nxt), f"rank at stream {s}, position {i}")
            check(abs(t["lens.next_prob"][s, i] - probs[s, i, ids.index(nxt)]) < 1e-6, "next prob")
        else:
            check(t["lens.next_rank"][s, i] >= K, f"rank {t['lens.next_rank'][s, i]} not beyond the guesses")
for l in range(2):
    w = t[f"blocks.{l}.attn.weights"]
    check(w.shape == (1, 2, 4, 4), f"attention shape {w.shape}")
    check(np.allclose(w.sum(axis=-1), 1, atol=1e-5) and np.allclose(np.triu(w[0, 0], 1), 0), "attention rows")
pieces = json.loads(m["pieces"])
check(pieces["1026"] == "It" and pieces["3872"] == " truth", f"pieces {pieces.get('1026')!r}")
check(all(str(i) in pieces for i in t["lens.top_ids"].reshape(-1)), "a guess without its text")
check(m["num_layers"] == "2" and m["heads"] == "2" and float(m["last_stream_vs_logits"]) < 1e-3, "metadata")

t, m = st.read(f"{d}/long.safetensors")
check(t["tokens"].shape == (16,) and m["text"].startswith("It is a truth universally"), "cut text")
print("export_logit_lens_test: OK")
PY
