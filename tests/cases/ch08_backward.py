"""Chapter 08: the backward pass of every op, from PyTorch's autograd.

Each case runs one op forward with requires_grad, calls backward(dout) with a
random upstream gradient `in.dout`, and stores what the C++ backward reads:
  in.<x>       the op's inputs, and the activations its forward pass saved
               (named after the C++ struct fields: in.weights, in.ln1_mean,
               in.attn.q, ...), all of them computed here by PyTorch;
  <param>      the parameters, named as in the reference model;
  grad.<name>  PyTorch's gradient of sum(dout * forward(...)) with respect to
               an input (grad.inp) or a parameter (grad.qkv.weight).
Inputs, parameters and dout are float32 draws; the op, its saved activations
and autograd run in float64 on those values (tests/cases/__init__.py).
"""
import math

import torch
from torch.nn import functional as F

from cases import f32, with_precision
from reference.attention import MultiHeadAttention, causal_attention
from reference.block import Block
from reference.config import GPTConfig
from reference.embeddings import Embeddings
from reference.feedforward import FeedForward

CHAPTER = "08_backward"


def _params(module, prefix=""):
    return {prefix + name: f32(p) for name, p in module.named_parameters()}


def _grads(module, prefix=""):
    return {"grad." + prefix + name: f32(p.grad) for name, p in module.named_parameters()}


def _draw(*shape, scale=1.0, shift=0.0):
    """A float32 input, drawn (and scaled, in float32) as a float32 model would."""
    return torch.randn(*shape) * scale + shift


def _leaf(x):
    """The float32 tensor x as a float64 leaf that autograd differentiates."""
    return x.double().requires_grad_()


# --- chapter 02: embeddings ---------------------------------------------------

def _embedding(config, B, T, seed):
    torch.manual_seed(seed)
    embeddings = Embeddings(config)
    tokens = torch.randint(0, config.vocab_size, (B, T))
    tokens[-1, :2] = tokens[0, 0]          # the same id at several places: gradients add up
    dout = torch.randn(B, T, config.embed_size)
    embeddings.double()(tokens).backward(dout.double())
    tensors = {"in.tokens": tokens.numpy(), "in.dout": f32(dout),
               **_params(embeddings), **_grads(embeddings)}
    return tensors, with_precision(dict(config.metadata(), B=B, T=T))


# --- chapters 03-04: linear, softmax, attention, heads --------------------------

def _linear(N, IC, OC, bias, seed):
    torch.manual_seed(seed)
    linear = torch.nn.Linear(IC, OC, bias=bias)
    inp = _leaf(_draw(N, IC))
    dout = torch.randn(N, OC)
    linear.double()(inp).backward(dout.double())
    tensors = {"in.inp": f32(inp), "in.dout": f32(dout), "grad.inp": f32(inp.grad),
               **_params(linear), **_grads(linear)}
    return tensors, with_precision(dict(N=N, IC=IC, OC=OC, bias=bias))


def _causal_softmax(N, T, seed):
    torch.manual_seed(seed)
    scores = _leaf(_draw(N, T, T, scale=2.0))
    future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
    dweights = torch.randn(N, T, T)        # above the diagonal too: it must be ignored
    weights.backward(dweights.double())
    tensors = {"in.weights": f32(weights), "in.dweights": f32(dweights),
               "grad.scores": f32(scores.grad)}
    return tensors, with_precision(dict(N=N, T=T))


def _attention(N, T, hs, seed):
    torch.manual_seed(seed)
    q, k, v = (_leaf(_draw(N, T, hs)) for _ in range(3))
    out, weights = causal_attention(q, k, v)
    dout = torch.randn(N, T, hs)
    out.backward(dout.double())
    tensors = {"in.q": f32(q), "in.k": f32(k), "in.v": f32(v), "in.weights": f32(weights),
               "in.dout": f32(dout),
               "grad.q": f32(q.grad), "grad.k": f32(k.grad), "grad.v": f32(v.grad)}
    return tensors, with_precision(dict(N=N, T=T, hs=hs))


def _split(qkv, B, T, C, H):
    """(B, T, 3C) -> q, k, v (B, H, T, hs), as MultiHeadAttention.forward does."""
    return [t.reshape(B, T, H, C // H).transpose(1, 2) for t in qkv.split(C, dim=2)]


def _merge(heads, B, T, C):
    return heads.transpose(1, 2).reshape(B, T, C)


def _heads(B, T, C, H, seed):
    torch.manual_seed(seed)
    qkv = _leaf(_draw(B, T, 3 * C))
    dq, dk, dv = (torch.randn(B, H, T, C // H) for _ in range(3))
    torch.autograd.backward(_split(qkv, B, T, C, H), [dq.double(), dk.double(), dv.double()])
    heads = _leaf(_draw(B, H, T, C // H))
    dmerged = torch.randn(B, T, C)
    _merge(heads, B, T, C).backward(dmerged.double())
    tensors = {"in.dq": f32(dq), "in.dk": f32(dk), "in.dv": f32(dv), "grad.qkv": f32(qkv.grad),
               "in.dmerged": f32(dmerged), "grad.heads": f32(heads.grad)}
    return tensors, with_precision(dict(B=B, T=T, embed_size=C, heads=H))


def _attention_activations(attn, x, B, T, C, H, prefix):
    """The reference module's steps again, keeping each intermediate (AttentionActivations)."""
    qkv = attn.qkv(x)
    q, k, v = _split(qkv, B, T, C, H)
    y, weights = causal_attention(q, k, v)
    merged = _merge(y, B, T, C)
    return {prefix + name: f32(t) for name, t in
            dict(qkv=qkv, q=q, k=k, v=v, weights=weights, y=y, merged=merged).items()}


def _multihead_attention(config, B, T, seed):
    torch.manual_seed(seed)
    attn = MultiHeadAttention(config)
    C, H = config.embed_size, config.heads
    inp = _leaf(_draw(B, T, C))
    dout = torch.randn(B, T, C)
    attn.double()(inp).backward(dout.double())
    with torch.no_grad():
        acts = _attention_activations(attn, inp, B, T, C, H, "in.")
    tensors = {"in.inp": f32(inp), "in.dout": f32(dout), "grad.inp": f32(inp.grad),
               **acts, **_params(attn), **_grads(attn)}
    return tensors, with_precision(dict(config.metadata(), B=B, T=T))


# --- chapter 05: GELU, LayerNorm, feed-forward ---------------------------------

def _gelu(shape, form, seed):
    """(PyTorch's float32 tanh-form kernel would lose digits in the far negative
    tail, 1.4% at x = -4.5, where 1 - tanh^2 cancels: float64 does not.)"""
    torch.manual_seed(seed)
    inp = _leaf(_draw(*shape, scale=3.0))  # into both tails, where the forms differ most
    dout = torch.randn(*shape)
    F.gelu(inp, approximate="none" if form == "erf" else "tanh").backward(dout.double())
    tensors = {"in.inp": f32(inp), "in.dout": f32(dout), "grad.inp": f32(inp.grad)}
    return tensors, with_precision(dict(gelu=form))


def _layernorm(N, C, seed, shift=0.0):
    torch.manual_seed(seed)
    layernorm = torch.nn.LayerNorm(C, eps=1e-5)
    with torch.no_grad():                  # not the 1 and 0 it starts with
        layernorm.weight.normal_(1.0, 0.5)
        layernorm.bias.normal_(0.0, 0.5)
    inp = _leaf(_draw(N, C, scale=2.0, shift=shift))
    dout = torch.randn(N, C)
    layernorm.double()(inp).backward(dout.double())
    with torch.no_grad():
        _, mean, rstd = torch.native_layer_norm(inp, (C,), layernorm.weight, layernorm.bias, 1e-5)
    tensors = {"in.inp": f32(inp), "in.dout": f32(dout), "grad.inp": f32(inp.grad),
               "in.mean": f32(mean.view(N)), "in.rstd": f32(rstd.view(N)),
               **_params(layernorm), **_grads(layernorm)}
    return tensors, with_precision(dict(N=N, C=C, eps=1e-5))


def _feedforward(config, N, seed):
    torch.manual_seed(seed)
    mlp = FeedForward(config)
    inp = _leaf(_draw(N, config.embed_size))
    dout = torch.randn(N, config.embed_size)
    mlp.double()(inp).backward(dout.double())
    with torch.no_grad():
        hidden = mlp.fc(inp)
        activated = mlp.gelu(hidden)
    tensors = {"in.inp": f32(inp), "in.dout": f32(dout), "grad.inp": f32(inp.grad),
               "in.hidden": f32(hidden), "in.activated": f32(activated),
               **_params(mlp), **_grads(mlp)}
    return tensors, with_precision(dict(config.metadata(), N=N))


# --- chapter 06: residual, block ------------------------------------------------

def _residual(shape, seed):
    torch.manual_seed(seed)
    a, b = _leaf(_draw(*shape)), _leaf(_draw(*shape))
    dout = torch.randn(*shape)
    (a + b).backward(dout.double())
    return ({"in.dout": f32(dout), "grad.a": f32(a.grad), "grad.b": f32(b.grad)},
            with_precision({}))


def _layernorm_saved(ln, x):
    _, mean, rstd = torch.native_layer_norm(x, ln.normalized_shape, ln.weight, ln.bias, ln.eps)
    return mean.squeeze(-1), rstd.squeeze(-1)


def _block_activations(block, x, B, T, C, H):
    """Block.forward's steps again, keeping every field of BlockActivations."""
    acts = {}
    if block.pre_norm:
        ln1 = block.ln1(x)
        ln1_mean, ln1_rstd = _layernorm_saved(block.ln1, x)
        attn_out = block.attn(ln1)
        residual1 = x + attn_out
        ln2 = block.ln2(residual1)
        ln2_mean, ln2_rstd = _layernorm_saved(block.ln2, residual1)
        attn_in, mlp_in = ln1, ln2
    else:
        attn_out = block.attn(x)
        residual1 = x + attn_out
        ln1 = block.ln1(residual1)
        ln1_mean, ln1_rstd = _layernorm_saved(block.ln1, residual1)
        attn_in, mlp_in = x, ln1
    mlp_hidden = block.mlp.fc(mlp_in)
    mlp_activated = block.mlp.gelu(mlp_hidden)
    mlp_out = block.mlp.proj(mlp_activated)
    if block.pre_norm:
        residual2 = residual1 + mlp_out
    else:
        residual2 = ln1 + mlp_out
        ln2 = block.ln2(residual2)
        ln2_mean, ln2_rstd = _layernorm_saved(block.ln2, residual2)
    acts.update(_attention_activations(block.attn, attn_in, B, T, C, H, "in.attn."))
    for name, t in dict(ln1=ln1, ln1_mean=ln1_mean, ln1_rstd=ln1_rstd, attn_out=attn_out,
                        residual1=residual1, ln2=ln2, ln2_mean=ln2_mean, ln2_rstd=ln2_rstd,
                        mlp_hidden=mlp_hidden, mlp_activated=mlp_activated, mlp_out=mlp_out,
                        residual2=residual2).items():
        acts["in." + name] = f32(t)
    return acts


def _block(config, B, T, seed):
    torch.manual_seed(seed)
    block = Block(config)
    with torch.no_grad():                  # LayerNorms that are not the identity
        for ln in (block.ln1, block.ln2):
            ln.weight.normal_(1.0, 0.3)
            ln.bias.normal_(0.0, 0.3)
    C, H = config.embed_size, config.heads
    inp = _leaf(_draw(B, T, C))
    dout = torch.randn(B, T, C)
    out = block.double()(inp)
    out.backward(dout.double())
    with torch.no_grad():
        acts = _block_activations(block, inp, B, T, C, H)
        assert torch.equal(torch.from_numpy(acts["in.residual2" if block.pre_norm
                                                 else "in.ln2"]), out.float())
    tensors = {"in.inp": f32(inp), "in.dout": f32(dout), "grad.inp": f32(inp.grad),
               **acts, **_params(block), **_grads(block)}
    return tensors, with_precision(dict(config.metadata(), B=B, T=T))


# --- chapter 07: cross-entropy ---------------------------------------------------

def _cross_entropy(N, V, dloss, seed):
    torch.manual_seed(seed)
    logits = _leaf(_draw(N, V, scale=2.0))
    targets = torch.randint(0, V, (N,))
    loss = F.cross_entropy(logits, targets)   # the mean over the N positions
    loss.backward(torch.tensor(dloss, dtype=torch.float64))
    tensors = {"in.logits": f32(logits), "in.probs": f32(torch.softmax(logits, dim=-1)),
               "in.targets": targets.numpy(), "grad.logits": f32(logits.grad)}
    return tensors, with_precision(dict(N=N, V=V, dloss=dloss, loss=f"{f32(loss).item():.9g}"))


def cases():
    small = dict(vocab_size=65, embed_size=32, max_length=16, heads=4, ff_dim=64)
    # C = 12 (not a multiple of 8), H = 3 (hs = 4), odd T.
    awkward = dict(vocab_size=11, embed_size=12, max_length=7, heads=3, ff_dim=20)
    return {
        "embedding_learned": _embedding(GPTConfig(**small), B=2, T=8, seed=1),
        "embedding_sinusoidal": _embedding(GPTConfig(**awkward, positions="sinusoidal"),
                                           B=3, T=5, seed=2),
        "linear": _linear(N=16, IC=32, OC=96, bias=True, seed=3),
        "linear_no_bias": _linear(N=7, IC=12, OC=5, bias=False, seed=4),
        "causal_softmax": _causal_softmax(N=8, T=8, seed=5),
        "causal_softmax_odd": _causal_softmax(N=3, T=7, seed=6),
        "attention": _attention(N=8, T=8, hs=8, seed=7),
        "attention_odd": _attention(N=3, T=7, hs=4, seed=8),
        "heads": _heads(B=2, T=5, C=12, H=3, seed=9),
        "multihead_attention": _multihead_attention(GPTConfig(**small), B=2, T=8, seed=10),
        "multihead_attention_odd": _multihead_attention(GPTConfig(**awkward), B=1, T=7, seed=11),
        "gelu_erf": _gelu((2, 8, 64), "erf", seed=12),
        "gelu_tanh": _gelu((3, 7, 13), "tanh", seed=13),
        "layernorm": _layernorm(N=16, C=32, seed=14),
        # C = 12, and rows far from zero mean: the mean must cancel exactly.
        "layernorm_odd": _layernorm(N=5, C=12, seed=15, shift=20.0),
        "feedforward_erf": _feedforward(GPTConfig(**small), N=16, seed=16),
        "feedforward_tanh": _feedforward(GPTConfig(**awkward, gelu="tanh"), N=7, seed=17),
        "residual": _residual((2, 8, 32), seed=18),
        "block_pre": _block(GPTConfig(**small), B=2, T=8, seed=19),
        "block_post": _block(GPTConfig(**awkward, norm="post", gelu="tanh"), B=2, T=5, seed=20),
        "cross_entropy": _cross_entropy(N=16, V=65, dloss=1.0, seed=21),
        "cross_entropy_scaled": _cross_entropy(N=7, V=11, dloss=0.5, seed=22),
    }
