#!/usr/bin/python3
"""Loads a checkpoint written by the C++ `train` program into the PyTorch reference model.

  /usr/bin/python3 tests/load_checkpoint.py runs/latest/checkpoint.safetensors
  /usr/bin/python3 tests/load_checkpoint.py CKPT --text "It is a truth"
  /usr/bin/python3 tests/load_checkpoint.py CKPT --tokens "3 1 4 1 5"
  /usr/bin/python3 tests/load_checkpoint.py CKPT --compare logits.safetensors

The model's configuration comes from the checkpoint's metadata; its parameter
tensors load by name, and the names must be exactly the reference model's
(the optimizer.* tensors, AdamW's moments, are not part of the model and are
skipped). The model then runs on one token sequence and the logits are
summarised.

--compare FILE reads `logits` (1, T, V) and `tokens` (1, T), written by
chapters/09_training:checkpoint_logits from the same checkpoint, runs PyTorch
on those tokens, and fails (exit status 1) unless

    max |ours - torch| <= 1e-4 * max |torch|

i.e. the worst difference is within 1e-4 of the logits' own scale. Equal
logits mean the file holds the same model on both sides: a checkpoint is
portable to PyTorch.
"""
import argparse
import dataclasses
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from reference import safetensors_io  # noqa: E402
from reference.config import GPTConfig  # noqa: E402
from reference.gpt import GPT  # noqa: E402

RELATIVE_TOLERANCE = 1e-4
OPTIMIZER_PREFIX = "optimizer."


def config_from_metadata(metadata):
    """GPTConfig from the string metadata (C++ GPTConfig::to_metadata's keys)."""
    values = {}
    for field in dataclasses.fields(GPTConfig):
        if field.name not in metadata:
            raise SystemExit(f"error: the checkpoint's metadata lacks '{field.name}'")
        text = metadata[field.name]
        if field.type in (bool, "bool"):
            if text not in ("True", "False"):
                raise SystemExit(f"error: '{field.name}' is '{text}', expected True or False")
            values[field.name] = text == "True"
        elif field.type in (int, "int"):
            values[field.name] = int(text)
        elif field.type in (float, "float"):
            values[field.name] = float(text)
        else:
            values[field.name] = text
    return GPTConfig(**values)


def load_model(path):
    """(the reference GPT with the checkpoint's parameters, metadata)."""
    tensors, metadata = safetensors_io.read(path)
    config = config_from_metadata(metadata)
    model = GPT(config).eval()
    expected = model.named_tensors()
    stored = {name: array for name, array in tensors.items()
              if not name.startswith(OPTIMIZER_PREFIX)}
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        raise SystemExit(f"error: parameter names differ from the reference model's:"
                         f" missing {missing}, unexpected {unexpected}")
    with torch.no_grad():
        for name, parameter in expected.items():
            array = stored[name]
            if tuple(array.shape) != tuple(parameter.shape) or array.dtype != np.float32:
                raise SystemExit(f"error: '{name}' is {array.dtype} {tuple(array.shape)},"
                                 f" the reference model wants float32 {tuple(parameter.shape)}")
            parameter.copy_(torch.from_numpy(array.copy()))
    return model, metadata


def choose_tokens(args, metadata, config):
    if args.tokens:
        return [int(t) for t in args.tokens.replace(",", " ").split()]
    if args.text:
        vocabulary = metadata.get("vocabulary", "")
        ids = {c: i for i, c in enumerate(vocabulary)}
        unknown = [c for c in args.text if c not in ids]
        if unknown:
            raise SystemExit(f"error: {unknown[0]!r} is not in the checkpoint's vocabulary")
        return [ids[c] for c in args.text]
    # By default the same sequence as checkpoint_logits: the whole context.
    return [(3 * t + 1) % config.vocab_size for t in range(config.max_length)]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("--tokens", help="token ids, separated by spaces or commas")
    parser.add_argument("--text", help="text in the checkpoint's vocabulary")
    parser.add_argument("--compare", metavar="FILE",
                        help="safetensors file with `logits` (and `tokens`) from checkpoint_logits")
    args = parser.parse_args()
    torch.set_num_threads(1)

    model, metadata = load_model(args.checkpoint)
    config = model.config
    other = None
    if args.compare:
        other, _ = safetensors_io.read(args.compare)
        if "logits" not in other:
            raise SystemExit(f"error: {args.compare} holds no 'logits'")
    if other is not None and "tokens" in other and not (args.tokens or args.text):
        tokens = [int(t) for t in other["tokens"].reshape(-1)]
    else:
        tokens = choose_tokens(args, metadata, config)
    if not tokens or len(tokens) > config.max_length:
        raise SystemExit(f"error: need 1 to {config.max_length} tokens, got {len(tokens)}")
    if min(tokens) < 0 or max(tokens) >= config.vocab_size:
        raise SystemExit(f"error: token ids must be in [0, {config.vocab_size})")

    with torch.no_grad():
        logits, _ = model(torch.tensor([tokens], dtype=torch.int64))   # (1, T, V)
    logits = logits.numpy()
    parameters = sum(p.numel() for p in model.parameters())
    print(f"checkpoint {args.checkpoint}: step {metadata.get('step', '?')}, {parameters} parameters,"
          f" V={config.vocab_size} C={config.embed_size} L={config.num_layers}"
          f" H={config.heads} F={config.ff_dim} P={config.max_length}")
    print(f"logits (1, {len(tokens)}, {config.vocab_size}): mean {logits.mean():.6f},"
          f" std {logits.std():.6f}, min {logits.min():.6f}, max {logits.max():.6f}")
    print(f"most likely token after the last position: {int(logits[0, -1].argmax())}")

    if other is None:
        return 0
    ours = other["logits"].astype(np.float64)
    if ours.shape != logits.shape:
        raise SystemExit(f"error: {args.compare} has logits of shape {ours.shape},"
                         f" PyTorch's are {logits.shape}")
    difference = np.abs(ours - logits)
    scale = max(float(np.abs(logits).max()), 1e-30)
    worst = np.unravel_index(int(difference.argmax()), difference.shape)
    relative = float(difference.max()) / scale
    print(f"compare with {args.compare}: max abs difference {difference.max():.3e}"
          f" at {tuple(int(i) for i in worst)} (ours {ours[worst]:.7f},"
          f" torch {logits[worst]:.7f}); relative to max |logit| {scale:.4f}: {relative:.3e}"
          f" (allowed {RELATIVE_TOLERANCE:g})")
    if relative > RELATIVE_TOLERANCE:
        print("FAIL: the C++ model and the PyTorch model disagree", file=sys.stderr)
        return 1
    print("OK: the checkpoint computes the same logits in PyTorch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
