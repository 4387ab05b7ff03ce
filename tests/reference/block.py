"""Chapter 06: a transformer block, residual connections and LayerNorm.

pre-LN (GPT-2):           x = x + attn(ln1(x));  x = x + mlp(ln2(x))
post-LN (original GPT):   x = ln1(x + attn(x));  x = ln2(x + mlp(x))
"""
from torch import nn

from .attention import MultiHeadAttention
from .feedforward import FeedForward


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.pre_norm = config.norm == "pre"
        self.ln1 = nn.LayerNorm(config.embed_size, eps=config.layernorm_eps)
        self.attn = MultiHeadAttention(config)
        self.ln2 = nn.LayerNorm(config.embed_size, eps=config.layernorm_eps)
        self.mlp = FeedForward(config)

    def forward(self, x):                                  # (B, T, C)
        if self.pre_norm:
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))
        x = self.ln1(x + self.attn(x))
        return self.ln2(x + self.mlp(x))
