"""What the notebooks share: build the course's programs, run them, read what they write.

The notebooks never compute the model in Python. They run the C++ programs
(train, generate, the exporters of tools/export/) and draw their output:
safetensors files (read with tests/reference/safetensors_io.py) and
metrics.jsonl. Everything they write goes to notebooks/.runs/ (git-ignored)
and notebooks/figures/ (the PNG figures).
"""
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"
RUNS = NOTEBOOKS / ".runs"
FIGURES = NOTEBOOKS / "figures"

sys.path.insert(0, str(REPO / "tests"))
from reference import safetensors_io  # noqa: E402  (the course's numpy safetensors reader)

# Every program the notebooks run, by Bazel label.
PROGRAMS = {
    "train": "//chapters/09_training:train",
    "generate": "//chapters/09_training:generate",
    "export_corpus": "//tools/export:export_corpus",
    "export_embeddings": "//tools/export:export_embeddings",
    "export_attention": "//tools/export:export_attention",
    "export_sampling": "//tools/export:export_sampling",
    "tokenize": "//chapters/15_bpe:tokenize",
    "gpt2_train": "//chapters/16_gpt2:train",
    "gpt2_generate": "//chapters/16_gpt2:generate",
    "evaluate": "//chapters/16_gpt2:evaluate",
    "new_gpt2_model": "//tools/export:new_gpt2_model",
    "export_logit_lens": "//tools/export:export_logit_lens",
}

_built = False


def build():
    """Builds every program once per kernel (bazel build is quick when nothing changed)."""
    global _built
    if os.environ.get("NOTEBOOKS_PROGRAMS_BUILT") == "1":
        _built = True  # notebooks/run_all.sh built them just before
    if not _built:
        started = time.time()
        result = subprocess.run(["bazel", "build", *PROGRAMS.values()], cwd=REPO,
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("bazel build failed:\n" + result.stderr[-3000:])
        print(f"built {len(PROGRAMS)} programs in {time.time() - started:.0f} s")
        _built = True


def binary(name):
    """The path of a built program, e.g. binary('train')."""
    build()
    label = PROGRAMS[name]
    return REPO / "bazel-bin" / label[2:].replace(":", "/")


def run(name, *args, quiet=True):
    """Runs a program with its flags; returns its standard output. Raises on failure."""
    command = [str(binary(name)), *[str(a) for a in args]]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{name} exited with {result.returncode}:\n{result.stderr[-3000:]}")
    if not quiet:
        print(result.stdout, end="")
    return result.stdout


def pipe(name, *args, stdin=b""):
    """Runs a program with `stdin` (bytes) on its standard input; returns its standard output as bytes."""
    command = [str(binary(name)), *[str(a) for a in args]]
    result = subprocess.run(command, cwd=REPO, input=stdin, capture_output=True)
    if result.returncode != 0:
        error = result.stderr.decode(errors="replace")[-3000:]
        raise RuntimeError(f"{name} exited with {result.returncode}:\n{error}")
    return result.stdout


def runfile(name, path):
    """A data file of a built program, by its path in the repository, e.g.
    runfile('tokenize', 'chapters/01_tokens/austen.txt')."""
    return binary(name).parent / (binary(name).name + ".runfiles") / "gpt_from_scratch" / path


def read(path):
    """A safetensors file as ({name: numpy array}, {key: str})."""
    return safetensors_io.read(str(path))


def read_metrics(run_dir):
    """metrics.jsonl as (steps, val_steps): the per-step records and the validation records."""
    steps, vals = [], []
    with open(Path(run_dir) / "metrics.jsonl") as f:
        for line in f:
            record = json.loads(line)
            (vals if "val_loss" in record else steps).append(record)
    return steps, vals


def save(fig, notebook, name):
    """Saves a figure as notebooks/figures/<notebook>_<name>.png and returns the path."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / f"{notebook}_{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    print("saved", path.relative_to(REPO))
    return path


# The notebooks' model: small enough to train in about a minute on 2 cores.
SMALL_MODEL = {
    "data": "austen", "embed_size": 64, "num_layers": 2, "heads": 4, "block_size": 64,
    "batch_size": 32, "lr": 3e-3, "seed": 1337,
}
STAGES = (100, 300, 1000)  # steps at which the run is stopped, sampled and copied
SMALL_RUN = RUNS / "austen-small"


def small_run():
    """Trains SMALL_MODEL on Austen for STAGES[-1] steps, unless that is done already.

    The run goes in stages: train to 100 steps, stop, resume to 300, then to
    1000. Resuming is exact (chapter 09), so the stages change nothing in the
    result; they leave a copy of the checkpoint at each stage,
    step_<n>.safetensors, for the notebooks that show the model at several
    points of its training. Returns the run's directory.
    """
    stamp = json.dumps({"model": SMALL_MODEL, "stages": STAGES}, sort_keys=True)
    final = SMALL_RUN / f"step_{STAGES[-1]}.safetensors"
    stamp_file = SMALL_RUN / "notebook_run.json"
    if final.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        print(f"using the run in {SMALL_RUN.relative_to(REPO)} (delete it to train again)")
        return SMALL_RUN
    shutil.rmtree(SMALL_RUN, ignore_errors=True)
    SMALL_RUN.mkdir(parents=True)
    checkpoint = SMALL_RUN / "checkpoint.safetensors"
    started = time.time()
    for i, steps in enumerate(STAGES):
        if i == 0:
            flags = [f"--{k}={v}" for k, v in SMALL_MODEL.items()]
            flags += ["--eval_interval=50", "--save_interval=0", f"--out={SMALL_RUN}"]
        else:
            flags = [f"--resume={checkpoint}"]
        output = run("train", *flags, f"--max_steps={steps}", "--sample_tokens=0")
        final_line = [l for l in output.splitlines() if l.startswith("final")]
        print(final_line[-1] if final_line else output.splitlines()[-1])
        shutil.copy(checkpoint, SMALL_RUN / f"step_{steps}.safetensors")
    stamp_file.write_text(stamp)
    print(f"trained {STAGES[-1]} steps in {time.time() - started:.0f} s")
    return SMALL_RUN


# Chapter 16's notebook: a small GPT-2 — GPT-2's every choice (pre-LN, learned
# positions, tanh GELU, tied output layer, GPT-2's 50,257 tokens) at a size
# that trains on 2 cores in about a minute. new_gpt2_model writes it untrained
# in GPT-2's published layout; chapter 16's train fine-tunes it from there.
SMALL_GPT2 = {"num_layers": 4, "heads": 4, "embed_size": 128, "max_length": 128, "seed": 1}
SMALL_GPT2_TRAINING = {
    "data": "austen", "tokenizer": "gpt2", "batch_size": 16, "block_size": 64, "lr": 3e-3,
    "max_steps": 60, "seed": 1337,
}
SMALL_GPT2_RUN = RUNS / "gpt2-small"


def small_gpt2_run():
    """Writes SMALL_GPT2 untrained (new_gpt2_model), then trains it on Austen
    with chapter 16's `train --init`, unless that is done already. Returns the
    run's directory: init/model.safetensors is the untrained model,
    checkpoint.safetensors the trained one, metrics.jsonl its losses.
    """
    stamp = json.dumps({"model": SMALL_GPT2, "training": SMALL_GPT2_TRAINING}, sort_keys=True)
    stamp_file = SMALL_GPT2_RUN / "notebook_run.json"
    checkpoint = SMALL_GPT2_RUN / "checkpoint.safetensors"
    if checkpoint.exists() and stamp_file.exists() and stamp_file.read_text() == stamp:
        print(f"using the run in {SMALL_GPT2_RUN.relative_to(REPO)} (delete it to train again)")
        return SMALL_GPT2_RUN
    shutil.rmtree(SMALL_GPT2_RUN, ignore_errors=True)
    SMALL_GPT2_RUN.mkdir(parents=True)
    started = time.time()
    print(run("new_gpt2_model", *[f"--{k}={v}" for k, v in SMALL_GPT2.items()],
              f"--out={SMALL_GPT2_RUN / 'init'}").strip())
    steps = SMALL_GPT2_TRAINING["max_steps"]
    output = run("gpt2_train", f"--init={SMALL_GPT2_RUN / 'init' / 'model.safetensors'}",
                 *[f"--{k}={v}" for k, v in SMALL_GPT2_TRAINING.items()],
                 f"--eval_interval={steps // 2}", "--eval_batches=4", "--save_interval=0",
                 "--sample_tokens=0", f"--out={SMALL_GPT2_RUN}")
    final_line = [l for l in output.splitlines() if l.startswith("final")]
    print(final_line[-1] if final_line else output.splitlines()[-1])
    stamp_file.write_text(stamp)
    print(f"made and trained in {time.time() - started:.0f} s")
    return SMALL_GPT2_RUN


def austen_sentence(length=64):
    """A sentence from the corpus, the first of Pride and Prejudice, cut to `length` characters."""
    return "It is a truth universally acknowledged, that a single man in possession"[:length]


def machine():
    """This machine's name as tools/run_benchmarks.sh writes it (results/<machine>/)."""
    return subprocess.run(["bash", "tools/run_benchmarks.sh", "--machine"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout.strip()

