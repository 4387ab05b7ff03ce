#!/usr/bin/python3
"""Chapter 16: GPT-2 in PyTorch (tests/reference/gpt2.py), from the command line.

  gpt2_reference.py random   --preset gpt2 | --shape L,H,C,V,P  [--dtype F32|F16|BF16]
                             [--prefix transformer.] [--mask_buffers] [--lm_head]
                             [--perturb] [--seed N] --out DIR
  gpt2_reference.py logits   --model DIR|FILE --ids 1,2,3 [--out FILE.safetensors]
  gpt2_reference.py compare  --model DIR|FILE [--ids 1,2,3] --logits FILE.safetensors
                             [--tolerance 1e-4]
  gpt2_reference.py generate --preset gpt2 | --shape L,H,C,V,P  [--tokens 64]
                             [--prompt_tokens 1] [--threads N] [--seed 1] [--json]

random    writes a GPT-2 with GPT-2's random initialisation (and, with --perturb,
          biases and LayerNorms moved off 0 and 1) in the published layout:
          DIR/model.safetensors (Hugging Face's names, Conv1D weights (in, out))
          and DIR/config.json.
logits    runs a model file on one sequence in float32 and prints a summary of
          the logits (T, V); --out stores them as `logits` (T, V) F32, with the
          ids as `ids` (T) I32.
compare   runs the model on the ids (--ids, else the file's `ids`) and compares
          with the `logits` (T, V) F32 in --logits, e.g. what the C++ code
          computed from the same file; prints the worst |difference| and where,
          and exits 1 when it is above --tolerance (absolute).
generate  times PyTorch's greedy generation on random weights: batch 1, float32,
          the KV cache, torch.inference_mode(), after an untimed warm-up (the
          prompt and up to 4 new tokens);
          --tokens new tokens after a --prompt_tokens-token prompt. --json
          prints one line {"tokens_per_s", "threads", "seconds", "torch", ...}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests"))

from reference import gpt2, safetensors_io  # noqa: E402


def config_from_args(args):
    if bool(args.preset) == bool(args.shape):
        raise SystemExit("error: give one of --preset NAME and --shape L,H,C,V,P")
    if args.preset:
        try:
            return gpt2.GPT2Config.preset(args.preset)
        except ValueError as e:
            raise SystemExit(f"error: {e}")
    try:
        L, H, C, V, P = (int(x) for x in args.shape.split(","))
        return gpt2.GPT2Config(n_layer=L, n_head=H, n_embd=C, vocab_size=V,
                               n_positions=P).check()
    except ValueError as e:
        raise SystemExit(f"error: --shape {args.shape}: L,H,C,V,P ({e})")


def parse_ids(text):
    return [int(t) for t in text.replace(",", " ").split()]


def load_model(path):
    try:
        return gpt2.load(path)
    except (ValueError, OSError) as e:
        raise SystemExit(f"error: {path}: {e}")


def logits_for(model, ids):
    """(T, V) float32 logits of one sequence."""
    V, P = model.config.vocab_size, model.config.n_positions
    if not 1 <= len(ids) <= P:
        raise SystemExit(f"error: need 1 to {P} ids, got {len(ids)}")
    if min(ids) < 0 or max(ids) >= V:
        raise SystemExit(f"error: ids must be in [0, {V})")
    with torch.inference_mode():
        logits, _ = model(torch.tensor([ids], dtype=torch.int64))   # (1, T, V)
    return logits[0].float().numpy()                                # (T, V)


def cmd_random(args):
    config = config_from_args(args)
    start = time.perf_counter()
    model = gpt2.GPT2(config).init_random(args.seed, perturb=args.perturb)
    gpt2.save(model, args.out, dtype=args.dtype, prefix=args.prefix,
              mask_buffers=args.mask_buffers, lm_head=args.lm_head)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}/model.safetensors ({parameters} parameters, {args.dtype},"
          f" L={config.n_layer} H={config.n_head} C={config.n_embd} V={config.vocab_size}"
          f" P={config.n_positions}) and config.json in {time.perf_counter() - start:.1f} s")
    return 0


def cmd_logits(args):
    model = load_model(args.model)
    ids = parse_ids(args.ids)
    logits = logits_for(model, ids)                                  # (T, V)
    T, V = logits.shape
    print(f"logits ({T}, {V}): sum {logits.astype(np.float64).sum():.6f},"
          f" max {logits.max():.6f} at {np.unravel_index(logits.argmax(), logits.shape)},"
          f" min {logits.min():.6f}; next token (greedy): {int(logits[-1].argmax())}")
    if args.out:
        safetensors_io.write(args.out, {"logits": logits, "ids": np.array(ids, dtype=np.int32)},
                             {"model": args.model})
        print(f"wrote {args.out}")
    return 0


def cmd_compare(args):
    theirs, _ = safetensors_io.read(args.logits, widen=True)
    if "logits" not in theirs:
        raise SystemExit(f"error: {args.logits} holds no 'logits'")
    if args.ids:
        ids = parse_ids(args.ids)
    elif "ids" in theirs:
        ids = [int(i) for i in theirs["ids"].reshape(-1)]
    else:
        raise SystemExit(f"error: no --ids, and {args.logits} holds no 'ids'")
    model = load_model(args.model)
    ours = logits_for(model, ids).astype(np.float64)                 # (T, V)
    other = theirs["logits"].astype(np.float64)
    if other.ndim == 3 and other.shape[0] == 1:                      # (1, T, V)
        other = other[0]
    if other.shape != ours.shape:
        raise SystemExit(f"error: {args.logits} has logits of shape {other.shape},"
                         f" PyTorch's are {ours.shape}")
    difference = np.abs(other - ours)
    t, v = np.unravel_index(int(difference.argmax()), difference.shape)
    worst = float(difference[t, v])
    scale = float(np.abs(ours).max())
    print(f"compare {args.logits} with PyTorch on {args.model} ({len(ids)} ids):"
          f" max |difference| {worst:.3e} at position {t}, token {v}"
          f" (file {other[t, v]:.7f}, torch {ours[t, v]:.7f}); max |logit| {scale:.4f};"
          f" tolerance {args.tolerance:g}")
    if not np.isfinite(other).all() or worst > args.tolerance:
        print("FAIL: the logits differ", file=sys.stderr)
        return 1
    print("OK: same logits")
    return 0


def cmd_generate(args):
    config = config_from_args(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.prompt_tokens < 1 or args.tokens < 1:
        raise SystemExit("error: --prompt_tokens and --tokens must be at least 1")
    model = gpt2.GPT2(config).init_random(args.seed).eval()
    generator = torch.Generator().manual_seed(args.seed)
    prompt = torch.randint(0, config.vocab_size, (args.prompt_tokens,),
                           generator=generator).tolist()
    with torch.inference_mode():
        # Warm-up, untimed: the prompt and a few cached steps touch every weight and
        # every code path once (a second full run would only double the wall time).
        gpt2.generate(model, prompt, min(args.tokens, 4))
        start = time.perf_counter()
        new = gpt2.generate(model, prompt, args.tokens)
        seconds = time.perf_counter() - start
    result = {
        "side": "pytorch",
        "mode": "generate",
        "tokens_per_s": len(new) / seconds,
        "threads": torch.get_num_threads(),
        "seconds": seconds,
        "tokens": len(new),
        "prompt_tokens": len(prompt),
        "preset": args.preset or "",
        "config": {"n_layer": config.n_layer, "n_head": config.n_head, "n_embd": config.n_embd,
                   "vocab_size": config.vocab_size, "n_positions": config.n_positions},
        "kv_cache": True,
        "dtype": "float32",
        "torch": torch.__version__,
    }
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"PyTorch {torch.__version__}, {result['threads']} threads: {len(new)} tokens after"
              f" a {len(prompt)}-token prompt in {seconds:.3f} s, {result['tokens_per_s']:.1f}"
              f" tokens/s (greedy, KV cache, float32)")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def sizes(p):
        p.add_argument("--preset", choices=list(gpt2.PRESETS))
        p.add_argument("--shape", help="L,H,C,V,P: layers, heads, width, vocabulary, context")
        p.add_argument("--seed", type=int, default=1)

    p = commands.add_parser("random", help="write a random GPT-2 in the published layout")
    sizes(p)
    p.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32")
    p.add_argument("--prefix", default="", help="name prefix, e.g. transformer.")
    p.add_argument("--mask_buffers", action="store_true",
                   help="add h.{i}.attn.bias (1, 1, P, P) causal masks (F32), as older files do")
    p.add_argument("--lm_head", action="store_true", help="add lm_head.weight, a copy of wte")
    p.add_argument("--perturb", action="store_true",
                   help="move biases and LayerNorms off 0 and 1 so that they matter")
    p.add_argument("--out", required=True, help="directory for model.safetensors, config.json")
    p.set_defaults(run=cmd_random)

    p = commands.add_parser("logits", help="the logits of one sequence")
    p.add_argument("--model", required=True, help="directory or .safetensors file")
    p.add_argument("--ids", required=True, help="token ids, commas or spaces")
    p.add_argument("--out", help="write `logits` (T, V) F32 and `ids` (T) I32 here")
    p.set_defaults(run=cmd_logits)

    p = commands.add_parser("compare", help="compare logits in a file with PyTorch's")
    p.add_argument("--model", required=True, help="directory or .safetensors file")
    p.add_argument("--ids", help="token ids (default: the file's `ids`)")
    p.add_argument("--logits", required=True, help="safetensors file with `logits` (T, V) F32")
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest |difference| allowed")
    p.set_defaults(run=cmd_compare)

    p = commands.add_parser("generate", help="PyTorch's generation speed, KV cache, batch 1")
    sizes(p)
    p.add_argument("--tokens", type=int, default=64, help="new tokens to time")
    p.add_argument("--prompt_tokens", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: leave)")
    p.add_argument("--json", action="store_true", help="one JSON line")
    p.set_defaults(run=cmd_generate)

    args = parser.parse_args()
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
