#!/usr/bin/python3
"""The bytes of the tensors one layer's forward pass writes on the fast engine.

Per layer (FastOps, chapter 10): ln1 and ln2 with their means and rstds, the
fused projection qkv (B, T, 3C), the attention weights (B, H, T, T), the heads'
merged output, the attention branch, residual1, the MLP's hidden layer before
and after GELU (B, T, F) each, its output and residual2. (Chapter 06's
BlockActivations also carve q, k, v, y and two dropout masks, which the fast
forward pass in Mode::Eval never touches.)

  python3 forward_bytes.py
"""


def layer_floats(B, T, C, H, F):
    N = B * T
    return 10 * N * C + 4 * N + B * H * T * T + 2 * N * F


for name, (B, T, C, H, F, L) in {"small": (12, 64, 128, 4, 512, 4),
                                 "seed": (32, 64, 256, 8, 1024, 6)}.items():
    one = layer_floats(B, T, C, H, F) * 4
    print(f"{name}: C = {C}, L = {L}, H = {H}, F = {F}, B = {B}, T = {T}: "
          f"one layer {one / 1e6:.2f} MB, all {L} layers {L * one / 1e6:.1f} MB")
