"""cuda_library: compile .cu files with nvcc and link them like any C++ code.

Bazel 4 has no CUDA rules of its own. This file adds the smallest thing that
works: one nvcc action per .cu file producing a position-independent object,
wrapped in an ordinary cc_library so that C++ targets depend on it as usual.

On the CPU emulator the same .cu files are instead translated to C++
(tools/cuda_emulator/translate.py), compiled by the host compiler with
tools/cuda_emulator/emulator.h force-included, and linked against the
emulator's runtime: GPU tests then run, slowly, on any machine.

Which of the two: --config=nvcc or --config=emulated (.bazelrc) say so;
without either, the machine decides (tools/local_cuda.bzl): nvcc where there
are both the CUDA toolkit and a GPU, the emulator everywhere else, so that
`bazel test //...` checks every kernel on every machine.
"""

load("@cuda//:defs.bzl", "CUDA_HOME", "CUDA_TOOLKIT", "GPU_PRESENT")

NVCC = CUDA_HOME + "/bin/nvcc"

# How CUDA builds when no --define=cuda=... is given.
CUDA_DEFAULT = "nvcc" if CUDA_TOOLKIT and GPU_PRESENT else "emulated"

def cuda_select(emulated, nvcc):
    """select() between what the emulator build and the nvcc build use.

    Args:
      emulated: the value under the CPU emulator.
      nvcc: the value under nvcc.

    Returns:
      A select() on --define=cuda=emulated|nvcc, defaulting to CUDA_DEFAULT.
    """
    return select({
        "//tools:cuda_defined_emulated": emulated,
        "//tools:cuda_defined_nvcc": nvcc,
        "//conditions:default": emulated if CUDA_DEFAULT == "emulated" else nvcc,
    })

# Ampere (A100) and Hopper (H100, H200) machine code, plus PTX for newer GPUs.
CUDA_ARCH_FLAGS = [
    "-gencode=arch=compute_80,code=sm_80",
    "-gencode=arch=compute_90,code=sm_90",
    "-gencode=arch=compute_90,code=compute_90",
]

def _cuda_objects_impl(ctx):
    compilation_contexts = [dep[CcInfo].compilation_context for dep in ctx.attr.deps]
    headers = depset(
        ctx.files.hdrs,
        transitive = [c.headers for c in compilation_contexts],
    )
    include_dirs = depset(transitive = [c.includes for c in compilation_contexts] +
                                       [c.quote_includes for c in compilation_contexts] +
                                       [c.system_includes for c in compilation_contexts])
    objects = []
    for src in ctx.files.srcs:
        stem = src.basename[:-len(src.extension) - 1]
        obj = ctx.actions.declare_file("_nvcc/%s/%s.pic.o" % (ctx.label.name, stem))
        args = ctx.actions.args()
        args.add_all(["-c", src.path, "-o", obj.path])
        args.add_all(["-std=c++17", "-O3", "-lineinfo", "--expt-relaxed-constexpr"])
        args.add_all(["-Xcompiler", "-fPIC,-Wall,-Wextra"])
        args.add_all(ctx.attr.arch_flags or CUDA_ARCH_FLAGS)
        args.add_all(["-I.", "-I" + ctx.bin_dir.path])
        args.add_all(include_dirs, before_each = "-isystem")
        args.add_all(ctx.attr.copts)
        ctx.actions.run(
            executable = ctx.executable._nvcc_checked,
            arguments = [NVCC, args],
            inputs = depset([src], transitive = [headers]),
            outputs = [obj],
            mnemonic = "NvccCompile",
            progress_message = "Compiling CUDA %s" % src.short_path,
            use_default_shell_env = True,
        )
        objects.append(obj)
    return [DefaultInfo(files = depset(objects))]

cuda_objects = rule(
    implementation = _cuda_objects_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".cu"]),
        "hdrs": attr.label_list(allow_files = [".h", ".cuh"]),
        "deps": attr.label_list(providers = [CcInfo]),
        "copts": attr.string_list(),
        # The GPUs to compile for, in place of CUDA_ARCH_FLAGS (empty: those).
        "arch_flags": attr.string_list(),
        # nvcc, failing the compile where ptxas serialized wgmma.
        "_nvcc_checked": attr.label(
            default = "//tools:nvcc_checked.sh",
            allow_single_file = True,
            executable = True,
            cfg = "exec",
        ),
    },
)

def _cuda_emulated_sources_impl(ctx):
    sources = []
    for src in ctx.files.srcs:
        stem = src.basename[:-len(src.extension) - 1]
        out = ctx.actions.declare_file("_emulated/%s/%s.cc" % (ctx.label.name, stem))
        ctx.actions.run(
            executable = "/usr/bin/python3",
            arguments = [ctx.file._translate.path, src.path, out.path],
            inputs = [src, ctx.file._translate],
            outputs = [out],
            mnemonic = "CudaEmulatorTranslate",
            progress_message = "Translating CUDA %s for the CPU emulator" % src.short_path,
        )
        sources.append(out)
    return [DefaultInfo(files = depset(sources))]

# Each .cu file as a .cc file for the emulator: launches become calls, dynamic
# shared arrays become pointers (tools/cuda_emulator/translate.py).
cuda_emulated_sources = rule(
    implementation = _cuda_emulated_sources_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".cu"]),
        "_translate": attr.label(
            default = "//tools/cuda_emulator:translate.py",
            allow_single_file = True,
        ),
    },
)

# How the host compiler reads translated .cu files: with the emulator's
# definitions of __global__, threadIdx, __syncthreads, ... in front of them.
# (#pragma unroll is nvcc's; g++ would warn about every one.)
EMULATOR_COPTS = [
    "-DGPT_CUDA_EMULATED=1",  # common/cuda/gpu.cu: GpuStatus::emulated
    "-include",
    "tools/cuda_emulator/emulator.h",
    "-Wno-unknown-pragmas",
]

EMULATOR_DEPS = ["//tools/cuda_emulator:runtime"]

def cuda_library(name, srcs, hdrs = [], deps = [], copts = [], arch_flags = [], **kwargs):
    """A cc_library whose .cu sources are compiled by nvcc or, for the emulator, by the host compiler.

    Args:
      name: the library's name.
      srcs: .cu files.
      hdrs: headers, usable from both .cu and .cc files.
      deps: cc_library dependencies (their headers are visible to nvcc).
      copts: extra nvcc flags (not used by the emulator).
      arch_flags: the -gencode flags, in place of CUDA_ARCH_FLAGS: for
        kernels that use one GPU's own instructions (sm_90a's wgmma).
      **kwargs: passed to the cc_library (visibility, testonly, ...).
    """
    cuda_objects(
        name = name + "_nvcc",
        srcs = srcs,
        hdrs = hdrs,
        deps = deps + ["@cuda//:headers"],
        copts = copts,
        arch_flags = arch_flags,
        testonly = kwargs.get("testonly", False),
        tags = ["manual"],  # built only through the library, when it compiles with nvcc
    )
    cuda_emulated_sources(
        name = name + "_emulated",
        srcs = srcs,
        testonly = kwargs.get("testonly", False),
        tags = ["manual"],  # built only through the library, when it runs on the emulator
    )
    native.cc_library(
        name = name,
        srcs = cuda_select(
            emulated = [":" + name + "_emulated"],
            nvcc = [":" + name + "_nvcc"],
        ),
        hdrs = hdrs,
        copts = cuda_select(emulated = EMULATOR_COPTS, nvcc = []),
        deps = deps + ["//tools:cudart"],
        alwayslink = True,
        linkstatic = True,
        **kwargs
    )

def cuda_emulated_library(name, srcs, hdrs = [], deps = [], **kwargs):
    """A cuda_library that is always compiled for the CPU emulator (its own tests).

    Args:
      name: the library's name.
      srcs: .cu files.
      hdrs: headers.
      deps: cc_library dependencies.
      **kwargs: passed to the cc_library (visibility, testonly, ...).
    """
    cuda_emulated_sources(
        name = name + "_emulated",
        srcs = srcs,
        testonly = kwargs.get("testonly", False),
    )
    native.cc_library(
        name = name,
        srcs = [":" + name + "_emulated"],
        hdrs = hdrs,
        copts = EMULATOR_COPTS,
        deps = deps + EMULATOR_DEPS,
        alwayslink = True,
        linkstatic = True,
        **kwargs
    )
