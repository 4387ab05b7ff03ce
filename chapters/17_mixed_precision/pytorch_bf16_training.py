#!/usr/bin/python3
"""Chapter 17: PyTorch's bf16 training step on the course's GPT, as one JSON line.

  python3 chapters/17_mixed_precision/pytorch_bf16_training.py               # GPT-2 small, B=8, on the GPU
  python3 chapters/17_mixed_precision/pytorch_bf16_training.py --shape seed  # the course's seed model
  python3 chapters/17_mixed_precision/pytorch_bf16_training.py --smoke       # tiny, on the CPU: a check

The other side of bf16_training_bench (versus_pytorch_gpu.sh runs both): the
same model at the same shape, trained the way a PyTorch user would write it,
eager (no torch.compile):
  - a pre-LN GPT-2 (learned positions, LayerNorm eps 1e-5, GELU as the
    shape says, lm_head tied to wte for GPT-2), written here with torch.nn;
  - fp32 master weights, the forward and backward under
    torch.autocast(dtype=torch.bfloat16): the linear layers on bf16 tensor
    cores with fp32 accumulation, LayerNorm, softmax and the loss in fp32;
  - attention by F.scaled_dot_product_attention(is_causal=True) (PyTorch's
    flash attention on the GPU; torch < 2.0 lacks it: then the plain
    softmax(Q·Kᵀ)·V, and the JSON says so);
  - clip_grad_norm_(1.0), then AdamW (betas 0.9, 0.95, eps 1e-8, weight
    decay 0.1 on matrices only, as chapter 09's), fused=True where PyTorch
    has it: the same work as our CudaEngine::step.
Each step samples a random (B, T) batch on the device. After --warmup
untimed steps, --steps steps are timed with a wall clock between two
torch.cuda.synchronize() calls; tokens/s = B·T·steps / seconds.

FLOPs per token are chapter 10's model_flops.h count for training,
3·(2N + 4·L·T·C) = 6N + 12·L·T·C, N the weights of the matrix products,
the same as bf16_training_bench's. MFU needs the card's dense bf16 peak:
--peak_tflops (versus_pytorch_gpu.sh passes the one the benchmark used);
without it the JSON has no MFU.
"""
import argparse
import inspect
import json
import math
import os
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

SHAPES = {
    # name: (V, C, L, H, F, T, B, gelu, tied), as bf16_training_bench.cc's shapes().
    "gpt2": (50257, 768, 12, 12, 3072, 1024, 8, "tanh", True),
    "seed": (65, 256, 6, 8, 1024, 64, 32, "erf", False),
    "tiny": (64, 32, 2, 2, 64, 16, 2, "tanh", True),
}

HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


class Attention(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.H = H
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)

    def forward(self, x):                                       # (B, T, C)
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        if HAS_SDPA:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # torch < 2.0 (Debian 12's 1.13): the same function, unfused
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1)
            y = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, C, H, Fd, gelu):
        super().__init__()
        self.ln1 = nn.LayerNorm(C)
        self.attn = Attention(C, H)
        self.ln2 = nn.LayerNorm(C)
        self.fc = nn.Linear(C, Fd)
        self.fc_proj = nn.Linear(Fd, C)
        self.gelu = gelu

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate=self.gelu_arg()))

    def gelu_arg(self):
        return "tanh" if self.gelu == "tanh" else "none"


class GPT(nn.Module):
    def __init__(self, V, C, L, H, Fd, T, gelu, tied):
        super().__init__()
        self.wte = nn.Embedding(V, C)
        self.wpe = nn.Embedding(T, C)
        self.blocks = nn.ModuleList(Block(C, H, Fd, gelu) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.lm_head = nn.Linear(C, V, bias=False)
        if tied:
            self.lm_head.weight = self.wte.weight
        residual_std = 0.02 / math.sqrt(2 * L)  # GPT-2's initialisation
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln" in name or name.startswith("ln_f"):
                nn.init.ones_(p)
            elif name.endswith("attn.proj.weight") or name.endswith("fc_proj.weight"):
                nn.init.normal_(p, 0.0, residual_std)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, tokens, targets):                       # (B, T) each
        T = tokens.size(1)
        x = self.wte(tokens) + self.wpe(torch.arange(T, device=tokens.device))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))                   # (B, T, V), bf16 under autocast
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1))


def flops_per_token(V, C, L, Fd, T):
    """model_flops.h's training count: 3 × (2N + 4·L·T·C)."""
    N = L * (3 * C * C + C * C + 2 * C * Fd) + V * C
    return 3 * (2 * N + 4 * L * T * C)


def adamw(model, device):
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}]
    kwargs = dict(lr=1e-4, betas=(0.9, 0.95), eps=1e-8)
    fused = device.type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters
    if fused:
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs), fused


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return "CPU: " + line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "CPU"


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(args):
    V, C, L, H, Fd, T, B, gelu, tied = SHAPES[args.shape]
    B = args.batch_size or B
    device = torch.device(args.device)
    torch.manual_seed(1)
    model = GPT(V, C, L, H, Fd, T, gelu, tied).to(device)
    optimizer, fused = adamw(model, device)
    gen = torch.Generator(device=device).manual_seed(2)

    def step():
        x = torch.randint(0, V, (B, T), device=device, generator=gen)
        y = torch.randint(0, V, (B, T), device=device, generator=gen)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
            loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        return loss

    for _ in range(args.warmup):
        loss = step()
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    sync(device)
    seconds = time.perf_counter() - start
    last_loss = float(loss)  # after the timing: reading it synchronises
    tokens_per_s = B * T * args.steps / seconds
    fpt = flops_per_token(V, C, L, Fd, T)
    result = {
        "side": "pytorch",
        "what": "PyTorch eager, bf16 autocast, "
                + ("scaled_dot_product_attention" if HAS_SDPA else "unfused attention (no SDPA)")
                + (", fused AdamW" if fused else ", AdamW"),
        "shape": args.shape,
        "device": device_name(device),
        "tokens_per_s": tokens_per_s,
        "ms_per_step": 1e3 * seconds / args.steps,
        "flop_per_token": fpt,
        "tflop_per_s": tokens_per_s * fpt / 1e12,
        "steps": args.steps,
        "warmup": args.warmup,
        "loss": last_loss,
        "sdpa": HAS_SDPA,
        "fused_adamw": fused,
        "parameters": sum(p.numel() for p in model.parameters()),
        "config": {"vocab_size": V, "embed_size": C, "num_layers": L, "heads": H, "ff_dim": Fd,
                   "block_size": T, "batch_size": B, "gelu": gelu, "tie_weights": tied},
        "torch_version": torch.__version__,
        "cuda_version": torch.version.cuda,
        "date": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()),
    }
    if device.type == "cuda":
        result["max_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    if args.peak_tflops:
        result["peak_tflops"] = args.peak_tflops
        result["mfu_percent"] = 100 * result["tflop_per_s"] / args.peak_tflops
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shape", choices=sorted(SHAPES), default="gpt2")
    p.add_argument("--batch_size", type=int, default=0, help="B; 0: the shape's (gpt2 8, seed 32)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--peak_tflops", type=float, default=0.0,
                   help="the card's dense bf16 peak, for MFU (versus_pytorch_gpu.sh passes it)")
    p.add_argument("--smoke", action="store_true",
                   help="a check, not a measurement: the tiny shape, 1 + 2 steps, on the CPU, "
                        "and the JSON's fields checked")
    args = p.parse_args()
    if args.smoke:
        args.shape, args.device, args.warmup, args.steps = "tiny", "cpu", 1, 2
        args.peak_tflops = args.peak_tflops or 1.0
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        sys.exit("pytorch_bf16_training: no CUDA device for PyTorch (--device cpu runs on the CPU)")
    result = measure(args)
    print(json.dumps(result), flush=True)
    if args.smoke:
        for key in ("tokens_per_s", "ms_per_step", "tflop_per_s", "mfu_percent"):
            assert math.isfinite(result[key]) and result[key] > 0, (key, result[key])
        assert math.isfinite(result["loss"]), result["loss"]
        # tiny: V=64, C=32, L=2, F=64, T=16: N = 2·(4·32² + 2·32·64) + 64·32 = 18,432
        assert result["flop_per_token"] == 3 * (2 * 18432 + 4 * 2 * 16 * 32), result
        print("pytorch_bf16_training: smoke ok", file=sys.stderr)


if __name__ == "__main__":
    main()
