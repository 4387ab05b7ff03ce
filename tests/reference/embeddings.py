"""Chapter 02: token embeddings plus positional encodings (learned or sinusoidal)."""
import math

import torch
from torch import nn


def sinusoidal_table(max_length, embed_size):
    """(max_length, embed_size): PE[p, 2i] = sin(p / 10000^(2i/C)), PE[p, 2i+1] = cos(...).

    Computed in float64 and rounded once to float32, so the table is the exact
    function rounded, not float32 arithmetic's approximation of it (at p = 500
    the float32 product p * frequency alone is off by up to 3e-5).
    """
    position = torch.arange(max_length, dtype=torch.float64)[:, None]         # (P, 1)
    frequency = torch.exp(torch.arange(0, embed_size, 2, dtype=torch.float64)
                          * (-math.log(10000.0) / embed_size))                # (C/2,)
    table = torch.zeros(max_length, embed_size, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table.float()


class Embeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.wte = nn.Embedding(config.vocab_size, config.embed_size)    # (V, C)
        if config.positions == "learned":
            self.wpe = nn.Embedding(config.max_length, config.embed_size)  # (P, C)
        else:
            self.wpe = None
            self.register_buffer("sinusoidal", sinusoidal_table(config.max_length,
                                                                config.embed_size),
                                 persistent=False)
        self.dropout = nn.Dropout(config.dropout)

    def position_table(self):
        return self.wpe.weight if self.wpe is not None else self.sinusoidal   # (P, C)

    def forward(self, tokens):                      # (B, T) int64
        T = tokens.shape[1]
        x = self.wte(tokens) + self.position_table()[:T]   # (B, T, C)
        return self.dropout(x)
