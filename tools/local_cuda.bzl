"""local_cuda: the repository @cuda, whatever this machine has.

The course's CUDA chapters build on every machine: with NVIDIA's toolkit they
are compiled by nvcc, without it they run on the CPU emulator
(tools/cuda_emulator). This rule looks, whenever Bazel's server starts or
GPT_CUDA_HOME changes, at

  - the toolkit: $GPT_CUDA_HOME (default /usr/local/cuda), an absolute path
    holding bin/nvcc, include/cuda_runtime.h and lib64/ with the static CUDA
    runtime and cuBLAS (NVIDIA's layout);
  - a GPU the course's code can run on: the toolkit's own device query
    (bin/__nvcc_device_query, what nvcc's -arch=native uses) must answer with
    compute capability 8.0 or more (the kernels are built for sm_80 and sm_90).
    A device node without a working driver, a GPU hidden from a container or
    an older GPU answers otherwise.

and writes what it found into @cuda//:defs.bzl, which tools/cuda.bzl reads to
choose how CUDA code is built when no --define=cuda=... says otherwise:

  toolkit and GPU    nvcc: the GPU tests run on the GPU
  anything else      the emulator: the GPU tests run on the CPU

`bazel test --repo_env=GPT_CUDA_HOME=/nonexistent //...` hides the toolkit
(CI does, to prove the course needs none); `bazel sync --configure` looks
again after a toolkit or a GPU was installed.
"""

_DEFAULT_HOME = "/usr/local/cuda"

# What @cuda holds without a toolkit: the same target names, each failing with
# the reason if a build asks for it (--define=cuda=nvcc on such a machine).
_NO_TOOLKIT_BUILD = """\
# No complete CUDA toolkit at {home}: these targets stand in for third_party/cuda.BUILD's
# and fail with the reason if a build needs them. CUDA code builds for the CPU
# emulator instead (tools/local_cuda.bzl).
package(default_visibility = ["//visibility:public"])

genrule(
    name = "no_toolkit",
    outs = ["no_toolkit.h"],
    cmd = "echo 'ERROR: no complete CUDA toolkit at {home} (it needs {files}). Build without --config=nvcc (CUDA then runs on the CPU emulator), or install the toolkit (README.md, GPUs).' >&2; exit 1",
)

[cc_library(
    name = name,
    hdrs = [":no_toolkit"],
) for name in ["headers", "cudart", "cublas"]]

exports_files(["defs.bzl"])
"""

# What a toolkit must hold for third_party/cuda.BUILD.
_TOOLKIT_FILES = [
    "bin/nvcc",
    "include/cuda_runtime.h",
    "lib64/libcudart_static.a",
    "lib64/libcublas.so",
    "lib64/libcublasLt.so",
]

def _usable_gpu(rctx, home):
    """True if the toolkit's device query finds a GPU of compute capability 8.0 or more."""
    query = rctx.path(home + "/bin/__nvcc_device_query")
    if not query.exists:
        return False
    result = rctx.execute([query], timeout = 60)
    if result.return_code != 0:
        return False
    for capability in result.stdout.strip().split(","):  # e.g. "90" or "86,90"
        if capability.strip().isdigit() and int(capability.strip()) >= 80:
            return True
    return False

def _local_cuda_impl(rctx):
    home = rctx.os.environ.get("GPT_CUDA_HOME", _DEFAULT_HOME) or _DEFAULT_HOME
    if not home.startswith("/"):
        fail("GPT_CUDA_HOME must be an absolute path, not %r" % home)
    toolkit = all([rctx.path(home + "/" + f).exists for f in _TOOLKIT_FILES])
    gpu = toolkit and _usable_gpu(rctx, home)
    if toolkit:
        for folder in ["bin", "include", "lib64"]:
            rctx.symlink(home + "/" + folder, folder)
        rctx.template("BUILD", rctx.attr.build_file, {})
    else:
        rctx.file("BUILD", _NO_TOOLKIT_BUILD.format(home = home, files = " ".join(_TOOLKIT_FILES)))
    rctx.file("defs.bzl", "\n".join([
        "# Written by tools/local_cuda.bzl: what this machine had when Bazel looked.",
        "CUDA_HOME = %r" % home,
        "CUDA_TOOLKIT = %s" % toolkit,
        "GPU_PRESENT = %s  # one of compute capability 8.0 or more, that the driver answers for" % gpu,
        "",
    ]))
    rctx.file("WORKSPACE", "workspace(name = \"cuda\")\n")

local_cuda = repository_rule(
    implementation = _local_cuda_impl,
    attrs = {
        "build_file": attr.label(allow_single_file = True, mandatory = True),
    },
    environ = ["GPT_CUDA_HOME"],
    local = True,
    configure = True,
)
