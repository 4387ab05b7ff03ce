"""Chapter 16: a tiny GPT-2 stored as Hugging Face stores GPT-2, and its logits.

Each case is a whole model file in the published layout (reference/gpt2.py:
names h.{i}.attn.c_attn.weight etc., Conv1D weights (in, out)) with the
inputs and expected outputs beside the parameters:

  in.tokens   (B, T) int32
  out.logits  (B, T, V) float32

  tiny_f32       plain names, F32
  tiny_prefixed  GPT2LMHeadModel's names: `transformer.` prefix, the causal
                 mask buffers h.{i}.attn.bias (1, 1, P, P) F32, and
                 lm_head.weight, a copy of wte.weight (a loader skips all three)
  tiny_f16       parameters stored F16 (float16)
  tiny_bf16      parameters stored BF16 (held here as uint16 bit patterns)

The parameters are GPT-2's float32 initialisation with every bias and
LayerNorm moved off 0 and 1 (so a bug there shows), rounded to the stored
type; the logits are computed in float64 from exactly the stored values and
rounded once to float32, like every case (tests/cases/__init__.py). The
metadata carries the configuration under config.json's keys.
"""
import numpy as np
import torch

from cases import f32, with_precision
from reference import safetensors_io
from reference.gpt2 import GPT2, GPT2Config, tensors_for_file

CHAPTER = "16_gpt2"
TINY = GPT2Config(n_layer=2, n_head=2, n_embd=32, vocab_size=101, n_positions=24)
B, T = 2, 7


def _case(seed, dtype="F32", prefix="", mask_buffers=False, lm_head=False):
    model = GPT2(TINY).init_random(seed, perturb=True)
    tensors, dtypes = tensors_for_file(model, dtype, prefix, mask_buffers, lm_head)
    # The values as stored: F16 as float16, BF16 as its bit patterns.
    stored = {name: safetensors_io.stored_array(array, dtypes.get(name), name)
              for name, array in tensors.items()}
    # ...and the model computes with exactly those values (widened to float64: exact).
    widened = {name: (safetensors_io.bfloat16_to_float32(a) if dtypes.get(name) == "BF16"
                      else a.astype(np.float32)) for name, a in stored.items()}
    with torch.no_grad():
        for name, p in model.state_dict().items():
            p.copy_(torch.from_numpy(widened[prefix + name]))
        model.double()
        generator = torch.Generator().manual_seed(seed)
        tokens = torch.randint(0, TINY.vocab_size, (B, T), generator=generator)
        logits, _ = model(tokens)                                     # (B, T, V)
    stored.update({
        "in.tokens": tokens.to(torch.int32).numpy(),                  # (B, T)
        "out.logits": f32(logits),                                    # (B, T, V)
    })
    metadata = with_precision(dict(TINY.metadata(), B=B, T=T, dtype=dtype, prefix=prefix,
                                   mask_buffers=mask_buffers, lm_head=lm_head))
    return stored, metadata


def cases():
    return {
        "tiny_f32": _case(161),
        "tiny_prefixed": _case(162, prefix="transformer.", mask_buffers=True, lm_head=True),
        "tiny_f16": _case(163, dtype="F16"),
        "tiny_bf16": _case(164, dtype="BF16"),
    }
