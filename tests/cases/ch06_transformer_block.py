"""Chapter 06: one transformer block, pre-LN and post-LN, with every intermediate tensor."""
import torch

from cases import f32, with_precision
from reference.block import Block
from reference.config import GPTConfig

CHAPTER = "06_transformer_block"


def _steps(block, x):
    """Recomputes the block's forward pass step by step with its own submodules."""
    s = {}
    if block.pre_norm:
        s["ln1"] = block.ln1(x)
        s["attn_out"] = block.attn(s["ln1"])
        s["residual1"] = x + s["attn_out"]                       # r = x + attn(ln1(x))
        s["ln2"] = block.ln2(s["residual1"])
        mlp_in = s["ln2"]
    else:
        s["attn_out"] = block.attn(x)
        s["residual1"] = x + s["attn_out"]                       # before ln1
        s["ln1"] = block.ln1(s["residual1"])                     # r = ln1(x + attn(x))
        mlp_in = s["ln1"]
    s["mlp_hidden"] = block.mlp.fc(mlp_in)                       # (B, T, F)
    s["mlp_activated"] = block.mlp.gelu(s["mlp_hidden"])         # (B, T, F)
    s["mlp_out"] = block.mlp(mlp_in)
    if block.pre_norm:
        s["residual2"] = s["residual1"] + s["mlp_out"]
        s["out"] = s["residual2"]
    else:
        s["residual2"] = s["ln1"] + s["mlp_out"]
        s["ln2"] = block.ln2(s["residual2"])
        s["out"] = s["ln2"]
    return s


def _case(config, B, T, seed):
    torch.manual_seed(seed)
    block = Block(config.check()).eval()
    with torch.no_grad():
        for ln in (block.ln1, block.ln2):                        # PyTorch starts them at 1 and 0
            ln.weight.copy_(1.0 + 0.5 * torch.randn_like(ln.weight))
            ln.bias.copy_(0.5 * torch.randn_like(ln.bias))
        x = torch.randn(B, T, config.embed_size)                 # (B, T, C)
        block.double()                                           # float32 draws, float64 sums
        steps = _steps(block, x.double())
        assert torch.equal(block(x.double()), steps["out"]), "the step-by-step recomputation drifted"
    tensors = {"in.x": x.numpy()}
    for name, p in block.named_parameters():                     # ln1.weight, attn.qkv.weight, ...
        tensors[name] = f32(p)
    for name, t in steps.items():
        tensors["out." + name] = f32(t)
    return tensors, with_precision(dict(config.metadata(), B=B, T=T))


def cases():
    small = dict(embed_size=32, heads=4, ff_dim=64)
    awkward = dict(embed_size=12, heads=3, ff_dim=20, gelu="tanh")  # hs = 4, T = 5, F not 4C
    return {
        "pre": _case(GPTConfig(**small, norm="pre"), B=2, T=8, seed=21),
        "post": _case(GPTConfig(**small, norm="post"), B=2, T=8, seed=22),
        "awkward_pre": _case(GPTConfig(**awkward, norm="pre"), B=1, T=5, seed=23),
        "awkward_post": _case(GPTConfig(**awkward, norm="post"), B=1, T=5, seed=24),
    }
