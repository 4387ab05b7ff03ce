"""Chapter 02: token embeddings, learned positions, sinusoidal positions."""
import torch

from reference.config import GPTConfig
from reference.embeddings import Embeddings, sinusoidal_table

CHAPTER = "02_embeddings"


def _case(config, B, T, seed):
    torch.manual_seed(seed)
    embeddings = Embeddings(config).eval()
    with torch.no_grad():                     # nn.Embedding starts as N(0, 1): fine here
        tokens = torch.randint(0, config.vocab_size, (B, T))
        out = embeddings(tokens)                                       # (B, T, C)
    tensors = {
        "in.tokens": tokens.numpy(),                                   # (B, T) int64
        "wte.weight": embeddings.wte.weight.detach().numpy(),          # (V, C)
        "out.token_embedding": embeddings.wte(tokens).detach().numpy(),  # (B, T, C)
        "out.position_table": embeddings.position_table().detach().numpy(),  # (P, C)
        "out.embeddings": out.numpy(),                                 # (B, T, C)
    }
    if embeddings.wpe is not None:
        tensors["wpe.weight"] = embeddings.wpe.weight.detach().numpy()  # (P, C)
    metadata = dict(config.metadata(), B=B, T=T)
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
