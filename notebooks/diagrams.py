"""Draws the course's explanatory diagrams into notebooks/figures/diagram_*.png.

Unlike the notebooks, nothing here runs the course's programs: these are
pictures of an idea, drawn from a few lines of numpy and, where a figure shows
tile sizes, the constants read from the CUDA sources themselves (so a changed
tile size changes the figure, and a renamed constant fails the run loudly).

    /usr/bin/python3 notebooks/diagrams.py                        # every diagram
    /usr/bin/python3 notebooks/diagrams.py gelu_layernorm         # only the ones named
    /usr/bin/python3 notebooks/diagrams.py --list                 # their names

A name may be given with or without the diagram_ prefix and the .png suffix.

    diagram_causal_averaging.png        03  causal average, masked scores, their softmax
    diagram_gelu_layernorm.png          05  GELU (erf, tanh), ReLU; LayerNorm of one row
    diagram_transformer_block.png       06  the pre-LN block as tensors and their shapes
    diagram_matmul_tiling.png           12  SGEMM: block, shared-memory, warp, lane tiles
    diagram_flash_attention_tiling.png  13  fused attention's tiles; online softmax's m, l

Deterministic: fixed seeds, a fixed figure size (900 px wide at 120 dpi) and
no Software/date metadata, so rerunning on the same matplotlib rewrites the
same bytes. Needs only Debian's python3-matplotlib and python3-numpy.
"""
import math
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import (ConnectionPatch, FancyArrowPatch, FancyBboxPatch,  # noqa: E402
                                Polygon, Rectangle)

REPO = Path(__file__).resolve().parent.parent
FIGURES = REPO / "notebooks" / "figures"
DPI = 120
WIDTH = 7.5  # inches: 900 px at DPI, the width of a GitHub README column

plt.rcParams.update({
    "font.family": "DejaVu Sans",
    "font.size": 9.5,
    "axes.titlesize": 10,
    "axes.labelsize": 9.5,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

# A small palette, used the same way in every figure.
BLUE, LIGHT_BLUE, PALE_BLUE = "#2f6db5", "#9cc3ea", "#e3eefa"
ORANGE, LIGHT_ORANGE = "#e07b1f", "#f8d2a8"
GREEN, LIGHT_GREEN = "#3a8f4f", "#cfe8d4"
GREY, LIGHT_GREY, PALE_GREY = "#666666", "#c8c8c8", "#efefef"
INK = "#222222"


def save(fig, name):
    path = FIGURES / f"{name}.png"
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    print(f"wrote {path.relative_to(REPO)}")


# ---------------------------------------------------------------------------
# Constants read from the CUDA sources.

def int_constants(relative_path):
    """Every `constexpr int NAME = <integer literal>` of a source file, as {NAME: value}."""
    text = (REPO / relative_path).read_text()
    found = {}
    for declaration in re.findall(r"constexpr\s+int\s+([^;]+);", text):
        for part in declaration.split(","):
            match = re.fullmatch(r"\s*(\w+)\s*=\s*(\d+)\s*", part)
            if match:
                found[match.group(1)] = int(match.group(2))
    return found


def need(constants, names, where):
    missing = [n for n in names if n not in constants]
    if missing:
        raise SystemExit(f"diagrams.py: {where} no longer defines {', '.join(missing)} as an "
                         "integer constant; update notebooks/diagrams.py")
    return [constants[n] for n in names]


def matmul_tiles():
    """Chapter 12's tile sizes: version 3's shared tile, version 5's, version 7's warp tiling,
    and whether version 8's default shape is version 7's."""
    ch = "chapters/12_cuda_matmul/"
    (tile,) = need(int_constants(ch + "matmul_3_shared.cu"), ["kTile"], ch + "matmul_3_shared.cu")
    v5 = dict(zip(["BM", "BN", "BK", "TM", "TN"],
                  need(int_constants(ch + "matmul_5_register_2d.cu"),
                       ["kBM", "kBN", "kBK", "kTM", "kTN"], ch + "matmul_5_register_2d.cu")))
    names = ["BM", "BN", "BK", "WM", "WN", "WMITER", "WNITER", "TM", "TN"]
    v7 = dict(zip(names, need(int_constants(ch + "matmul_7_warptile.cu"), names,
                              ch + "matmul_7_warptile.cu")))
    v7["WSUBM"], v7["WSUBN"] = v7["WM"] // v7["WMITER"], v7["WN"] // v7["WNITER"]
    # Version 8: `using Default = ShapeN;` and
    # `using ShapeN = TileShape<BM, BN, BK, WM, WN, WNITER, ...>;`.
    v8_text = (REPO / ch / "matmul_8_double_buffer.cu").read_text()
    default_is_v7 = False
    match = re.search(r"using\s+Default\s*=\s*(\w+)\s*;", v8_text)
    if match:
        shape = re.search(r"using\s+" + match.group(1) + r"\s*=\s*TileShape<([^>]*)>", v8_text)
        if shape:
            args = [int(a) for a in re.findall(r"\d+", shape.group(1))[:6]]
            default_is_v7 = args == [v7[n] for n in ["BM", "BN", "BK", "WM", "WN", "WNITER"]]
    return tile, v5, v7, default_is_v7


def flash_tiles():
    path = "chapters/13_cuda_attention/flash_common.h"
    return need(int_constants(path), ["kQueries", "kKeys"], path)


# ---------------------------------------------------------------------------
# Chapter 03: a causal average, masked scores, their softmax.

def causal_averaging():
    T = 6
    t = np.arange(T)
    past = t[None, :] <= t[:, None]                      # [query t, key s]: s <= t
    average = np.where(past, 1.0 / (t[:, None] + 1), 0.0)
    rng = np.random.default_rng(3)
    scores = np.round(rng.normal(0.0, 1.2, (T, T)), 1)
    masked = np.where(past, scores, -np.inf)
    e = np.exp(masked - masked.max(axis=1, keepdims=True))
    weights = e / e.sum(axis=1, keepdims=True)

    fig, axes = plt.subplots(1, 3, figsize=(WIDTH, 3.45))
    fig.subplots_adjust(left=0.075, right=0.955, top=0.68, bottom=0.115, wspace=0.32)

    def grid(ax, values, cmap, vmin, vmax, labels, title):
        shown = np.where(past, values, np.nan)
        colormap = plt.get_cmap(cmap).copy()
        colormap.set_bad(PALE_GREY)
        ax.imshow(shown, cmap=colormap, vmin=vmin, vmax=vmax)
        for q in range(T):
            for k in range(T):
                text, colour = labels(q, k)
                ax.text(k, q, text, ha="center", va="center", fontsize=8, color=colour)
        ax.set_xticks(t)
        ax.set_yticks(t)
        ax.xaxis.tick_top()
        ax.xaxis.set_label_position("top")
        ax.set_xlabel("key s →", labelpad=2, fontsize=8.5)
        ax.set_ylabel("query t →")
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xticks(np.arange(T + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(T + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="white", linewidth=1.5)
        ax.tick_params(which="minor", length=0)
        ax.set_title(title, pad=22, fontsize=9.5)

    def fraction(q, k):
        if k > q:
            return "0", GREY
        return ("1" if q == 0 else f"1/{q + 1}"), ("white" if q < 2 else INK)

    def score(q, k):
        if k > q:
            return "−∞", GREY
        return (f"{scores[q, k]:.1f}".replace("-", "−"),
                "white" if abs(scores[q, k]) > 1.8 else INK)

    def weight(q, k):
        if k > q:
            return "0", GREY
        return f"{weights[q, k]:.2f}", ("white" if weights[q, k] > 0.55 else INK)

    grid(axes[0], average, "Blues", 0.0, 1.0, fraction,
         "(a) the plain average of the past\nrow t: 1/(t+1) on keys 0..t")
    grid(axes[1], scores, "RdBu_r", -3.0, 3.0, score,
         "(b) scores q·k, future masked\nkey s > t gets −∞")
    grid(axes[2], weights, "Blues", 0.0, 1.0, weight,
         "(c) softmax of each row of (b)\nweights of a weighted average")
    for q in range(T):
        axes[2].text(T - 0.35, q, "Σ = 1", ha="left", va="center", fontsize=7.5, color=GREY)
    fig.suptitle(f"Causal attention: row t is a weighted average of tokens 0..t (T = {T})",
                 fontsize=11, y=0.975)
    fig.text(0.5, 0.025, "(a) is what (c) becomes when every score in a row is equal: "
             "the softmax of a constant row is uniform over the past.",
             ha="center", fontsize=8.5, color=GREY)
    save(fig, "diagram_causal_averaging")


# ---------------------------------------------------------------------------
# Chapter 05: GELU, and LayerNorm of one row.

def gelu_layernorm():
    x = np.linspace(-4.0, 4.0, 801)
    erf = np.vectorize(math.erf)
    gelu_erf = x * 0.5 * (1.0 + erf(x / math.sqrt(2.0)))
    gelu_tanh = x * 0.5 * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    relu = np.maximum(x, 0.0)

    fig = plt.figure(figsize=(WIDTH, 4.3))
    outer = fig.add_gridspec(1, 2, left=0.095, right=0.985, top=0.86, bottom=0.11,
                             wspace=0.28, width_ratios=[1.0, 1.05])
    left = outer[0].subgridspec(2, 1, height_ratios=[2.6, 1.0], hspace=0.12)
    right = outer[1].subgridspec(2, 1, hspace=0.55)

    ax = fig.add_subplot(left[0])
    ax.plot(x, relu, color=LIGHT_GREY, linewidth=2.2, label="ReLU = max(x, 0)")
    ax.plot(x, gelu_erf, color=BLUE, linewidth=2.0, label="GELU, erf form (exact)")
    ax.plot(x, gelu_tanh, color=ORANGE, linewidth=1.4, linestyle=(0, (4, 3)),
            label="GELU, tanh form (GPT-2)")
    ax.axhline(0, color=LIGHT_GREY, linewidth=0.8, zorder=0)
    ax.axvline(0, color=LIGHT_GREY, linewidth=0.8, zorder=0)
    low = np.argmin(gelu_erf)
    minimum = f"min ≈ {gelu_erf[low]:.3f}\nat x ≈ {x[low]:.2f}".replace("-", "−")
    ax.annotate(minimum, (x[low], gelu_erf[low]),
                xytext=(-3.9, 1.1), fontsize=8, color=GREY,
                arrowprops=dict(arrowstyle="-", color=GREY, linewidth=0.8))
    ax.set_xlim(-4, 4)
    ax.set_ylim(-0.6, 4.1)
    ax.set_ylabel("activation")
    ax.legend(loc="upper left", frameon=False, handlelength=2.2)
    ax.tick_params(labelbottom=False)
    ax.set_title("GELU(x) = x·Φ(x) and its tanh approximation")

    diff = fig.add_subplot(left[1], sharex=ax)
    difference = gelu_erf - gelu_tanh
    largest = np.max(np.abs(difference))
    diff.plot(x, difference * 1e4, color=GREEN, linewidth=1.4)
    diff.axhline(0, color=LIGHT_GREY, linewidth=0.8, zorder=0)
    diff.set_ylabel("erf − tanh\n(× 10⁻⁴)")
    diff.set_xlabel("x")
    ax.text(3.9, -0.45,
            f"erf − tanh ≤ {largest:.1e}:\ntoo small to see here".replace("e-0", "e−0"),
            ha="right", va="bottom", fontsize=8, color=GREEN)

    # LayerNorm of one row: raw, then (x − mean) / sqrt(var + eps), before weight γ and bias β.
    C, eps = 16, 1e-5
    rng = np.random.default_rng(5)
    row = np.round(rng.normal(2.0, 1.6, C), 2)
    mean, var = row.mean(), row.var()
    normed = (row - mean) / math.sqrt(var + eps)
    channels = np.arange(C)
    colours = [BLUE if v >= mean else ORANGE for v in row]

    raw_ax = fig.add_subplot(right[0])
    raw_ax.bar(channels, row, color=colours, width=0.75)
    raw_ax.axhspan(mean - math.sqrt(var), mean + math.sqrt(var), color=PALE_BLUE, zorder=0)
    raw_ax.axhline(mean, color=INK, linewidth=1.0, linestyle="--")
    raw_ax.axhline(0, color=GREY, linewidth=0.8)
    raw_ax.set_title(f"LayerNorm of one row, C = {C}: the input x", fontsize=9.5)
    raw_ax.text(C - 0.4, mean, f" mean {mean:.2f}\n var {var:.2f}", fontsize=8, va="center",
                ha="left", color=INK)
    raw_ax.set_xlim(-0.7, C + 3.6)
    raw_ax.set_xticks([0, 5, 10, 15])

    norm_ax = fig.add_subplot(right[1])
    norm_ax.bar(channels, normed, color=colours, width=0.75)
    norm_ax.axhspan(-1, 1, color=PALE_BLUE, zorder=0)
    norm_ax.axhline(0, color=INK, linewidth=1.0, linestyle="--")
    norm_ax.set_title("normalised: (x − mean) / √(var + eps)", fontsize=9.5)
    norm_ax.text(C - 0.4, 0, f" mean {abs(normed.mean()):.2f}\n var {normed.var():.2f}",
                 fontsize=8, va="center", ha="left", color=INK)
    norm_ax.set_xlim(-0.7, C + 3.6)
    norm_ax.set_xticks([0, 5, 10, 15])
    norm_ax.set_xlabel("channel")
    norm_ax.set_ylim(-2.9, 2.6)
    norm_ax.text(-0.5, -2.45, "same shape, shifted and scaled; band: ±1 std;\n"
                 "then × weight γ + bias β, per channel",
                 fontsize=7.5, color=GREY)
    fig.suptitle("Chapter 05: the feed-forward's nonlinearity and the per-token normalisation",
                 fontsize=11, y=0.975)
    save(fig, "diagram_gelu_layernorm")


# ---------------------------------------------------------------------------
# Drawing helpers for the box-and-arrow figures.

def rect(ax, x, y, w, h, face, edge=INK, lw=0.8, **kw):
    patch = Rectangle((x, y), w, h, facecolor=face, edgecolor=edge, linewidth=lw, **kw)
    ax.add_patch(patch)
    return patch


def arrow(ax, start, end, colour=INK, lw=1.1, style="-|>", scale=11, **kw):
    patch = FancyArrowPatch(start, end, arrowstyle=style, color=colour, linewidth=lw,
                            mutation_scale=scale, shrinkA=0, shrinkB=0, **kw)
    ax.add_patch(patch)
    return patch


# ---------------------------------------------------------------------------
# Chapter 12: SGEMM tiling.

def inches(fig, x, y, w, h):
    """An axes placed in inches from the figure's lower-left corner."""
    fw, fh = fig.get_size_inches()
    return fig.add_axes([x / fw, y / fh, w / fw, h / fh])


def zoom_frame(ax, width, height, xticks, yticks):
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_xticks(xticks)
    ax.set_yticks(yticks)
    ax.tick_params(length=2, labelsize=7.5, top=True, labeltop=True, bottom=False,
                   labelbottom=False, pad=1.5)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(BLUE)
        spine.set_linewidth(1.4)


def matmul_tiling():
    tile, v5, v7, default_is_v7 = matmul_tiles()
    BM, BN, BK = v7["BM"], v7["BN"], v7["BK"]
    WM, WN, TM, TN = v7["WM"], v7["WN"], v7["TM"], v7["TN"]
    WMITER, WNITER, WSUBM, WSUBN = v7["WMITER"], v7["WNITER"], v7["WSUBM"], v7["WSUBN"]

    fig = plt.figure(figsize=(WIDTH, 5.0))
    # Overview, not to scale: C is 4×4 block tiles, K is 8 slices of BK.
    ov = inches(fig, 0.05, 0.5, 3.45, 3.95)
    ov.set_aspect("equal")
    ov.axis("off")
    tiles, kslices, u, ks = 4, 8, 1.0, 0.4
    K = kslices * ks
    gap = 0.5
    cx, cy = K + gap, 0.0                # C's lower-left corner
    bx, by = cx, tiles * u + gap         # B's
    bi, bj, kk = 1, 2, 3                 # the highlighted block tile (row, column) and K slice
    top = tiles * u
    strip = top - (bi + 1) * u           # the bottom of the block tile's row of A and C
    # A (M×K), its row strip for the block tile, and the current slice
    rect(ov, 0, 0, K, top, PALE_GREY)
    rect(ov, 0, strip, K, u, LIGHT_ORANGE)
    for s in range(1, kslices):
        ov.plot([s * ks] * 2, [strip, strip + u], color="white", linewidth=0.8)
    rect(ov, kk * ks, strip, ks, u, ORANGE, lw=1.2)
    # B (K×N), likewise
    rect(ov, bx, by, tiles * u, K, PALE_GREY)
    rect(ov, bx + bj * u, by, u, K, LIGHT_GREEN)
    for s in range(1, kslices):
        ov.plot([bx + bj * u, bx + (bj + 1) * u], [by + K - s * ks] * 2, color="white",
                linewidth=0.8)
    rect(ov, bx + bj * u, by + K - (kk + 1) * ks, u, ks, GREEN, lw=1.2)
    # C (M×N) and its grid of block tiles
    rect(ov, cx, cy, tiles * u, top, PALE_BLUE)
    for s in range(1, tiles):
        ov.plot([cx + s * u] * 2, [cy, cy + top], color=LIGHT_BLUE, linewidth=0.8)
        ov.plot([cx, cx + tiles * u], [cy + s * u] * 2, color=LIGHT_BLUE, linewidth=0.8)
    rect(ov, cx + bj * u, strip, u, u, BLUE, lw=1.2)
    ov.text(cx + (bj + 0.5) * u, strip + 0.5 * u, "block\ntile", ha="center", va="center",
            fontsize=7.5, color="white")
    ov.text(K / 2, -0.25, "A  (M × K)", ha="center", va="top")
    ov.text(bx + tiles * u / 2, by + K + 0.15, "B  (K × N)", ha="center", va="bottom")
    ov.text(cx + tiles * u / 2, -0.25, "C = A · B  (M × N)", ha="center", va="top")
    small = dict(fontsize=8, ha="center", va="center")
    ov.text(-0.3, strip + 0.5 * u, "BM", **small)
    ov.text((kk + 0.5) * ks, strip + u + 0.22, "BK", **small)
    ov.text(bx + (bj + 0.5) * u, by - 0.22, "BN", **small)
    ov.text(bx + bj * u - 0.3, by + K - (kk + 0.5) * ks, "BK", **small)
    arrow(ov, ((kk + 1) * ks + 0.08, strip + 0.5 * u), (K - 0.08, strip + 0.5 * u), lw=1.0)
    middle = bx + (bj + 0.5) * u
    arrow(ov, (middle, by + K - (kk + 1) * ks - 0.08), (middle, by + 0.08), lw=1.0)
    ov.text(K / 2, strip - 0.25, "As: BM×BK slice of A\nin shared memory,\nslides along K:\n"
            "k0 = 0, BK, 2·BK, …", ha="center", va="top", fontsize=7.5, color=ORANGE)
    ov.text(K / 2, by + K / 2, "Bs: BK×BN slice of B\nin shared memory,\nslides down K",
            ha="center", va="center", fontsize=7.5, color=GREEN)
    ov.set_xlim(-0.6, cx + tiles * u + 0.05)
    ov.set_ylim(-0.75, by + K + 0.55)

    # Zoom 1: the block tile, to scale, split among its warps.
    bt = inches(fig, 3.85, 1.85, 1.55, 1.55)
    zoom_frame(bt, BN, BM, [], [])
    rect(bt, 0, 0, BN, BM, PALE_BLUE, lw=0)
    warps_n = BN // WN
    warps = (BM // WM) * warps_n
    chosen = warps_n - 1                 # the top-right warp: the zoom lines cross nothing
    for w in range(warps):
        r, c = w // warps_n, w % warps_n
        rect(bt, c * WN, r * WM, WN, WM, LIGHT_BLUE if w == chosen else "none", edge=BLUE,
             lw=0.9)
        bt.text(c * WN + WN / 2, r * WM + WM / 2, f"warp\n{w}", ha="center", va="center",
                fontsize=7, color=INK if w == chosen else BLUE)
    bt.set_title(f"a block tile, BM×BN = {BM}×{BN}:\n{warps} warps of WM×WN = {WM}×{WN}",
                 fontsize=8, pad=6)
    for a, b in [((cx + (bj + 1) * u, strip + u), (0, 0)), ((cx + (bj + 1) * u, strip), (0, BM))]:
        fig.add_artist(ConnectionPatch(a, b, "data", "data", axesA=ov, axesB=bt, color=BLUE,
                                       linewidth=0.7, linestyle=":"))

    # Zoom 2: one warp's tile, to scale, split among its 32 lanes.
    wt = inches(fig, 5.85, 0.5, 3.0 * WN / WM, 3.0)
    zoom_frame(wt, WN, WM, [0, WSUBN, WN], [0, WSUBM, WM])
    rect(wt, 0, 0, WN, WM, LIGHT_BLUE, lw=0)
    lanes_n = WSUBN // TN
    lane = 9
    lm0, ln0 = lane // lanes_n * TM, lane % lanes_n * TN   # as in the kernel
    for sm in range(WMITER):
        for sn in range(WNITER):
            for r in range(WSUBM // TM):
                for c in range(lanes_n):
                    y0, x0 = sm * WSUBM + r * TM, sn * WSUBN + c * TN
                    mine = (r * TM, c * TN) == (lm0, ln0)
                    rect(wt, x0, y0, TN, TM, ORANGE if mine else "none", edge="white", lw=0.6)
                    wt.text(x0 + TN / 2, y0 + TM / 2, str(r * lanes_n + c), ha="center",
                            va="center", fontsize=5.5, color="white" if mine else BLUE)
            rect(wt, sn * WSUBN, sm * WSUBM, WSUBN, WSUBM, "none", edge=BLUE, lw=1.2)
    wt.set_title(f"a warp's {WM}×{WN}: {WMITER}×{WNITER}\nsub-blocks of {WSUBM}×{WSUBN},\n"
                 f"each {WSUBM // TM}×{lanes_n} lanes of {TM}×{TN}", fontsize=8, pad=12)
    for a, b in [((BN, 0), (0, 0)), ((BN, WM), (0, WM))]:
        fig.add_artist(ConnectionPatch(a, b, "data", "data", axesA=bt, axesB=wt, color=BLUE,
                                       linewidth=0.7, linestyle=":"))
    fig.text(3.85 / WIDTH, 1.45 / 5.0,
             f"Lane {lane} (orange) keeps\n{WMITER}×{WNITER} blocks of TM×TN = {TM}×{TN}\n"
             f"results in registers. Per k it\nreads {WMITER} float4 of As, {WNITER} of Bs,\n"
             f"and does {WMITER * WNITER * TM * TN} multiply-adds.",
             fontsize=7.8, color=INK, va="top")

    also = " (and version 8's default)" if default_is_v7 else ""
    fig.suptitle(f"Chapter 12: how version 7{also} tiles C = A · B\n"
                 f"BM = BN = {BM}, BK = {BK};  a warp WM×WN = {WM}×{WN};  "
                 f"a lane {WMITER}×{WNITER} blocks of TM×TN = {TM}×{TN}", fontsize=10, y=0.985)
    fig.text(0.01, 0.012,
             "Overview not to scale; the zooms are. Per K slice: copy As and Bs to shared memory, "
             "barrier,\nBK steps of multiply-adds from registers, barrier. "
             f"Version 3: {tile}×{tile} tiles; version 5: BM = BN = {v5['BM']}, BK = {v5['BK']}, "
             f"TM×TN = {v5['TM']}×{v5['TN']}.", fontsize=7.8, color=GREY)
    save(fig, "diagram_matmul_tiling")


# ---------------------------------------------------------------------------
# Chapter 13: flash attention's tiles and the online softmax.

def above_diagonal(x0, y0, x1, y1):
    """The part of the rectangle [x0, x1] × [y0, y1] where x > y (key s > query t): a polygon,
    or None if the rectangle lies on or below the diagonal."""
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    kept = []
    for i, (ax_, ay) in enumerate(corners):
        bx_, by_ = corners[(i + 1) % 4]
        a_in, b_in = ax_ > ay, bx_ > by_
        if a_in:
            kept.append((ax_, ay))
        if a_in != b_in:                  # the edge crosses x = y
            f = (ay - ax_) / ((bx_ - ax_) - (by_ - ay))
            kept.append((ax_ + f * (bx_ - ax_), ay + f * (by_ - ay)))
    return kept if len(kept) >= 3 else None


def flash_attention_tiling():
    Q, KT = flash_tiles()                 # queries per thread block, keys per shared-memory tile
    T = 4 * Q
    blocks, key_tiles = T // Q, T // KT
    chosen = 2                            # the highlighted query block
    fig = plt.figure(figsize=(WIDTH, 5.0))
    ax = inches(fig, 0.75, 0.8, 3.2, 3.2)
    ax.set_xlim(0, T)
    ax.set_ylim(T, 0)
    ax.set_aspect("equal")
    ax.add_patch(Polygon([(0, 0), (T, 0), (T, T)], closed=True, facecolor=PALE_GREY,
                         edgecolor="none", zorder=1))
    for b in range(blocks):
        visited = -(-min(T, (b + 1) * Q) // KT)   # the block's last query sees keys < (b+1)·Q
        for j in range(visited):
            face = LIGHT_BLUE if b == chosen else PALE_BLUE
            rect(ax, j * KT, b * Q, KT, Q, face, edge="white", lw=0.8, zorder=2)
            masked = above_diagonal(j * KT, b * Q, (j + 1) * KT, (b + 1) * Q)
            if masked:
                ax.add_patch(Polygon(masked, closed=True, facecolor="none", edgecolor=GREY,
                                     linewidth=0, hatch="////", zorder=3))
    ax.plot([0, T], [0, T], color=INK, linewidth=0.9, zorder=4)
    for b in range(1, blocks):
        ax.axhline(b * Q, color=GREY, linewidth=0.6, zorder=4)
    for j in range(1, key_tiles):
        ax.axvline(j * KT, color=GREY, linewidth=0.4, linestyle=":", zorder=4)
    r0 = chosen * Q
    visited = -(-min(T, (chosen + 1) * Q) // KT)
    rect(ax, 0, r0, T, Q, "none", edge=BLUE, lw=1.8, zorder=5)
    for j in range(visited):
        ax.text(j * KT + KT * 0.4, r0 + Q * 0.84, str(j + 1), ha="center", va="center",
                fontsize=9, color=INK, fontweight="bold", zorder=6)
    arrow(ax, (4, r0 + Q * 0.3), (visited * KT - 4, r0 + Q * 0.3), colour=BLUE, lw=1.4, zorder=6)
    label = dict(ha="center", va="center", fontsize=8.5, color=INK, zorder=6,
                 bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none"))
    ax.text((visited + (key_tiles - visited) / 2) * KT, r0 + Q / 2, "skipped", **label)
    ax.text(T * 0.72, T * 0.14, "future: s > t,\nnever computed", **label)
    ax.set_xticks(np.arange(0, T + 1, 2 * KT))
    ax.set_yticks(np.arange(0, T + 1, Q))
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(f"key s, in tiles of kKeys = {KT} (shared memory)", labelpad=4)
    ax.set_ylabel(f"query t, in blocks of kQueries = {Q}\n(a thread block, one query a thread)")
    ax.tick_params(length=2)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(GREY)
    first_masked = (chosen * Q) // KT + 1
    ax.text(-T * 0.2, T + 12,
            f"T = {T} shown. Query block {chosen} loads key tiles 1–{visited}, left to right; "
            f"tiles\n{first_masked}–{visited} straddle the diagonal, so keys s > t are masked to "
            f"−∞ inside\nthem (hatched); tiles {visited + 1}–{key_tiles} lie wholly in the "
            "future and are skipped.",
            ha="left", va="top", fontsize=7.8, color=INK)

    # One query of the chosen block: m and ℓ after each tile.
    t = r0 + Q - 20
    rng = np.random.default_rng(7)
    s = rng.normal(0.0, 0.7, t + 1)
    s[KT + 7] += 1.2                      # a key that stands out a little, in tile 2
    s[3 * KT + 5] = s.max() + 2.5         # and one that matters a lot, in tile 4
    m, l = -np.inf, 0.0
    ms, ls = [], []
    for k0 in range(0, t + 1, KT):
        tile_scores = s[k0:min(k0 + KT, t + 1)]
        m_new = max(m, tile_scores.max())
        l = l * math.exp(m - m_new) + np.exp(tile_scores - m_new).sum()
        m = m_new
        ms.append(m)
        ls.append(l)
    steps = np.arange(1, len(ms) + 1)
    m_ax = inches(fig, 4.85, 3.0, 2.5, 1.05)
    l_ax = inches(fig, 4.85, 1.7, 2.5, 1.05)
    m_ax.sharex(l_ax)
    m_ax.step(steps, ms, where="mid", color=BLUE, linewidth=1.2)
    m_ax.plot(steps, ms, "o", color=BLUE, markersize=4.5)
    m_ax.axhline(s.max(), color=GREY, linewidth=0.8, linestyle="--")
    m_ax.set_ylabel("running max m")
    m_ax.tick_params(labelbottom=False)
    m_ax.set_title(f"one query of block {chosen}, t = {t}, tile by tile", fontsize=9.5)
    m_ax.set_ylim(min(ms) - 0.8, s.max() + 1.2)
    m_ax.text(0.75, s.max() + 0.15, "max of the whole row", fontsize=7.5, color=GREY,
              va="bottom")
    l_ax.plot(steps, ls, "o-", color=ORANGE, markersize=4.5, linewidth=1.2)
    row_sum = np.exp(s - s.max()).sum()
    l_ax.axhline(row_sum, color=GREY, linewidth=0.8, linestyle="--")
    l_ax.set_ylabel("running sum ℓ")
    l_ax.set_xlabel("key tile visited", labelpad=2)
    l_ax.set_xticks(steps)
    l_ax.set_xlim(0.6, len(steps) + 0.4)
    l_ax.set_ylim(0, max(ls) * 1.15)
    l_ax.text(0.75, row_sum - max(ls) * 0.03, "Σ exp(s − max) of the whole row",
              fontsize=7.5, color=GREY, va="top", ha="left")
    jump = int(np.argmax(np.diff(ms))) + 1  # the tile where m grew the most
    l_ax.annotate("m grew: the old ℓ\nis rescaled by\nexp(m − m_new)", (steps[jump], ls[jump]),
                  xytext=(steps[jump] + 0.2, max(ls) * 0.55), fontsize=7.5, color=INK,
                  arrowprops=dict(arrowstyle="-|>", color=GREY, linewidth=0.8))
    fig.text(4.3 / WIDTH, 0.06 / 5.0,
             "Per tile of keys, with this query's scores s:\n"
             "   m_new = max(m, max s)\n"
             "   ℓ ← ℓ·exp(m − m_new) + Σ exp(s − m_new)\n"
             "   o ← o·exp(m − m_new) + Σ exp(s − m_new)·v\n"
             "At the end out = o / ℓ, lse = m + log ℓ. The T×T\n"
             "matrix is never stored: a tile's scores live in\n"
             "registers, and only m, ℓ and o carry over.",
             fontsize=7.6, color=INK, va="bottom", linespacing=1.3)
    fig.suptitle("Chapter 13: fused causal attention walks the score matrix tile by tile",
                 fontsize=11, y=0.985)
    save(fig, "diagram_flash_attention_tiling")


# ---------------------------------------------------------------------------
# Chapter 06: the pre-LN block as a flow of tensors.

def transformer_block():
    fig = plt.figure(figsize=(WIDTH, 6.0))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.axis("off")
    plus_y, plus_r, top_y = 15.0, 1.9, 93.0

    def box(cx, cy, text, face, w=34, h=5.6):
        ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                    boxstyle="round,pad=0.4,rounding_size=1.2", facecolor=face,
                                    edgecolor=INK, linewidth=0.8, zorder=2))
        ax.text(cx, cy, text, ha="center", va="center", fontsize=8.5, color=INK, zorder=3)
        return cy - h / 2 - 0.4, cy + h / 2 + 0.4  # bottom, top (with the pad)

    def down(cx, y0, y1, shape=None, side_note=None, label_y=None):
        arrow(ax, (cx, y0), (cx, y1))
        if shape:
            ax.text(cx + 1.2, (y0 + y1) / 2 if label_y is None else label_y, shape, ha="left",
                    va="center", fontsize=8, color=BLUE, family="DejaVu Sans Mono")
        if side_note:
            ax.text(cx - 1.2, (y0 + y1) / 2, side_note, ha="right", va="center", fontsize=7.5,
                    color=GREY)

    def plus(cx, cy):
        ax.add_patch(matplotlib.patches.Circle((cx, cy), plus_r, facecolor="white",
                                               edgecolor=INK, linewidth=1.0, zorder=3))
        d = plus_r * 0.6
        ax.plot([cx - d, cx + d], [cy, cy], color=INK, linewidth=1.1, zorder=4)
        ax.plot([cx, cx], [cy - d * 1.3, cy + d * 1.3], color=INK, linewidth=1.1, zorder=4)

    def half(cx, stream_x, top_text, steps, group_label, colour):
        """One residual half: fork, LayerNorm, the sub-layer's steps, ⊕."""
        ax.text(cx, top_y, top_text, ha="center", va="center", fontsize=9, color=INK,
                fontweight="bold")
        fork = top_y - 2.8
        ax.plot([cx, cx], [top_y - 1.2, fork], color=INK, linewidth=1.1)
        ax.plot([cx], [fork], "o", color=INK, markersize=3.5)
        # the stream itself bypasses the sub-layer, then adds its output
        ax.plot([cx, stream_x, stream_x], [fork, fork, plus_y], color=INK, linewidth=1.6)
        side = 1 if stream_x > cx else -1
        ax.text(stream_x + side * 1.3, (fork + plus_y) / 2, "the residual stream, unchanged",
                rotation=90, ha="center", va="center", fontsize=7.5, color=GREY)
        arrow(ax, (stream_x, plus_y), (cx + side * plus_r, plus_y), lw=1.6)
        bottom, spacing = fork, (84.0 - 31.0) / (len(steps) - 1)
        for i, (text, face, shape, note) in enumerate(steps):
            b, t_ = box(cx, 84.0 - i * spacing, text, face)
            if i == 1:
                frame_top = t_ + 0.8
            down(cx, bottom, t_, shape, note, (bottom + frame_top) / 2 if i == 1 else None)
            bottom = b
        plus(cx, plus_y)
        frame_bottom = bottom - 4.2
        down(cx, bottom, plus_y + plus_r, "(B, T, C)",
             label_y=(frame_bottom + plus_y + plus_r) / 2)
        ax.add_patch(FancyBboxPatch((cx - 19.5, frame_bottom), 39, frame_top - frame_bottom,
                                    boxstyle="round,pad=0,rounding_size=1.5", facecolor="none",
                                    edgecolor=colour, linewidth=1.0, linestyle=(0, (4, 2))))
        ax.text(cx - 18.7, frame_bottom + 0.8, group_label, ha="left", va="bottom", fontsize=8,
                color=colour, fontweight="bold")

    left_x, right_x = 25.0, 75.0
    half(left_x, 4.0, "x  (B, T, C)", [
        ("ln1 = LayerNorm(x)", PALE_GREY, "(B, T, C)", None),
        ("qkv = linear(ln1, qkv_weight)", PALE_BLUE, "(B, T, C)", None),
        ("split_heads → q, k, v", PALE_BLUE, "(B, T, 3C)", None),
        ("y = softmax(q·kᵀ/√hs, causal) · v", PALE_BLUE, "(B, H, T, hs) each", None),
        ("merged = merge_heads(y)", PALE_BLUE, "(B, H, T, hs)", "weights\n(B, H, T, T)"),
        ("attn_out = linear(merged,\nproj_weight)", PALE_BLUE, "(B, T, C)", None),
    ], "attention (ch. 03–04)", BLUE)
    half(right_x, 96.0, "residual1  (B, T, C)", [
        ("ln2 = LayerNorm(residual1)", PALE_GREY, "(B, T, C)", None),
        ("mlp_hidden = linear(ln2, fc_weight)", LIGHT_GREEN, "(B, T, C)", None),
        ("mlp_activated = GELU(mlp_hidden)", LIGHT_GREEN, "(B, T, F)", None),
        ("mlp_out = linear(mlp_activated,\nproj_weight)", LIGHT_GREEN, "(B, T, F)", None),
    ], "feed-forward (ch. 05)", GREEN)
    # residual1 = x + attn_out carries over from the left ⊕ to the right half's top
    ax.text(left_x + plus_r + 1.0, plus_y - 0.6, "residual1 = x + attn_out", ha="left", va="top",
            fontsize=8)
    turn = plus_y - 6.0
    ax.plot([left_x, left_x, 50.0, 50.0], [plus_y - plus_r, turn, turn, top_y], color=INK,
            linewidth=1.1)
    arrow(ax, (50.0, top_y), (64.0, top_y))
    arrow(ax, (right_x, plus_y - plus_r), (right_x, turn + 0.6))
    ax.text(right_x, turn, "out = residual2  (B, T, C)", ha="center", va="top", fontsize=9,
            fontweight="bold")
    fig.text(0.5, 0.008, "Pre-LN (GPT-2): each sub-layer reads a normalised copy; the stream "
             "itself is only added to. hs = C/H; F = ff_dim.\nIn training, dropout is applied "
             "to each branch just before its ⊕ (ops.dropout_residual).",
             ha="center", va="bottom", fontsize=8, color=GREY)
    fig.text(0.5, 0.985, "Chapter 06: a pre-LN transformer block, tensor by tensor",
             ha="center", va="top", fontsize=11)
    save(fig, "diagram_transformer_block")


DIAGRAMS = {
    "causal_averaging": causal_averaging,
    "gelu_layernorm": gelu_layernorm,
    "transformer_block": transformer_block,
    "matmul_tiling": matmul_tiling,
    "flash_attention_tiling": flash_attention_tiling,
}


def main(argv):
    if argv[:1] == ["--list"]:
        for name in DIAGRAMS:
            print(f"diagram_{name}")
        return 0
    names = []
    for arg in argv:
        name = Path(arg).name
        name = name[:-4] if name.endswith(".png") else name
        name = name[len("diagram_"):] if name.startswith("diagram_") else name
        if name not in DIAGRAMS:
            print(f"diagrams.py: no diagram named {arg!r}; try --list", file=sys.stderr)
            return 2
        names.append(name)
    FIGURES.mkdir(parents=True, exist_ok=True)
    for name in names or DIAGRAMS:
        DIAGRAMS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
