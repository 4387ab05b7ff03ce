#!/usr/bin/python3
"""Writes the PyTorch reference cases that the chapters' tests compare against.

  /usr/bin/python3 tests/make_references.py           # regenerate tests/references/
  /usr/bin/python3 tests/make_references.py --check   # regenerate in memory, compare

--check fails when a committed file is missing, extra, or differs from what the
reference model computes now by more than atol 1e-6 + rtol 1e-5 (looser after
an optimizer trajectory: see tolerance()) (integer
tensors, names, shapes and metadata must match exactly). CI runs it, so the
committed references cannot drift from the reference model.
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

from reference import safetensors_io  # noqa: E402

# One module per chapter, tests/cases/chNN_name.py, in course order.
CHAPTER_MODULES = sorted("cases." + os.path.basename(p)[:-3]
                         for p in glob.glob(os.path.join(HERE, "cases", "ch*.py")))
ATOL, RTOL = 1e-6, 1e-5


def tolerance(name, metadata):
    """(atol, rtol) for a tensor: ATOL, RTOL, except after an optimizer trajectory.

    Twenty AdamW steps (chapter 09's cases, out.final.*) amplify the last-bit
    differences between BLAS libraries and CPUs (OpenBLAS picks its kernels by
    CPU), so there the check allows what chapter 09's own test allows, 1e-5 +
    1e-4·|x|. The key third of attn.qkv.bias has a true gradient of exactly 0
    (softmax ignores a shared offset): Adam turns rounding noise into steps of
    up to lr, so that tensor may drift by steps · lr (chapter 09's lesson).
    """
    if name.startswith("out.final."):
        if name.endswith("attn.qkv.bias"):
            return float(metadata["steps"]) * float(metadata["lr"]), 0.0
        return 1e-5, 1e-4
    return ATOL, RTOL


def all_cases():
    torch.set_num_threads(1)  # bit-for-bit reproducible matmuls
    for module_name in CHAPTER_MODULES:
        module = importlib.import_module(module_name)
        for name, (tensors, metadata) in module.cases().items():
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
        elif new.dtype.kind == "f":
            error = np.abs(old[name].astype(np.float64) - new)
            atol, rtol = tolerance(name, metadata)
            allowed = atol + rtol * np.abs(new.astype(np.float64))
            if (error > allowed).any():
                problems.append(f"{path}: {name} drifted, max abs error {error.max():.3g}")
        elif not np.array_equal(old[name], new):
            problems.append(f"{path}: {name} (integers) differs")
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
