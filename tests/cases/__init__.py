"""Reference cases, one module per chapter: cases() returns {name: (tensors, metadata)}.

Naming inside a case file:
  in.<name>     an input (token ids, activations)
  <param name>  a parameter, named as in the model (wte.weight, blocks.0.attn.qkv.bias)
  out.<name>    an output the C++ code must reproduce

Precision: inputs and parameters are drawn in float32, exactly as a float32
model would start (same seeds, same draws), so the C++ code reads the very
same numbers. Every case then computes in float64 from those float32 values
(`.double()`: exact) and stores each result rounded once to float32 (f32()).
A float32 computation's answer depends on the order its sums are added in,
which differs between BLAS kernels and so between CPUs; the float64 answer
rounded to float32 is the exact answer to within a rounding, the same on
every machine (make_references.py's TOLERANCE says how close). Every
case's metadata records precision=float64.
"""
import torch

PRECISION = "float64"


def f32(t):
    """A tensor (float64 result or float32 input) as a float32 numpy array: rounded once."""
    return t.detach().to(torch.float32).contiguous().numpy()


def with_precision(metadata):
    """The case's metadata plus precision=float64."""
    return dict(metadata, precision=PRECISION)
