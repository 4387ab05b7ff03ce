"""Chapter 05: the position-wise feed-forward network (Linear, GELU, Linear)."""
from torch import nn


class FeedForward(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.fc = nn.Linear(config.embed_size, config.ff_dim)
        self.gelu = nn.GELU(approximate="none" if config.gelu == "erf" else "tanh")
        self.proj = nn.Linear(config.ff_dim, config.embed_size)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):                                  # (B, T, C)
        return self.dropout(self.proj(self.gelu(self.fc(x))))   # via (B, T, ff_dim)
