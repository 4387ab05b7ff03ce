"""Chapter 08: gradients of the whole model's loss with respect to every parameter."""
import torch

from cases import f32, with_precision
from reference.config import GPTConfig
from reference.gpt import GPT

CHAPTER = "08_backward"


def _case(config, B, T, seed):
    torch.manual_seed(seed)
    model = GPT(config).train()   # dropout is 0: train() changes nothing but the mode
    with torch.no_grad():
        for p in model.parameters():          # biases and LayerNorms away from 0 and 1
            p.add_(0.02 * torch.randn_like(p))
    tokens = torch.randint(0, config.vocab_size, (B, T))
    targets = torch.randint(0, config.vocab_size, (B, T))
    model.double()                            # float32 parameters, float64 arithmetic
    assert not config.tie_weights or model.lm_head.weight is model.embeddings.wte.weight
    _, loss = model(tokens, targets)
    loss.backward()
    tensors = {}
    for name, p in model.named_tensors().items():
        tensors[name] = f32(p)
        tensors["grad." + name] = f32(p.grad)
    tensors.update({"in.tokens": tokens.numpy(), "in.targets": targets.numpy(),
                    "out.loss": f32(loss.reshape(1))})
    return tensors, with_precision(dict(config.metadata(), B=B, T=T))


def cases():
    small = dict(vocab_size=65, embed_size=32, max_length=16, num_layers=2, heads=4, ff_dim=64)
    return {
        "gpt_pre_learned": _case(GPTConfig(**small, norm="pre"), 2, 8, 81),
        "gpt_post_sinusoidal": _case(GPTConfig(**small, norm="post", positions="sinusoidal"),
                                     2, 8, 82),
        "gpt_tied_tanh": _case(GPTConfig(**small, tie_weights=True, gelu="tanh"), 2, 16, 83),
    }
