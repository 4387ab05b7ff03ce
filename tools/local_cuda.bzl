"""local_cuda: the repository @cuda, whatever this machine has.

The course's CUDA chapters build on every machine: with NVIDIA's toolkit they
are compiled by nvcc, without it they run on the CPU emulator
(tools/cuda_emulator). This rule looks once, when Bazel first needs @cuda, at

  - the toolkit: $GPT_CUDA_HOME (default /usr/local/cuda) with bin/nvcc in it;
  - a GPU: an NVIDIA device node (/dev/nvidia0, ...) or the driver's list
    of GPUs (/proc/driver/nvidia/gpus/).

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
# No CUDA toolkit at {home}: these targets stand in for third_party/cuda.BUILD's
# and fail with the reason if a build needs them. CUDA code builds for the CPU
# emulator instead (tools/local_cuda.bzl).
package(default_visibility = ["//visibility:public"])

genrule(
    name = "no_toolkit",
    outs = ["no_toolkit.h"],
    cmd = "echo 'ERROR: no CUDA toolkit at {home} (bin/nvcc missing). Build without --define=cuda=nvcc (CUDA then runs on the CPU emulator), or install the toolkit (README.md, GPUs).' >&2; exit 1",
)

[cc_library(
    name = name,
    hdrs = [":no_toolkit"],
) for name in ["headers", "cudart", "cublas"]]

exports_files(["defs.bzl"])
"""

def _gpu_present(rctx):
    if rctx.path("/proc/driver/nvidia/gpus").exists:
        return True
    for i in range(16):
        if rctx.path("/dev/nvidia%d" % i).exists:
            return True
    return False

def _local_cuda_impl(rctx):
    home = rctx.os.environ.get("GPT_CUDA_HOME", _DEFAULT_HOME) or _DEFAULT_HOME
    toolkit = rctx.path(home + "/bin/nvcc").exists
    gpu = _gpu_present(rctx)
    if toolkit:
        for folder in ["bin", "include", "lib64"]:
            rctx.symlink(home + "/" + folder, folder)
        rctx.template("BUILD", rctx.attr.build_file, {})
    else:
        rctx.file("BUILD", _NO_TOOLKIT_BUILD.format(home = home))
    rctx.file("defs.bzl", "\n".join([
        "# Written by tools/local_cuda.bzl: what this machine had when Bazel looked.",
        "CUDA_HOME = %r" % home,
        "CUDA_TOOLKIT = %s" % toolkit,
        "GPU_PRESENT = %s" % gpu,
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
