"""cuda_library: compile .cu files with nvcc and link them like any C++ code.

Bazel 4 has no CUDA rules of its own. This file adds the smallest thing that
works: one nvcc action per .cu file producing a position-independent object,
wrapped in an ordinary cc_library so that C++ targets depend on it as usual.
"""

NVCC = "/usr/local/cuda/bin/nvcc"

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
        args.add_all(CUDA_ARCH_FLAGS)
        args.add_all(["-I.", "-I" + ctx.bin_dir.path])
        args.add_all(include_dirs, before_each = "-isystem")
        args.add_all(ctx.attr.copts)
        ctx.actions.run(
            executable = NVCC,
            arguments = [args],
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
    },
)

def cuda_library(name, srcs, hdrs = [], deps = [], copts = [], **kwargs):
    """A cc_library whose .cu sources are compiled by nvcc.

    Args:
      name: the library's name.
      srcs: .cu files.
      hdrs: headers, usable from both .cu and .cc files.
      deps: cc_library dependencies (their headers are visible to nvcc).
      copts: extra nvcc flags.
      **kwargs: passed to the cc_library (visibility, testonly, ...).
    """
    cuda_objects(
        name = name + "_nvcc",
        srcs = srcs,
        hdrs = hdrs,
        deps = deps + ["@cuda//:headers"],
        copts = copts,
        testonly = kwargs.get("testonly", False),
    )
    native.cc_library(
        name = name,
        srcs = [":" + name + "_nvcc"],
        hdrs = hdrs,
        deps = deps + ["@cuda//:cudart"],
        alwayslink = True,
        linkstatic = True,
        **kwargs
    )
