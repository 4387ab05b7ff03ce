#!/usr/bin/python3
"""Writes the PyTorch reference cases that the chapters' tests compare against.

  /usr/bin/python3 tests/make_references.py           # regenerate tests/references/
  /usr/bin/python3 tests/make_references.py --check   # regenerate in memory, compare

--check fails when a committed file is missing, extra, or differs from what the
reference model computes now by more than 1e-10 + 2^-22·|x| (see TOLERANCE),
the same for every float32 tensor of every case; integer tensors, F16 and BF16
tensors (stored parameters, not results), names, shapes and metadata must
match exactly. CI runs it, so the committed references cannot
drift from the reference model, and they pass on any CPU: every case computes
in float64 and stores its results rounded once to float32 (tests/cases/).
"""
import argparse
import glob
import importlib
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from cases import PRECISION  # noqa: E402
from reference import safetensors_io  # noqa: E402

# One module per chapter, tests/cases/chNN_name.py, in course order.
CHAPTER_MODULES = sorted("cases." + os.path.basename(p)[:-3]
                         for p in glob.glob(os.path.join(HERE, "cases", "ch*.py")))
# (atol, rtol): a float element x passes when |committed − fresh| <= atol + rtol·|fresh|.
#
# Two machines' float64 results for the same case differ by some δ: their BLAS
# kernels add in other orders, so δ is a few units of float64's roundoff
# 2^-53 ≈ 1.1e-16 times the size of the terms summed (times what the op
# amplifies: cancellation, and Adam's division by √v over 20 steps). Rounded
# once to float32, two such values are the same float unless they straddle a
# rounding boundary, and then they are neighbours: one float32 spacing apart,
# at most 2^-23·|x|. rtol = 2^-22 allows that flip with a factor of two to
# spare, and nothing like a second one; a changed model moves elements by
# far more than a float32 spacing.
# atol covers results whose exact value is 0 or tiny, where δ is not small
# relative to |x|: the largest measured is 7e-13, the key third of
# attn.qkv.bias after chapter 09's 20 AdamW steps (its true gradient is 0,
# and a float64 gradient of ~1e-19 moves it by only ~lr·1e-19/eps per step),
# then 3e-16 for that slice's gradient (chapter 08). 1e-10 is over a hundred
# times that, and about one float32 spacing at |x| = 1e-3.
# Measured across OpenBLAS core types (SkylakeX, Haswell, Sandybridge,
# Nehalem, Prescott: OPENBLAS_CORETYPE=...): every tensor but that slice is
# bit-identical.
TOLERANCE = (1e-10, 2.0 ** -22)


def all_cases():
    torch.set_num_threads(1)  # one thread: the same sums on every run
    for module_name in CHAPTER_MODULES:
        module = importlib.import_module(module_name)
        for name, (tensors, metadata) in module.cases().items():
            if metadata.get("precision") != PRECISION:
                raise ValueError(f"{module_name} {name}: not computed in {PRECISION}")
            yield module.CHAPTER, name, tensors, metadata


def differences(path, tensors, metadata):
    """Lists how a committed file differs from freshly computed tensors."""
    if not os.path.exists(path):
        return [f"{path}: missing (run tests/make_references.py)"]
    old, old_metadata = safetensors_io.read(path)
    problems = []
    if old_metadata != {k: str(v) for k, v in metadata.items()}:
        problems.append(f"{path}: metadata differs")
    if sorted(old) != sorted(tensors):
        problems.append(f"{path}: tensor names differ: {sorted(old)} vs {sorted(tensors)}")
        return problems
    for name, new in tensors.items():
        new = np.asarray(new)
        if old[name].shape != new.shape or old[name].dtype != new.dtype:
            problems.append(f"{path}: {name} has shape/dtype {old[name].shape}/{old[name].dtype},"
                            f" now {new.shape}/{new.dtype}")
        elif new.dtype == np.float32:
            error = np.abs(old[name].astype(np.float64) - new)
            atol, rtol = TOLERANCE
            allowed = atol + rtol * np.abs(new.astype(np.float64))
            if (error > allowed).any():
                worst = np.unravel_index(np.argmax(error / allowed), new.shape)
                problems.append(f"{path}: {name} drifted, max abs error {error.max():.3g},"
                                f" {int((error > allowed).sum())} elements outside"
                                f" {atol:g} + {rtol:.3g}·|x|; worst at {list(map(int, worst))}:"
                                f" committed {old[name][worst]:.9g}, now {new[worst]:.9g}")
        elif not np.array_equal(old[name], new):
            problems.append(f"{path}: {name} ({new.dtype}, compared exactly) differs")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing them")
    parser.add_argument("--dir", default=os.path.join(HERE, "references"),
                        help="where the reference files live (default: tests/references)")
    args = parser.parse_args()

    problems, expected_files, total_bytes = [], set(), 0
    for chapter, name, tensors, metadata in all_cases():
        path = os.path.join(args.dir, chapter, name + ".safetensors")
        expected_files.add(os.path.relpath(path, args.dir))
        if args.check:
            problems += differences(path, tensors, metadata)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            safetensors_io.write(path, tensors, metadata)
            total_bytes += os.path.getsize(path)
            print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")
    for root, _, files in os.walk(args.dir):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), args.dir)
            if f.endswith(".safetensors") and rel not in expected_files:
                problems.append(f"{rel}: no case produces this file any more")
    if args.check:
        for p in problems:
            print("DRIFT:", p)
        print(f"{len(expected_files)} reference files checked, {len(problems)} problems")
        return 1 if problems else 0
    print(f"{len(expected_files)} reference files, {total_bytes / 1e6:.2f} MB in all")
    for p in problems:
        print("note:", p, "(delete it if it is stale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
