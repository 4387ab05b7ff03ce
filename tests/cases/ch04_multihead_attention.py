"""Chapter 04: the linear layer and multi-head causal self-attention."""
import torch
from torch import nn

from cases import f32, with_precision
from reference.attention import MultiHeadAttention
from reference.config import GPTConfig

CHAPTER = "04_multihead_attention"


def _linear(N, IC, OC, bias, seed):
    torch.manual_seed(seed)
    linear = nn.Linear(IC, OC, bias=bias)                       # U(-1/sqrt(IC), 1/sqrt(IC))
    x = torch.randn(N, IC)
    with torch.no_grad():
        out = linear.double()(x.double())                       # (N, OC), in float64
    tensors = {"in.x": x.numpy(), "linear.weight": f32(linear.weight), "out.out": f32(out)}
    if bias:
        tensors["linear.bias"] = f32(linear.bias)
    return tensors, with_precision(dict(N=N, IC=IC, OC=OC, bias=bias))


def _attention(B, T, C, H, seed):
    config = GPTConfig(embed_size=C, heads=H).check()
    torch.manual_seed(seed)
    attn = MultiHeadAttention(config).eval()
    x = torch.randn(B, T, C)
    seen = {}  # what the two projections saw, captured from the module's own forward
    attn.qkv.register_forward_hook(lambda m, inp, out: seen.update(qkv=out))
    attn.proj.register_forward_hook(lambda m, inp, out: seen.update(merged=inp[0]))
    with torch.no_grad():
        out = attn.double()(x.double())                         # (B, T, C), in float64
    hs = C // H
    # The layout split_heads must produce: (B, T, C) thirds -> (B, H, T, hs).
    q, k, v = (t.reshape(B, T, H, hs).transpose(1, 2).contiguous()
               for t in seen["qkv"].split(C, dim=2))
    tensors = {
        "in.x": x.numpy(),                                      # (B, T, C)
        **{name: f32(p) for name, p in attn.named_parameters()},
        "out.qkv": f32(seen["qkv"]),                            # (B, T, 3C)
        "out.q": f32(q), "out.k": f32(k), "out.v": f32(v),      # (B, H, T, hs)
        "out.weights": f32(attn.last_weights),                  # (B, H, T, T)
        "out.merged": f32(seen["merged"]),                      # (B, T, C)
        "out.out": f32(out),                                    # (B, T, C)
    }
    return tensors, with_precision(dict(config.metadata(), B=B, T=T))


def cases():
    return {
        "linear": _linear(N=10, IC=12, OC=36, bias=True, seed=1),
        "linear_no_bias": _linear(N=7, IC=5, OC=3, bias=False, seed=2),
        "attention": _attention(B=2, T=8, C=32, H=4, seed=3),
        # T odd, C = 12 not a multiple of 8, hs = 4.
        "attention_awkward": _attention(B=1, T=5, C=12, H=3, seed=4),
        # One head of all C channels: chapter 03's attention after two projections.
        "attention_one_head": _attention(B=2, T=6, C=16, H=1, seed=5),
    }
