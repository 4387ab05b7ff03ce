"""The GPT's hyperparameters, and the choices the course compares."""
from dataclasses import dataclass


@dataclass
class GPTConfig:
    vocab_size: int = 65
    embed_size: int = 256
    max_length: int = 64
    num_layers: int = 6
    heads: int = 8
    ff_dim: int = 1024
    dropout: float = 0.0
    positions: str = "learned"   # "learned" or "sinusoidal"
    norm: str = "pre"            # "pre" (GPT-2) or "post" (the original GPT)
    gelu: str = "erf"            # "erf" (exact) or "tanh" (GPT-2's approximation)
    tie_weights: bool = False    # output projection shares the token embedding
    layernorm_eps: float = 1e-5

    def check(self):
        if self.embed_size % self.heads != 0:
            raise ValueError(f"heads ({self.heads}) must divide embed_size ({self.embed_size})")
        if self.positions == "sinusoidal" and self.embed_size % 2 != 0:
            raise ValueError("sinusoidal positions need an even embed_size")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")
        return self

    def metadata(self):
        return {k: str(v) for k, v in self.__dict__.items()}
