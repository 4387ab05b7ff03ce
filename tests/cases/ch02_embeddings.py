"""Chapter 02: token embeddings, learned positions, sinusoidal positions."""
import torch

from cases import f32, with_precision
from reference.config import GPTConfig
from reference.embeddings import Embeddings, sinusoidal_table

CHAPTER = "02_embeddings"


def _case(config, B, T, seed):
    torch.manual_seed(seed)
    embeddings = Embeddings(config).eval()    # float32 draws: nn.Embedding starts as N(0, 1)
    with torch.no_grad():
        tokens = torch.randint(0, config.vocab_size, (B, T))
        embeddings.double()                   # the same numbers, computed on in float64
        out = embeddings(tokens)                                       # (B, T, C)
        tensors = {
            "in.tokens": tokens.numpy(),                               # (B, T) int64
            "wte.weight": f32(embeddings.wte.weight),                  # (V, C)
            "out.token_embedding": f32(embeddings.wte(tokens)),        # (B, T, C)
            "out.position_table": f32(embeddings.position_table()),    # (P, C)
            "out.embeddings": f32(out),                                # (B, T, C)
        }
        if embeddings.wpe is not None:
            tensors["wpe.weight"] = f32(embeddings.wpe.weight)         # (P, C)
    metadata = with_precision(dict(config.metadata(), B=B, T=T))
    return tensors, metadata


def cases():
    small = dict(vocab_size=65, embed_size=32, max_length=16)
    return {
        # T < max_length: only the first T positions are used.
        "learned": _case(GPTConfig(**small, positions="learned"), B=2, T=8, seed=1),
        "sinusoidal": _case(GPTConfig(**small, positions="sinusoidal"), B=2, T=8, seed=2),
        # T == max_length, an odd batch, and C not a multiple of 8.
        "learned_full_length": _case(GPTConfig(vocab_size=11, embed_size=6, max_length=5,
                                               positions="learned"), B=3, T=5, seed=3),
        # Long sequences: the table at large positions, where float32 arithmetic drifts.
        "sinusoidal_long": _case(GPTConfig(vocab_size=65, embed_size=32, max_length=1024,
                                           positions="sinusoidal"), B=1, T=1024, seed=4),
    }
