"""Chapter 03: causal scaled dot-product attention, one head per sequence."""
import torch

from cases import f32, with_precision
from reference.attention import causal_attention

CHAPTER = "03_attention"


def _case(q, k, v):
    """q, k, v: float32 (N, T, hs); the attention is computed in float64."""
    with torch.no_grad():
        out, weights = causal_attention(q.double(), k.double(), v.double())  # (N, T, hs), (N, T, T)
    N, T, hs = q.shape
    tensors = {
        "in.q": q.numpy(), "in.k": k.numpy(), "in.v": v.numpy(),       # (N, T, hs) each
        "out.weights": f32(weights),                                   # (N, T, T)
        "out.out": f32(out),                                           # (N, T, hs)
    }
    return tensors, with_precision(dict(N=N, T=T, hs=hs))


def _random(N, T, hs, seed):
    torch.manual_seed(seed)
    return _case(*(torch.randn(N, T, hs) for _ in range(3)))


def _large_scores(N, T, hs, seed):
    """Scores near 256, where exp(score) overflows float32 (above ~88.7).

    Every entry of q and k is 8 plus a multiple of 1/8 (spread 0.5), so the
    scores are large while the scores within a row differ by a few units: the
    weights are far from one-hot. With hs = 16 each product is a multiple of
    1/64 and every dot product, and its division by sqrt(16) = 4, is exact in
    float32 whatever order a matrix product adds in: both sides see the very
    same scores, and the comparison tests the softmax alone.
    """
    torch.manual_seed(seed)
    q, k = (8 + torch.round(torch.randn(N, T, hs) * 4) / 8 for _ in range(2))
    return _case(q, k, torch.randn(N, T, hs))


def cases():
    return {
        "small": _random(N=2, T=8, hs=16, seed=1),
        # One position: the softmax of a single score is exactly 1.
        "single_position": _random(N=3, T=1, hs=4, seed=2),
        # T not a power of two, an odd head size.
        "awkward": _random(N=2, T=13, hs=5, seed=3),
        "large_scores": _large_scores(N=2, T=16, hs=16, seed=4),
    }
