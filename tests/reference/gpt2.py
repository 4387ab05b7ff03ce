"""Chapter 16: GPT-2 as its published weights describe it, in PyTorch.

The course's GPT (gpt.py) with GPT-2's choices is GPT-2 already: pre-LN
blocks, learned positions, the tanh GELU ("gelu_new"), the output layer tied
to the token embedding, LayerNorm eps 1e-5. What differs is how the published
files store it. This module is written independently of gpt.py, in Hugging
Face's names and layout, so that comparing the two (chapters/16_gpt2/
gpt2_reference_test.py) checks the map between them rather than assuming it:

  Hugging Face (GPT2Model)        shape       the course (gpt.py)           shape
  wte.weight                      (V, C)      wte.weight                    (V, C)
  wpe.weight                      (P, C)      wpe.weight                    (P, C)
  h.{i}.ln_1.weight / .bias       (C)         blocks.{i}.ln1.weight / .bias (C)
  h.{i}.attn.c_attn.weight        (C, 3C)     blocks.{i}.attn.qkv.weight    (3C, C)  transposed
  h.{i}.attn.c_attn.bias          (3C)        blocks.{i}.attn.qkv.bias      (3C)
  h.{i}.attn.c_proj.weight        (C, C)      blocks.{i}.attn.proj.weight   (C, C)   transposed
  h.{i}.ln_2.weight / .bias       (C)         blocks.{i}.ln2.weight / .bias (C)
  h.{i}.mlp.c_fc.weight           (C, 4C)     blocks.{i}.mlp.fc.weight      (4C, C)  transposed
  h.{i}.mlp.c_proj.weight         (4C, C)     blocks.{i}.mlp.proj.weight    (C, 4C)  transposed
  ln_f.weight / .bias             (C)         ln_f.weight / .bias           (C)

GPT-2 was written in TensorFlow, where a dense layer's weight is (in, out) and
y = x @ W + b; Hugging Face kept that as `Conv1D` (a 1x1 convolution, which is
a matrix product). nn.Linear stores (out, in) and computes x @ W.T + b, hence
the transposes. c_attn's 3C outputs are [q | k | v], each C of them H heads
of C/H numbers side by side, exactly the course's qkv order.

Files in the wild vary: names may carry GPT2LMHeadModel's `transformer.`
prefix, older files hold the causal mask as a buffer `h.{i}.attn.bias`
(1, 1, P, P) (and `h.{i}.attn.masked_bias`), some repeat the tied output
layer as `lm_head.weight`, and the tensors may be F32, F16 or BF16. load()
accepts all of these; save() can write each of them.

B batch, T tokens, C embedding width, H heads, hs = C / H, V vocabulary,
P positions (context), L layers, S tokens already in the KV cache.
"""
import dataclasses
import json
import math
import os
import re

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from . import safetensors_io

# name: (n_layer, n_head, n_embd); every size has n_inner = 4 n_embd, hs = 64.
PRESETS = {
    "gpt2": (12, 12, 768),           # 124M parameters
    "gpt2-medium": (24, 16, 1024),   # 355M
    "gpt2-large": (36, 20, 1280),    # 774M
    "gpt2-xl": (48, 25, 1600),       # 1558M
}


@dataclasses.dataclass
class GPT2Config:
    n_layer: int
    n_head: int
    n_embd: int
    vocab_size: int = 50257
    n_positions: int = 1024
    layer_norm_epsilon: float = 1e-5

    @classmethod
    def preset(cls, name, **overrides):
        if name not in PRESETS:
            raise ValueError(f"no GPT-2 preset named {name!r} (the presets are"
                             f" {', '.join(PRESETS)})")
        n_layer, n_head, n_embd = PRESETS[name]
        return cls(n_layer, n_head, n_embd, **overrides)

    def check(self):
        if min(self.n_layer, self.n_head, self.n_embd, self.vocab_size, self.n_positions) < 1:
            raise ValueError(f"every size must be positive: {self}")
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"n_head ({self.n_head}) must divide n_embd ({self.n_embd})")
        return self

    def to_json(self):
        """config.json as Hugging Face writes it for GPT2LMHeadModel."""
        config = {
            "activation_function": "gelu_new",     # GELU's tanh approximation
            "architectures": ["GPT2LMHeadModel"],
            "attn_pdrop": 0.1,                     # dropouts: training only
            "embd_pdrop": 0.1,
            "initializer_range": 0.02,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "model_type": "gpt2",
            "n_ctx": self.n_positions,             # older configs' name for n_positions
            "n_embd": self.n_embd,
            "n_head": self.n_head,
            "n_inner": None,                       # None: 4 n_embd
            "n_layer": self.n_layer,
            "n_positions": self.n_positions,
            "reorder_and_upcast_attn": False,
            "resid_pdrop": 0.1,
            "scale_attn_by_inverse_layer_idx": False,
            "scale_attn_weights": True,            # scores / sqrt(hs)
            "tie_word_embeddings": True,           # logits = x @ wte.T
            "use_cache": True,
            "vocab_size": self.vocab_size,
        }
        if self.vocab_size > 50256:                # GPT-2's <|endoftext|>
            config.update(bos_token_id=50256, eos_token_id=50256)
        return config

    @classmethod
    def from_json(cls, config):
        """From a config.json's dict; ValueError for any setting this model does not compute."""
        def require(key, allowed):
            if key in config and config[key] not in allowed:
                raise ValueError(f"config.json: {key} = {config[key]!r}, this model computes"
                                 f" only {' or '.join(map(repr, allowed))}")
        require("model_type", ("gpt2",))
        require("activation_function", ("gelu_new", "gelu_pytorch_tanh"))
        require("tie_word_embeddings", (True,))
        require("scale_attn_weights", (True,))
        require("scale_attn_by_inverse_layer_idx", (False,))
        missing = [k for k in ("n_layer", "n_head", "n_embd") if k not in config]
        if missing:
            raise ValueError(f"config.json lacks {missing}")
        if config.get("n_inner") not in (None, 4 * config["n_embd"]):
            raise ValueError(f"config.json: n_inner = {config['n_inner']}, this model computes"
                             f" only 4 n_embd = {4 * config['n_embd']}")
        defaults = cls(1, 1, 1)
        return cls(n_layer=int(config["n_layer"]), n_head=int(config["n_head"]),
                   n_embd=int(config["n_embd"]),
                   vocab_size=int(config.get("vocab_size", defaults.vocab_size)),
                   n_positions=int(config.get("n_positions", config.get("n_ctx", 1024))),
                   layer_norm_epsilon=float(config.get("layer_norm_epsilon",
                                                       defaults.layer_norm_epsilon))).check()

    def metadata(self):
        return {k: str(v) for k, v in dataclasses.asdict(self).items()}


class Conv1D(nn.Module):
    """GPT-2's dense layer: weight (nx, nf) = (in, out), y = x @ W + b."""

    def __init__(self, nx, nf):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(nx, nf))   # (in, out)
        self.bias = nn.Parameter(torch.zeros(nf))         # (out)

    def forward(self, x):                                  # (..., nx)
        return x @ self.weight + self.bias                 # (..., nf)


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_head = config.n_head
        self.c_attn = Conv1D(config.n_embd, 3 * config.n_embd)   # x -> [q | k | v]
        self.c_proj = Conv1D(config.n_embd, config.n_embd)

    def forward(self, x, past=None):              # x (B, T, C); past (k, v) each (B, H, S, hs)
        B, T, C = x.shape
        H, hs = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)                             # 3 x (B, T, C)
        q, k, v = (t.view(B, T, H, hs).transpose(1, 2) for t in (q, k, v))   # (B, H, T, hs)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)                               # (B, H, S + T, hs)
            v = torch.cat((past[1], v), dim=2)
        S = k.shape[2] - T
        scores = q @ k.transpose(-2, -1) / math.sqrt(hs)                     # (B, H, T, S + T)
        # Query t sits at position S + t and sees the keys at positions 0 .. S + t.
        visible = torch.ones(T, S + T, dtype=torch.bool, device=x.device).tril(diagonal=S)
        scores = scores.masked_fill(~visible, float("-inf"))
        y = torch.softmax(scores, dim=-1) @ v                                # (B, H, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)                     # heads side by side
        return self.c_proj(y), (k, v)


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = Conv1D(config.n_embd, 4 * config.n_embd)
        self.c_proj = Conv1D(4 * config.n_embd, config.n_embd)

    def forward(self, x):                                                    # (B, T, C)
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))        # via (B, T, 4C)


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.attn = Attention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)
        self.mlp = MLP(config)

    def forward(self, x, past=None):                                         # (B, T, C)
        a, present = self.attn(self.ln_1(x), past)
        x = x + a
        return x + self.mlp(self.ln_2(x)), present


class GPT2(nn.Module):
    """GPT2Model's parameters (state_dict names exactly Hugging Face's), tied output layer."""

    def __init__(self, config):
        super().__init__()
        self.config = config.check()
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)     # (V, C)
        self.wpe = nn.Embedding(config.n_positions, config.n_embd)    # (P, C)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(config.n_embd, eps=config.layer_norm_epsilon)

    def init_random(self, seed, perturb=False):
        """GPT-2's initialisation, drawn in float32 from `seed`: weights N(0, 0.02), the
        residual projections (c_proj) N(0, 0.02 / sqrt(2 L)), biases 0, LayerNorms 1.

        perturb=True then moves every bias by N(0, 0.02) and every LayerNorm weight
        by N(0, 0.1), so that a test of a model so drawn exercises them.
        """
        generator = torch.Generator().manual_seed(seed)
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)

        def normal(p, std):
            draw = torch.empty(p.shape, dtype=torch.float32).normal_(0.0, std, generator=generator)
            return draw.to(p.dtype)

        with torch.no_grad():
            for name, p in self.named_parameters():
                is_norm = name.startswith("ln_f.") or ".ln_" in name
                if name.endswith("bias"):
                    p.copy_(normal(p, 0.02) if perturb else torch.zeros_like(p))
                elif is_norm:
                    p.copy_(1.0 + normal(p, 0.1) if perturb else torch.ones_like(p))
                elif name.endswith("c_proj.weight"):
                    p.copy_(normal(p, residual_std))
                else:
                    p.copy_(normal(p, 0.02))
        return self

    def forward(self, ids, past=None, start=None):
        """ids (B, T) -> (logits (B, T, V), present).

        past: None or, per layer, the (k, v) of the tokens before these, each
        (B, H, S, hs); present is the same with these T tokens appended. The
        tokens sit at positions start .. start + T - 1, start = S by default.
        """
        B, T = ids.shape
        S = 0 if past is None else past[0][0].shape[2]
        start = S if start is None else start
        if start + T > self.config.n_positions:
            raise ValueError(f"positions {start}..{start + T - 1} are past the context"
                             f" ({self.config.n_positions})")
        positions = torch.arange(start, start + T, device=ids.device)
        x = self.wte(ids) + self.wpe(positions)                # (B, T, C)
        present = []
        for i, block in enumerate(self.h):
            x, kv = block(x, None if past is None else past[i])
            present.append(kv)
        x = self.ln_f(x)
        return x @ self.wte.weight.T, present                  # (B, T, V), tied to wte

    def course_tensors(self):
        """The parameters under gpt.py's names and layouts (Linear weights (out, in))."""
        tensors = {}
        for name, p in self.state_dict().items():
            course = course_name(name)
            tensors[course] = p.T if course.endswith(_TRANSPOSED) else p
        return tensors


_TRANSPOSED = ("attn.qkv.weight", "attn.proj.weight", "mlp.fc.weight", "mlp.proj.weight")
_COURSE_NAMES = [(r"^h\.(\d+)\.", r"blocks.\1."), (r"\.ln_1\.", ".ln1."), (r"\.ln_2\.", ".ln2."),
                 (r"\.attn\.c_attn\.", ".attn.qkv."), (r"\.attn\.c_proj\.", ".attn.proj."),
                 (r"\.mlp\.c_fc\.", ".mlp.fc."), (r"\.mlp\.c_proj\.", ".mlp.proj.")]


def course_name(name):
    """Hugging Face's parameter name -> gpt.py's (h.3.attn.c_attn.* -> blocks.3.attn.qkv.*)."""
    for pattern, replacement in _COURSE_NAMES:
        name = re.sub(pattern, replacement, name)
    return name


@torch.inference_mode()
def generate(model, ids, max_new_tokens, greedy=True, generator=None):
    """Continues one sequence (batch 1) by max_new_tokens tokens; returns the new ids.

    The prompt goes through the model once; every new token after it runs
    alone, attending to the keys and values cached so far. greedy=False samples
    from the softmax (temperature 1) with `generator`.
    """
    if not ids:
        raise ValueError("generate needs at least one prompt token")
    if len(ids) + max_new_tokens > model.config.n_positions + 1:
        raise ValueError(f"{len(ids)} prompt + {max_new_tokens} new tokens do not fit in the"
                         f" context of {model.config.n_positions}")
    device = model.wte.weight.device
    logits, past = model(torch.tensor([ids], dtype=torch.int64, device=device))  # (1, T, V)
    new = []
    for step in range(max_new_tokens):
        last = logits[0, -1].float()                                           # (V)
        if greedy:
            token = int(last.argmax())
        else:
            token = int(torch.multinomial(torch.softmax(last, dim=-1), 1, generator=generator))
        new.append(token)
        if step + 1 < max_new_tokens:        # the last token needs no forward of its own
            logits, past = model(torch.tensor([[token]], device=device), past)    # (1, 1, V)
    return new


# ---- files: Hugging Face's model.safetensors + config.json ----

PREFIX = "transformer."          # GPT2LMHeadModel's name for its GPT2Model
_BUFFER = re.compile(r"^h\.\d+\.attn\.(bias|masked_bias)$")


def _config_for(file, config, metadata, shapes):
    """The configuration: given, config.json beside the file, the file's metadata, or the preset
    its shapes match (a file of weights stores no head count)."""
    if isinstance(config, GPT2Config):
        return config.check()
    if isinstance(config, dict):
        return GPT2Config.from_json(config)
    beside = os.path.join(os.path.dirname(os.path.abspath(file)), "config.json")
    if config is not None or os.path.exists(beside):
        with open(config or beside) as f:
            return GPT2Config.from_json(json.load(f))
    if all(k in metadata for k in ("n_layer", "n_head", "n_embd")):
        return GPT2Config.from_json({k: json.loads(v) for k, v in metadata.items()
                                     if k in {f.name for f in dataclasses.fields(GPT2Config)}})
    if "wte.weight" in shapes and "wpe.weight" in shapes:
        V, C = shapes["wte.weight"]
        L = len({n.split(".")[1] for n in shapes if n.startswith("h.")})
        for name, (n_layer, n_head, n_embd) in PRESETS.items():
            if (n_layer, n_embd) == (L, C):
                return GPT2Config(n_layer, n_head, n_embd, vocab_size=V,
                                  n_positions=shapes["wpe.weight"][0])
    raise ValueError(f"{file}: no config.json beside it, no configuration in its metadata,"
                     f" and its shapes match no GPT-2 preset: pass the configuration")


def _strip(tensors):
    """Names without the `transformer.` prefix; lm_head.weight (never prefixed) kept."""
    out = {}
    for name, array in tensors.items():
        short = name[len(PREFIX):] if name.startswith(PREFIX) else name
        if short in out:
            raise ValueError(f"{short} appears both with and without the {PREFIX!r} prefix")
        out[short] = array
    return out


def load_state(tensors, config, dtype=torch.float32):
    """A GPT2 from {name: float array} in Hugging Face's names and layout.

    Accepts names with or without `transformer.`; skips the mask buffers
    h.{i}.attn.bias / masked_bias and an lm_head.weight equal to wte.weight.
    ValueError naming the tensor when one is missing, unexpected, or of the
    wrong shape.
    """
    tensors = _strip(tensors)
    model = GPT2(config)
    expected = model.state_dict()
    if "lm_head.weight" in tensors:
        head = tensors.pop("lm_head.weight")
        if "wte.weight" in tensors and not np.array_equal(np.asarray(head),
                                                          np.asarray(tensors["wte.weight"])):
            raise ValueError("lm_head.weight differs from wte.weight: this model ties its"
                             " output layer to the token embedding")
    stored = {n: a for n, a in tensors.items() if not _BUFFER.match(n)}
    missing = [n for n in expected if n not in stored]
    if missing:
        raise ValueError(f"missing tensor {missing[0]}" + (f" (and {len(missing) - 1} more:"
                         f" {missing[1:4]}...)" if len(missing) > 1 else ""))
    unexpected = sorted(set(stored) - set(expected))
    if unexpected:
        raise ValueError(f"unexpected tensor {unexpected[0]} (GPT-2 has no such parameter)")
    with torch.no_grad():
        for name, parameter in expected.items():
            array = np.asarray(stored[name])
            if tuple(array.shape) != tuple(parameter.shape):
                hint = (" (stored transposed? Conv1D weights are (in, out))"
                        if tuple(array.shape) == tuple(parameter.shape)[::-1] else "")
                raise ValueError(f"tensor {name} has shape {tuple(array.shape)}, expected"
                                 f" {tuple(parameter.shape)}{hint}")
            if array.dtype.kind != "f":
                raise ValueError(f"tensor {name} is {array.dtype}, expected floats")
            parameter.copy_(torch.from_numpy(array.astype(np.float32)))
    return model.to(dtype).eval()


def model_file(path):
    """The .safetensors file: `path` itself, or `path`/model.safetensors for a directory."""
    return os.path.join(path, "model.safetensors") if os.path.isdir(path) else path


def load(path, dtype=torch.float32, config=None):
    """GPT2 from a directory holding model.safetensors and config.json, or from a .safetensors
    file (config.json beside it). config: a GPT2Config, a config.json dict or path, or None.
    Tensors may be F32, F16 or BF16; the model computes in `dtype`."""
    file = model_file(path)
    tensors, metadata = safetensors_io.read(file, widen=True)
    shapes = {n: a.shape for n, a in _strip(tensors).items()}
    return load_state(tensors, _config_for(file, config, metadata, shapes), dtype)


def tensors_for_file(model, dtype="F32", prefix="", mask_buffers=False, lm_head=False):
    """({name: array}, {name: stored dtype}) as save() writes them.

    Parameters go out via float32 (a float64 model is rounded to float32
    first), then to F16 or BF16 (nearest, ties to even). The mask buffers are
    F32 whatever `dtype` is: they are 0s and 1s, and readers skip them.
    """
    if dtype not in ("F32", "F16", "BF16"):
        raise ValueError(f"dtype {dtype!r}: F32, F16 or BF16")
    tensors, dtypes = {}, {}
    for name, p in model.state_dict().items():
        tensors[prefix + name] = p.detach().float().contiguous().numpy()
        dtypes[prefix + name] = dtype
    if lm_head:                  # GPT2LMHeadModel's own name: never prefixed
        tensors["lm_head.weight"] = tensors[prefix + "wte.weight"]
        dtypes["lm_head.weight"] = dtype
    if mask_buffers:
        P = model.config.n_positions
        mask = np.tril(np.ones((P, P), dtype=np.float32)).reshape(1, 1, P, P)   # (1, 1, P, P)
        for i in range(model.config.n_layer):
            tensors[f"{prefix}h.{i}.attn.bias"] = mask
    return tensors, dtypes


def save(model, directory, dtype="F32", prefix="", mask_buffers=False, lm_head=False):
    """Writes directory/model.safetensors (metadata {"format": "pt"}, as Hugging Face's) and
    directory/config.json. dtype: "F32", "F16" or "BF16". prefix: "" or "transformer.".
    mask_buffers: add h.{i}.attn.bias (1, 1, P, P), lower-triangular ones, F32, as older
    files have. lm_head: add lm_head.weight, a copy of wte.weight."""
    os.makedirs(directory, exist_ok=True)
    tensors, dtypes = tensors_for_file(model, dtype, prefix, mask_buffers, lm_head)
    safetensors_io.write(os.path.join(directory, "model.safetensors"), tensors,
                         {"format": "pt"}, dtypes=dtypes)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(model.config.to_json(), f, indent=2, sort_keys=True)
        f.write("\n")
