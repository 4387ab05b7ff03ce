"""Chapter 09: a 20-step AdamW training trajectory, with gradient clipping.

The initial parameters are GPT-2's float32 initialisation; the 20 steps
(forward, backward, clipping, AdamW, its moments included) run in float64 from
them, and the losses, gradient norms and final parameters are rounded once to
float32. A float32 trajectory would depend on the machine: Adam divides each
gradient by its own running magnitude, so where a gradient is tiny, the last
bits in which two CPUs' sums differ become visible in the step, and 20 steps
carry them on. In float64 those differences stay ~1e-16, far below what
rounding to float32 can show.
"""
import torch

from cases import f32, with_precision
from reference.config import GPTConfig
from reference.gpt import GPT

CHAPTER = "09_training"
STEPS = 20


def _trajectory(config, B, T, seed, lr, weight_decay, grad_clip):
    torch.manual_seed(seed)
    model = GPT(config).train()
    initial = {name: f32(p) for name, p in model.named_tensors().items()}  # float32 draws
    model.double()                       # ...trained in float64 (AdamW's moments follow)
    assert not config.tie_weights or model.lm_head.weight is model.embeddings.wte.weight
    # GPT-2's grouping: matrices (and embedding tables) decay, biases and LayerNorms do not.
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}],
                                  lr=lr, betas=(0.9, 0.95), eps=1e-8)
    tokens = torch.randint(0, config.vocab_size, (STEPS, B, T))
    targets = torch.randint(0, config.vocab_size, (STEPS, B, T))
    losses, norms = [], []
    for step in range(STEPS):
        optimizer.zero_grad()
        _, loss = model(tokens[step], targets[step])
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)))
        optimizer.step()
        losses.append(loss.item())
    tensors = dict(initial)
    tensors.update({
        "in.tokens": tokens.numpy(),                                   # (STEPS, B, T)
        "in.targets": targets.numpy(),                                 # (STEPS, B, T)
        "out.losses": f32(torch.tensor(losses, dtype=torch.float64)),     # (STEPS)
        "out.grad_norms": f32(torch.tensor(norms, dtype=torch.float64)),  # (STEPS)
    })
    for name, p in model.named_tensors().items():
        tensors["out.final." + name] = f32(p)
    metadata = with_precision(dict(config.metadata(), B=B, T=T, steps=STEPS, lr=lr,
                                   weight_decay=weight_decay, grad_clip=grad_clip,
                                   beta1=0.9, beta2=0.95, eps=1e-8))
    return tensors, metadata


def cases():
    small = dict(vocab_size=65, embed_size=32, max_length=16, num_layers=2, heads=4, ff_dim=64)
    return {
        # lr 1e-2 moves the weights visibly in 20 steps; clip 1.0 bites early on.
        "trajectory_pre": _trajectory(GPTConfig(**small), 4, 8, 91, 1e-2, 0.1, 1.0),
        "trajectory_post_tied": _trajectory(GPTConfig(**small, norm="post", tie_weights=True),
                                            4, 8, 92, 1e-2, 0.1, 0.5),
    }
