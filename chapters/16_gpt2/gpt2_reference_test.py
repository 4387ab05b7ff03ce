#!/usr/bin/python3
"""Chapter 16: checks the PyTorch GPT-2 (tests/reference/gpt2.py) and its files.

  /usr/bin/python3 chapters/16_gpt2/gpt2_reference_test.py

  1. the KV cache: token-by-token forward == the full forward (1e-5)
  2. save -> load: F32 exact; F16 and BF16 equal to the weights rounded
     (round to nearest even, as torch rounds); logits close
  3. the `transformer.` prefix, mask buffers and lm_head.weight load
  4. a wrong shape, a missing tensor, a different lm_head: ValueError naming it
  5. the same model as the course's GPT (tests/reference/gpt.py) with GPT-2's
     choices, after the name map and the Conv1D transposes: same logits (1e-5)
  6. every committed chapter-16 reference case loads and gives its out.logits
  7. config.json round trip; generate() == argmax of the full forward
  8. gpt2_reference.py's random, logits, compare (exit 1 on a moved logit), generate
Exits 1 on the first failure.
"""
import contextlib
import io
import json
import os
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "..", "tests")
sys.path.insert(0, TESTS)

from reference import gpt2, safetensors_io  # noqa: E402
from reference.config import GPTConfig  # noqa: E402
from reference.gpt import GPT  # noqa: E402

SMALL = gpt2.GPT2Config(n_layer=2, n_head=4, n_embd=32, vocab_size=67, n_positions=20)


def check(condition, message):
    if not condition:
        print("FAIL:", message)
        sys.exit(1)
    print("ok:", message)


def max_diff(a, b):
    return float((a.double() - b.double()).abs().max())


def small_model(seed=1, sharpen=1.0):
    """SMALL with perturbed biases and LayerNorms; sharpen scales the blocks' matrices.

    GPT-2's initial weights (N(0, 0.02)) make attention almost uniform and
    predict one token over and over; sharpened ones make the order of tokens,
    and so a wrong mask, cache or head layout, show in the logits.
    """
    model = gpt2.GPT2(SMALL).init_random(seed, perturb=True).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith("h.") and name.endswith("weight") and p.dim() == 2:
                p.mul_(sharpen)
    return model


def ids_for(config, B, T, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, config.vocab_size, (B, T), generator=generator)   # (B, T)


def test_kv_cache():
    model = small_model(sharpen=10.0)
    ids = ids_for(SMALL, 2, SMALL.n_positions, 2)                    # (B, P): the whole context
    with torch.no_grad():
        full, present = model(ids)                                   # (B, P, V)
        past, steps = None, []
        for t in range(ids.shape[1]):
            logits, past = model(ids[:, t:t + 1], past)              # (B, 1, V)
            steps.append(logits)
        stepped = torch.cat(steps, dim=1)                            # (B, P, V)
        # Two tokens, then the rest in one call: the mask must offset by S.
        _, past2 = model(ids[:, :2])
        rest, _ = model(ids[:, 2:], past2)
    check(max_diff(full, stepped) < 1e-5,
          f"KV cache token by token == full forward (max diff {max_diff(full, stepped):.2e})")
    check(max_diff(full[:, 2:], rest) < 1e-5, "KV cache: a chunk after a 2-token past")
    k, v = present[0]
    check(tuple(k.shape) == (2, SMALL.n_head, SMALL.n_positions, SMALL.n_embd // SMALL.n_head),
          f"present holds (B, H, T, hs) keys: {tuple(k.shape)}")
    try:
        model(ids[:, :1], past)
        check(False, "a token past the context raises")
    except ValueError:
        check(True, "a token past the context raises ValueError")


def test_round_trips(tmp):
    model = small_model(3)
    ids = ids_for(SMALL, 1, 9, 4)
    with torch.no_grad():
        want, _ = model(ids)
    for dtype, torch_dtype, tolerance in [("F32", None, 0.0), ("F16", torch.float16, 1e-2),
                                          ("BF16", torch.bfloat16, 5e-2)]:
        directory = os.path.join(tmp, dtype)
        gpt2.save(model, directory, dtype=dtype)
        header, metadata = safetensors_io.read_header(os.path.join(directory, "model.safetensors"))
        check({e["dtype"] for e in header.values()} == {dtype} and metadata == {"format": "pt"},
              f"save({dtype}) stores {dtype} with metadata {{'format': 'pt'}}")
        loaded = gpt2.load(directory)
        exact = True
        for name, p in model.state_dict().items():
            q = loaded.state_dict()[name]
            rounded = p if torch_dtype is None else p.to(torch_dtype).float()
            exact &= torch.equal(q, rounded)
        check(exact, f"save -> load {dtype}: every parameter equals the weights"
                     f" {'exactly' if dtype == 'F32' else 'rounded as torch rounds to ' + dtype}")
        with torch.no_grad():
            got, _ = loaded(ids)
        check(max_diff(want, got) <= tolerance,
              f"{dtype} logits within {tolerance:g} (max diff {max_diff(want, got):.2e})")


def test_published_variants(tmp):
    model = small_model(5)
    ids = ids_for(SMALL, 1, 6, 6)
    with torch.no_grad():
        want, _ = model(ids)
    directory = os.path.join(tmp, "prefixed")
    gpt2.save(model, directory, prefix="transformer.", mask_buffers=True, lm_head=True)
    tensors, _ = safetensors_io.read(os.path.join(directory, "model.safetensors"))
    check("transformer.h.1.attn.bias" in tensors and "lm_head.weight" in tensors
          and tensors["transformer.h.1.attn.bias"].shape == (1, 1, 20, 20)
          and tensors["transformer.h.1.attn.bias"][0, 0, 3, 4] == 0
          and tensors["transformer.h.1.attn.bias"][0, 0, 4, 3] == 1,
          "save(prefix, mask_buffers, lm_head) writes transformer.*, (1, 1, P, P) masks, lm_head")
    with torch.no_grad():
        got, _ = gpt2.load(os.path.join(directory, "model.safetensors"))(ids)
    check(torch.equal(want, got), "a prefixed file with mask buffers and lm_head loads (exact)")
    # An old file's masked_bias scalar is skipped too.
    tensors = dict(tensors, **{"transformer.h.0.attn.masked_bias": np.array(-1e4, np.float32)})
    got, _ = gpt2.load_state(tensors, SMALL)(ids)
    check(torch.equal(want, got.detach()), "h.{i}.attn.masked_bias is skipped")


def expect_error(tensors, words, what):
    try:
        gpt2.load_state(tensors, SMALL)
    except ValueError as e:
        check(all(w in str(e) for w in words), f"{what}: ValueError '{e}'")
        return
    check(False, f"{what}: no ValueError")


def test_errors(tmp):
    model = small_model(7)
    tensors, _ = gpt2.tensors_for_file(model)
    wrong = dict(tensors, **{"h.1.mlp.c_fc.weight": tensors["h.1.mlp.c_fc.weight"].T})
    expect_error(wrong, ["h.1.mlp.c_fc.weight", "(128, 32)", "(32, 128)"], "a transposed weight")
    wrong = dict(tensors, **{"wpe.weight": tensors["wpe.weight"][:10]})
    expect_error(wrong, ["wpe.weight", "(10, 32)"], "a wrong shape")
    missing = {n: a for n, a in tensors.items() if n != "h.0.ln_2.bias"}
    expect_error(missing, ["missing", "h.0.ln_2.bias"], "a missing tensor")
    extra = dict(tensors, **{"h.0.attn.c_q.weight": np.zeros(3, np.float32)})
    expect_error(extra, ["unexpected", "h.0.attn.c_q.weight"], "an unexpected tensor")
    head = dict(tensors, **{"lm_head.weight": tensors["wte.weight"] + 1})
    expect_error(head, ["lm_head.weight"], "an lm_head.weight that is not wte")
    # From a file: the message names the tensor as well.
    directory = os.path.join(tmp, "bad")
    os.makedirs(directory)
    safetensors_io.write(os.path.join(directory, "model.safetensors"), missing, {"format": "pt"})
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(SMALL.to_json(), f)
    try:
        gpt2.load(directory)
        check(False, "load() of a file with a missing tensor raises")
    except ValueError as e:
        check("h.0.ln_2.bias" in str(e), f"load() of a file missing a tensor: '{e}'")


def test_against_course_gpt():
    """The course's GPT with GPT-2's choices, loaded with the Conv1D model's weights."""
    model = small_model(8, sharpen=10.0)
    course = GPT(GPTConfig(vocab_size=SMALL.vocab_size, embed_size=SMALL.n_embd,
                           max_length=SMALL.n_positions, num_layers=SMALL.n_layer,
                           heads=SMALL.n_head, ff_dim=4 * SMALL.n_embd, positions="learned",
                           norm="pre", gelu="tanh", tie_weights=True,
                           layernorm_eps=SMALL.layer_norm_epsilon)).eval()
    ours = course.named_tensors()
    mapped = model.course_tensors()
    check(sorted(ours) == sorted(mapped),
          f"the name map covers gpt.py's named_tensors() exactly ({len(ours)} names)")
    shapes = all(tuple(ours[n].shape) == tuple(mapped[n].shape) for n in ours)
    check(shapes, "every mapped tensor has gpt.py's shape (Conv1D weights transposed)")
    with torch.no_grad():
        for name, p in ours.items():
            p.copy_(mapped[name])          # c_attn.weight.T straight into qkv.weight
        ids = ids_for(SMALL, 3, SMALL.n_positions, 9)
        want, _ = model(ids)
        got, _ = course(ids)
    check(course.lm_head.weight is course.embeddings.wte.weight, "the course's GPT ties lm_head")
    check(max_diff(want, got) < 1e-5,
          f"Conv1D GPT-2 == course GPT after the name map (max diff {max_diff(want, got):.2e}):"
          f" c_attn's [q | k | v], heads contiguous, is qkv's layout")
    # Controls: the comparison does notice a wrong map (q and k swapped; heads reordered).
    C, H = SMALL.n_embd, SMALL.n_head
    qkv = ours["blocks.1.attn.qkv.weight"]                         # (3C, C)
    q_k_swapped = torch.cat([torch.arange(C, 2 * C), torch.arange(C), torch.arange(2 * C, 3 * C)])
    q_heads_reversed = torch.cat([torch.arange(C).view(H, C // H).flip(0).reshape(-1),
                                  torch.arange(C, 3 * C)])
    for label, rows in [("q and k swapped", q_k_swapped),
                        ("heads of q reversed", q_heads_reversed)]:
        with torch.no_grad():
            saved = qkv.clone()
            qkv.copy_(saved[rows])
            wrong, _ = course(ids)
            qkv.copy_(saved)
        check(max_diff(want, wrong) > 1e-4,
              f"control: with {label} the logits differ ({max_diff(want, wrong):.2e})")


def test_reference_cases():
    folder = os.path.join(TESTS, "references", "16_gpt2")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".safetensors"))
    check(len(names) == 4, f"four chapter-16 reference cases: {names}")
    for name in names:
        path = os.path.join(folder, name)
        tensors, metadata = safetensors_io.read(path, widen=True)
        ids = torch.from_numpy(tensors["in.tokens"].astype(np.int64))       # (B, T)
        want = torch.from_numpy(tensors["out.logits"].copy())               # (B, T, V)
        parameters = {n: a for n, a in tensors.items() if not n.startswith(("in.", "out."))}
        config = gpt2.GPT2Config.from_json({k: json.loads(metadata[k]) for k in
                                            ("n_layer", "n_head", "n_embd", "vocab_size",
                                             "n_positions", "layer_norm_epsilon")})
        model = gpt2.load_state(parameters, config, dtype=torch.float64)
        with torch.no_grad():
            got, _ = model(ids)
        check(max_diff(want, got) < 1e-5, f"{name} ({metadata['dtype']}) loads and gives its"
                                          f" out.logits (max diff {max_diff(want, got):.2e})")


def test_config_and_generate():
    config = gpt2.GPT2Config.preset("gpt2-medium")
    check(gpt2.GPT2Config.from_json(json.loads(json.dumps(config.to_json()))) == config,
          "config.json round trip (gpt2-medium)")
    check(config.to_json()["n_inner"] is None and config.to_json()["activation_function"]
          == "gelu_new", "config.json: n_inner null, gelu_new")
    try:
        gpt2.GPT2Config.from_json(dict(config.to_json(), activation_function="relu"))
        check(False, "from_json refuses another activation")
    except ValueError:
        check(True, "from_json refuses another activation")
    # Without config.json: the file's metadata, else the preset its (L, C) match.
    shapes = {"wte.weight": (50257, 1024), "wpe.weight": (1024, 1024)}
    shapes.update({f"h.{i}.ln_1.weight": (1024,) for i in range(24)})
    check(gpt2._config_for("nowhere/model.safetensors", None, {}, shapes) == config,
          "no config.json: shapes (L=24, C=1024) give gpt2-medium, H=16")
    check(gpt2._config_for("nowhere/model.safetensors", None, SMALL.metadata(), {}) == SMALL,
          "no config.json: the configuration from the file's metadata")
    model = small_model(10, sharpen=10.0)
    prompt = [3, 1, 4]
    new = gpt2.generate(model, prompt, 12)
    sequence = list(prompt)
    with torch.no_grad():
        for _ in range(12):
            logits, _ = model(torch.tensor([sequence]))
            sequence.append(int(logits[0, -1].argmax()))
    check(new == sequence[3:] and len(set(new)) > 3,
          f"generate() with the KV cache == greedy full forwards: {new}")


def run_cli(*args):
    """(exit status, output) of gpt2_reference.py's main() with these arguments, run in this
    process (a new python would spend seconds importing torch each time)."""
    sys.path.insert(0, HERE)
    import gpt2_reference
    output, argv = io.StringIO(), sys.argv
    sys.argv = ["gpt2_reference.py", *args]
    try:
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            status = gpt2_reference.main()
    except SystemExit as e:
        status = e.code if isinstance(e.code, int) else 2
        output.write(str(e.code))
    finally:
        sys.argv = argv
    return status, output.getvalue()


def test_cli(tmp):
    model_dir = os.path.join(tmp, "cli_model")
    status, out = run_cli("random", "--shape", "2,2,16,50,12", "--dtype", "BF16", "--prefix",
                          "transformer.", "--mask_buffers", "--perturb", "--seed", "3",
                          "--out", model_dir)
    check(status == 0, f"random: {out.strip()}")
    logits_file = os.path.join(tmp, "cli_logits.safetensors")
    status, out = run_cli("logits", "--model", model_dir, "--ids", "1,2,3,4",
                          "--out", logits_file)
    saved, _ = safetensors_io.read(logits_file)
    with torch.no_grad():
        want, _ = gpt2.load(model_dir)(torch.tensor([[1, 2, 3, 4]]))
    check(status == 0 and saved["logits"].shape == (4, 50)
          and np.array_equal(saved["logits"], want[0].numpy()), f"logits: {out.strip()}")
    status, out = run_cli("compare", "--model", model_dir, "--logits", logits_file)
    check(status == 0, f"compare, same logits: exit 0: {out.strip()}")
    moved = saved["logits"].copy()
    moved[2, 17] += 1e-3
    safetensors_io.write(logits_file, dict(saved, logits=moved))
    status, out = run_cli("compare", "--model", model_dir, "--ids", "1,2,3,4",
                          "--logits", logits_file, "--tolerance", "1e-4")
    check(status == 1 and "position 2, token 17" in out,
          f"compare, one logit moved by 1e-3: exit 1 and says where: {out.strip()}")
    status, out = run_cli("generate", "--shape", "2,2,16,50,40", "--tokens", "8", "--threads",
                          "1", "--json")
    result = json.loads(out.strip().splitlines()[-1]) if status == 0 else {}
    check(result.get("tokens") == 8 and result.get("threads") == 1 and result["tokens_per_s"] > 0,
          f"generate --json: {out.strip()}")


def main():
    torch.set_num_threads(1)
    test_kv_cache()
    with tempfile.TemporaryDirectory() as tmp:
        test_round_trips(tmp)
        test_published_variants(tmp)
        test_errors(tmp)
        test_cli(tmp)
    test_against_course_gpt()
    test_reference_cases()
    test_config_and_generate()
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
