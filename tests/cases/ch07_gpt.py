"""Chapter 07: the whole GPT's logits and loss, in every arrangement the course offers."""
import torch

from cases import f32, with_precision
from reference.config import GPTConfig
from reference.gpt import GPT

CHAPTER = "07_gpt"


def _case(config, B, T, seed):
    torch.manual_seed(seed)
    model = GPT(config).eval()
    with torch.no_grad():
        # GPT-2's initialisation leaves biases at 0 and LayerNorm at 1, which
        # would let a bug in those paths pass; perturb every parameter.
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
        tokens = torch.randint(0, config.vocab_size, (B, T))
        targets = torch.randint(0, config.vocab_size, (B, T))
        model.double()                     # the float32 parameters, computed on in float64
        assert not config.tie_weights or model.lm_head.weight is model.embeddings.wte.weight
        logits, loss = model(tokens, targets)
    tensors = {name: f32(p) for name, p in model.named_tensors().items()}
    tensors.update({
        "in.tokens": tokens.numpy(),       # (B, T)
        "in.targets": targets.numpy(),     # (B, T)
        "out.logits": f32(logits),         # (B, T, V)
        "out.loss": f32(loss.reshape(1)),
    })
    metadata = with_precision(dict(config.metadata(), B=B, T=T,
                                   num_parameters=sum(p.numel() for p in model.parameters())))
    return tensors, metadata


def cases():
    small = dict(vocab_size=65, embed_size=32, max_length=16, num_layers=2, heads=4, ff_dim=128)
    return {
        "pre_learned": _case(GPTConfig(**small, norm="pre", positions="learned"), 2, 8, 71),
        "pre_sinusoidal": _case(GPTConfig(**small, norm="pre", positions="sinusoidal"), 2, 8, 72),
        "post_learned": _case(GPTConfig(**small, norm="post", positions="learned"), 2, 8, 73),
        "post_sinusoidal": _case(GPTConfig(**small, norm="post", positions="sinusoidal"), 2, 8, 74),
        # GPT-2's choices: tied output projection, tanh GELU, full context.
        "tied_tanh": _case(GPTConfig(**small, tie_weights=True, gelu="tanh"), 2, 16, 75),
        # Awkward sizes: one layer, C = 12 with 3 heads, odd T and V.
        "awkward": _case(GPTConfig(vocab_size=11, embed_size=12, max_length=7, num_layers=1,
                                   heads=3, ff_dim=20), 3, 5, 76),
    }
