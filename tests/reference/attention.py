"""Chapters 03-04: causal scaled dot-product attention, single head and multi-head."""
import math

import torch
from torch import nn


def causal_attention(q, k, v):
    """q, k, v: (..., T, hs). Returns (out (..., T, hs), weights (..., T, T))."""
    T, hs = q.shape[-2], q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(hs)                   # (..., T, T)
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    scores = scores.masked_fill(future, float("-inf"))
    weights = torch.softmax(scores, dim=-1)                            # rows sum to 1
    return weights @ v, weights


class MultiHeadAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.heads = config.heads
        self.qkv = nn.Linear(config.embed_size, 3 * config.embed_size)   # fused Q, K, V
        self.proj = nn.Linear(config.embed_size, config.embed_size)
        # The course drops the residual branches only, not attention weights.
        self.resid_dropout = nn.Dropout(config.dropout)
        self.last_weights = None

    def forward(self, x):                                           # (B, T, C)
        B, T, C = x.shape
        hs = C // self.heads
        q, k, v = self.qkv(x).split(C, dim=2)                       # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.heads, hs).transpose(1, 2) for t in (q, k, v))  # (B, H, T, hs)
        y, self.last_weights = causal_attention(q, k, v)
        y = y.transpose(1, 2).contiguous().view(B, T, C)            # heads merged back
        return self.resid_dropout(self.proj(y))
