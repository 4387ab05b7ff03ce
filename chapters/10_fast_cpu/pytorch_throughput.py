#!/usr/bin/python3
"""Chapter 10: PyTorch's throughput on the course's GPT, as JSON lines.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 chapters/10_fast_cpu/pytorch_throughput.py \
      --modes train,forward,generate --torch_threads 1,2

The model is the PyTorch reference of tests/reference (the same GPT, the same
parameter names). For every mode and every torch.set_num_threads value it
prints one JSON line with the fields `throughput` prints for our side:

  train     forward + cross-entropy + backward + clip_grad_norm_(1.0) + AdamW.step
            on a random (B, T) batch (AdamW decays matrices only, as ours does)
  forward   the same forward pass with the loss, under torch.no_grad()
  generate  nanoGPT's generate(): batch 1, a 1-token prompt, the context cropped
            to the last max_length tokens and recomputed in full for each new
            token, softmax and torch.multinomial; --new_tokens tokens

OpenBLAS reads OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE when it loads, so
each setting of those needs a fresh process: versus_pytorch.py starts one per
setting. The FLOP count is model_flops.h's (see flops_per_token below).
"""
import argparse
import ctypes
import json
import os
import statistics
import sys
import time

import torch
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))

from reference.config import GPTConfig  # noqa: E402
from reference.gpt import GPT  # noqa: E402


def flops_per_token(c, mode, T):
    """model_flops.h's count: 2N + 4·L·T·C forward, 3x for training, T = P for generation."""
    C, Fd, L, V = c.embed_size, c.ff_dim, c.num_layers, c.vocab_size
    N = L * (3 * C * C + C * C + 2 * C * Fd) + V * C
    if mode == "forward":
        return 2 * N + 4 * L * T * C
    if mode == "train":
        return 3 * (2 * N + 4 * L * T * C)
    return 2 * N + 4 * L * c.max_length * C


def blas_library():
    """The BLAS library this process has loaded (after the first matrix product)."""
    try:
        with open("/proc/self/maps") as maps:
            names = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        return "unknown"
    return ", ".join(sorted(os.path.basename(n) for n in names)) or "none found"


def openblas_core():
    """The core type whose kernels OpenBLAS runs, as OpenBLAS reports it (after the first
    matrix product): OPENBLAS_CORETYPE's, or the one it picked itself when that is unset
    or a name it does not accept ("Core not found")."""
    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
    except OSError:
        return "unknown"
    if not paths:
        return "not OpenBLAS"
    corename = ctypes.CDLL(paths[0]).openblas_get_corename
    corename.restype = ctypes.c_char_p
    return corename().decode()


@torch.no_grad()
def generate_nanogpt(model, max_length, new_tokens):
    """nanoGPT's GPT.generate at temperature 1, no top-k."""
    idx = torch.zeros((1, 1), dtype=torch.long)
    for _ in range(new_tokens):
        idx_cond = idx if idx.size(1) <= max_length else idx[:, -max_length:]
        logits, _ = model(idx_cond)
        probs = F.softmax(logits[:, -1, :], dim=-1)
        idx_next = torch.multinomial(probs, num_samples=1)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx


def make_step(mode, model, config, B, T, new_tokens):
    """A function doing one timed step, and the tokens it processes."""
    gen = torch.Generator().manual_seed(1)

    def batch():
        x = torch.randint(0, config.vocab_size, (B, T), generator=gen)
        y = torch.randint(0, config.vocab_size, (B, T), generator=gen)
        return x, y

    if mode == "train":
        model.train()
        decay = [p for p in model.parameters() if p.dim() >= 2]
        no_decay = [p for p in model.parameters() if p.dim() < 2]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)

        def step():
            x, y = batch()
            _, loss = model(x, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
        return step, B * T
    if mode == "forward":
        model.eval()

        def step():
            x, y = batch()
            with torch.no_grad():
                model(x, y)
        return step, B * T
    model.eval()
    return (lambda: generate_nanogpt(model, config.max_length, new_tokens)), new_tokens


def measure(args, config, mode, torch_threads):
    torch.set_num_threads(torch_threads)
    torch.manual_seed(1)
    model = GPT(config)
    B = 1 if mode == "generate" else args.batch_size
    T = config.max_length
    step, tokens_per_step = make_step(mode, model, config, B, T, args.new_tokens)
    for _ in range(args.warmup):
        step()
    times = []
    start = time.perf_counter()
    while len(times) < args.steps or time.perf_counter() - start < args.seconds:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    tokens_per_s = tokens_per_step * len(times) / seconds
    fpt = flops_per_token(config, mode, T)
    return {
        "side": "pytorch",
        "device": "pytorch",
        "mode": mode,
        "tokens_per_s": tokens_per_s,
        "ms_per_step": 1e3 * statistics.median(times),
        "gflop_per_s": tokens_per_s * fpt / 1e9,
        "flop_per_token": fpt,
        "steps": len(times),
        "tokens_per_step": tokens_per_step,
        "threads": torch.get_num_threads(),
        "config": {"batch_size": B, "block_size": T, "embed_size": config.embed_size,
                   "num_layers": config.num_layers, "heads": config.heads,
                   "ff_dim": config.ff_dim, "vocab_size": config.vocab_size},
        "torch_threads": torch_threads,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"),
        "blas": blas_library(),
        "openblas_core": openblas_core(),
        "torch_version": torch.__version__,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--modes", default="train,forward,generate")
    p.add_argument("--torch_threads", default="1", help="comma-separated torch.set_num_threads values")
    p.add_argument("--embed_size", type=int, default=256)
    p.add_argument("--num_layers", type=int, default=6)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--ff_dim", type=int, default=1024)
    p.add_argument("--vocab_size", type=int, default=65)
    p.add_argument("--batch_size", type=int, default=32)
    p.add_argument("--block_size", type=int, default=64)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--new_tokens", type=int, default=200)
    args = p.parse_args()
    config = GPTConfig(vocab_size=args.vocab_size, embed_size=args.embed_size,
                       max_length=args.block_size, num_layers=args.num_layers, heads=args.heads,
                       ff_dim=args.ff_dim)
    for mode in args.modes.split(","):
        if mode not in ("train", "forward", "generate"):
            p.error(f"unknown mode {mode!r}: train, forward or generate")
        for threads in [int(t) for t in args.torch_threads.split(",")]:
            print(json.dumps(measure(args, config, mode, threads)), flush=True)


if __name__ == "__main__":
    main()
