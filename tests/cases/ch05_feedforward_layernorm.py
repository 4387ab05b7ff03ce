"""Chapter 05: GELU (both forms), LayerNorm, and the feed-forward network."""
import torch
from torch import nn

from cases import f32, with_precision
from reference.config import GPTConfig
from reference.feedforward import FeedForward

CHAPTER = "05_feedforward_layernorm"


def _gelu_case(seed):
    torch.manual_seed(seed)
    x = torch.cat([
        torch.linspace(-10.0, 10.0, 401),                        # the whole curve, ±10 included
        torch.tensor([0.0, 1e-7, -1e-7, 1e-3, -1e-3, 1e-20, -1e-20]),  # near 0: GELU(x) ≈ x/2
        3.0 * torch.randn(64),
    ])                                                           # (N,), float32
    with torch.no_grad():
        tensors = {
            "in.x": x.numpy(),
            "out.erf": f32(nn.GELU(approximate="none")(x.double())),
            "out.tanh": f32(nn.GELU(approximate="tanh")(x.double())),
        }
    return tensors, with_precision({"N": x.numel()})


def _layernorm_case(x, eps, seed):
    """x (N, C); weight and bias random (PyTorch would start them at 1 and 0)."""
    torch.manual_seed(seed)
    N, C = x.shape
    weight, bias = torch.randn(C), torch.randn(C)
    with torch.no_grad():
        out, mean, rstd = torch.native_layer_norm(x.double(), [C], weight.double(),
                                                  bias.double(), eps)
        # What nn.LayerNorm calls computes the same.
        assert torch.equal(out, nn.functional.layer_norm(x.double(), [C], weight.double(),
                                                         bias.double(), eps))
    tensors = {
        "in.x": x.numpy(),                                       # (N, C)
        "weight": weight.numpy(),                                # (C)
        "bias": bias.numpy(),                                    # (C)
        "out.out": f32(out),                                     # (N, C)
        "out.mean": f32(mean.reshape(N)),                        # (N)
        "out.rstd": f32(rstd.reshape(N)),                        # (N): 1 / sqrt(var + eps)
    }
    return tensors, with_precision({"N": N, "C": C, "eps": eps})


def _feedforward_case(config, B, T, seed):
    torch.manual_seed(seed)
    ff = FeedForward(config).eval()                              # nn.Linear's default init
    with torch.no_grad():
        x = torch.randn(B, T, config.embed_size)                 # (B, T, C)
        ff.double()
        hidden = ff.fc(x.double())                               # (B, T, F)
        activated = ff.gelu(hidden)                              # (B, T, F)
        out = ff(x.double())                                     # (B, T, C)
        assert torch.equal(out, ff.proj(activated))
    tensors = {"in.x": x.numpy(), "out.hidden": f32(hidden),
               "out.activated": f32(activated), "out.out": f32(out)}
    for name, p in ff.named_parameters():                        # fc.weight (F, C), fc.bias,
        tensors[name] = f32(p)                                   # proj.weight (C, F), proj.bias
    return tensors, with_precision(dict(config.metadata(), B=B, T=T))


def cases():
    g = torch.Generator().manual_seed(10)
    typical = 2.0 * torch.randn(16, 32, generator=g) + torch.randn(16, 1, generator=g)  # B*T=16, C=32
    awkward = torch.randn(15, 7, generator=g)                    # B*T = 3*5, C = 7
    awkward[4] = 0.25                                            # a constant row: var 0, rstd 1/sqrt(eps)
    far_from_zero = 1000.0 + 0.1 * torch.randn(6, 32, generator=g)  # mean 1000, std 0.1
    return {
        "gelu": _gelu_case(seed=11),
        "layernorm": _layernorm_case(typical, eps=1e-5, seed=12),
        "layernorm_awkward": _layernorm_case(awkward, eps=1e-3, seed=13),
        # Far from zero, a float32 LayerNorm (PyTorch's own too) is off by ~1e-3:
        # its float mean cannot hold 1000 ± 0.1 precisely enough. The float64
        # reference is exact here as everywhere.
        "layernorm_large_mean": _layernorm_case(far_from_zero, eps=1e-5, seed=14),
        "feedforward_erf": _feedforward_case(
            GPTConfig(embed_size=32, ff_dim=64, heads=4, gelu="erf"), B=2, T=8, seed=15),
        # Odd sizes, F not 4C, and GPT-2's tanh approximation.
        "feedforward_tanh": _feedforward_case(
            GPTConfig(embed_size=12, ff_dim=20, heads=3, gelu="tanh"), B=1, T=5, seed=16),
    }
