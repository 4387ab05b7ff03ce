"""Chapter 17: float32 rounded to bf16 and to fp16 by PyTorch, bit for bit.

One case, `conversions`: a few hundred float32 inputs and the 16-bit patterns
PyTorch's `.to(torch.bfloat16)` and `.to(torch.float16)` give for them.

  in.x          (N,) float32   the inputs
  out.bf16_bits (N,) int32     x.to(torch.bfloat16), its 16 bits (0 … 65535)
  out.fp16_bits (N,) int32     x.to(torch.float16), its 16 bits

The inputs are chosen to hit every path of a conversion: ±0, ±∞, NaNs (quiet,
signalling, with payloads, negative); exact ties between two neighbours of
the narrow format, with the lower neighbour even and odd, and the floats
just either side of each tie; the largest finite values and the ties above
them (which round to ∞); fp16's subnormals, half its smallest subnormal (a
tie with 0), and float32's own subnormals; the numbers the lesson rounds
(0.1, 1/3, 1000.1, 3e38, 1e-6, 6e-8, 1e-8); then random floats of every
magnitude from 1e-9 to 1e6, and random bit patterns.

A NaN's bits are not part of the contract: PyTorch's vectorised bf16 path
writes 0xFFFF, its scalar path 0x7FC0. The case stores a canonical quiet NaN
with the input's sign (0x7FC0 / 0x7E00, 0xFFC0 / 0xFE00) and the C++ test
checks only that a NaN stays a NaN. Every other pattern must match exactly.
The results are integers (no float arithmetic to drift), so the metadata's
precision=float64 only satisfies the common rule of tests/cases/.
As a check on PyTorch itself, every non-NaN result is compared here with a
second implementation: numpy's float16 conversion, and the bit recipe of
reference/safetensors_io.py for bf16.
"""
import numpy as np
import torch

from cases import with_precision
from reference import safetensors_io

CHAPTER = "17_mixed_precision"


def _f32(bits):
    """uint32 bit patterns -> float32 values."""
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def _bits(values):
    """float32 values -> uint32 bit patterns."""
    return np.asarray(values, dtype=np.float32).view(np.uint32)


def _around(values):
    """Each float32 value and its two float32 neighbours."""
    v = np.asarray(values, dtype=np.float32)
    with np.errstate(over="ignore"):  # float32's largest has ∞ as its neighbour
        return np.concatenate([v, np.nextafter(v, np.float32(-np.inf)), np.nextafter(v, np.float32(np.inf))])


def _inputs():
    pieces = []
    # Zeros, infinities, NaNs: quiet, signalling (payload in the low bits, so
    # cutting bits would make it an infinity), negative.
    pieces.append(_f32([0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                        0x7F800001, 0x7FBFFFFF, 0xFF812345, 0x7FFFFFFF]))
    # bf16: keep the top 16 bits. Below them 0x8000 is a tie; 0x7FFF and
    # 0x8001 are just below and above it. Kept parts with last bit 0 and 1,
    # from float32's subnormals to its largest, positive and negative.
    kept = [0x0000, 0x0001, 0x007F, 0x0080, 0x0081, 0x3F80, 0x3F81, 0x3DCC, 0x4049, 0x477F,
            0x7F7E, 0x7F7F]
    low = [0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF]
    pieces.append(_f32([s | (k << 16) | lo for s in (0, 0x80000000) for k in kept for lo in low]))
    # fp16: the midpoint of two neighbouring fp16 values (lower one even or
    # odd) is a float32; with its float32 neighbours. Subnormals, the step
    # into the normals, around 1, and the top (0x7BFF is the largest finite:
    # the midpoint above it, 65520, rounds to infinity).
    lower = np.array([0x0000, 0x0001, 0x0002, 0x0003, 0x0100, 0x03FE, 0x03FF, 0x0400, 0x0401,
                      0x07FF, 0x3BFF, 0x3C00, 0x3C01, 0x5BFF, 0x7BFE, 0x7BFF], dtype=np.uint16)
    low16 = lower.view(np.float16).astype(np.float64)
    step = np.where(lower < 0x0400, 2.0 ** -24,
                    2.0 ** (np.floor(np.log2(np.maximum(low16, 2.0 ** -14))) - 10))
    midpoints = (low16 + step / 2).astype(np.float32)  # exact: 12 significant bits at most
    pieces.append(_around(np.concatenate([midpoints, -midpoints])))
    # Ranges: fp16's largest, bf16's largest, float32's largest and smallest.
    pieces.append(_around(np.array([65504.0, 65519.0, 65536.0, 1e5, 3.3895314e38, 3.4028235e38,
                                    2.0 ** -14, 2.0 ** -24, 2.0 ** -25, 2.0 ** -26, 1e-40,
                                    2.0 ** -149, 2.0 ** -126], dtype=np.float32)))
    # The lesson's numbers.
    pieces.append(np.array([0.1, 1 / 3, 1000.1, 3e38, 1e-6, 6e-8, 1e-8, 1e-8 * 65536, 1e-3, 1e-4,
                            -0.1, -1 / 3], dtype=np.float32))
    # Random floats of every magnitude, either sign; then random bit patterns.
    generator = torch.Generator().manual_seed(17)
    exponents = torch.rand(160, generator=generator, dtype=torch.float64) * 15 - 9  # 1e-9 … 1e6
    signs = torch.randint(0, 2, (160,), generator=generator) * 2 - 1
    pieces.append((signs * 10.0 ** exponents).to(torch.float32).numpy())
    random_bits = torch.randint(0, 2 ** 32, (96,), generator=generator, dtype=torch.int64)
    pieces.append(_f32(random_bits.numpy().astype(np.uint32)))
    return np.concatenate([p.astype(np.float32) for p in pieces])


def _canonical_nans(bits, x, quiet):
    """The results with every NaN input's result replaced by `quiet` with x's sign."""
    bits = bits.copy()
    nan = np.isnan(x)
    negative = (_bits(x) >> 31).astype(bool)
    bits[nan] = np.where(negative[nan], quiet | 0x8000, quiet)
    return bits


def cases():
    x = _inputs()                                                       # (N,)
    t = torch.from_numpy(x)
    bf16 = t.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16).astype(np.int32)
    fp16 = t.to(torch.float16).view(torch.int16).numpy().view(np.uint16).astype(np.int32)
    bf16 = _canonical_nans(bf16, x, 0x7FC0)
    fp16 = _canonical_nans(fp16, x, 0x7E00)
    # A second implementation of each, for every input but the NaNs.
    finite = ~np.isnan(x)
    with np.errstate(over="ignore"):
        numpy_fp16 = x.astype(np.float16).view(np.uint16).astype(np.int32)
    numpy_bf16 = safetensors_io.bfloat16_bits(x).astype(np.int32)
    if not np.array_equal(fp16[finite], numpy_fp16[finite]):
        raise ValueError("torch and numpy disagree on float32 -> float16")
    if not np.array_equal(bf16[finite], numpy_bf16[finite]):
        raise ValueError("torch and the bit recipe disagree on float32 -> bfloat16")
    tensors = {
        "in.x": x,                                                      # (N,)
        "out.bf16_bits": bf16,                                          # (N,)
        "out.fp16_bits": fp16,                                          # (N,)
    }
    return {"conversions": (tensors, with_precision({"N": len(x)}))}
