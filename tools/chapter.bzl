"""The chapter pattern as Bazel macros: a library with an exercise, its tests,
proof that the exercise fails those tests, and the lesson's code-quote check.

In a chapter's BUILD:

    chapter_library(
        name = "tokens",
        srcs = ["encode_decode.cc", ...],
        exercises = {"encode_decode.cc": "encode_decode_exercise.cc"},
        ...
    )
    chapter_test(name = "tokens_test", srcs = [...], library = ":tokens")
    lesson_test()
"""

def _exercise_settings():
    """The config_settings that switch this package's chapter to its exercise."""
    chapter = native.package_name().split("/")[-1]
    return ["//tools:exercise", "//tools:exercise_" + chapter]

def chapter_library(name, srcs, hdrs, exercises = {}, deps = [], **kwargs):
    """A cc_library that compiles the learner's files in exercise mode:
    --define=exercise=NN_name for this chapter, or --config=exercise for all.

    Args:
      name: the library; also defines `name + "_exercise"`, always the learner's version.
      srcs: the solution's sources.
      hdrs: public headers, shared by the solution and the exercise.
      exercises: {solution source: learner's stub} for the functions the learner writes.
      deps: dependencies.
      **kwargs: passed to cc_library.
    """
    learner = [exercises.get(s, s) for s in srcs]
    for solution in exercises:
        if solution not in srcs:
            fail("exercise for %s, which is not among srcs" % solution)
    choice = {setting: learner for setting in _exercise_settings()}
    choice["//conditions:default"] = srcs
    native.cc_library(
        name = name,
        srcs = select(choice),
        hdrs = hdrs,
        deps = deps,
        **kwargs
    )
    if exercises:
        native.cc_library(
            name = name + "_exercise",
            testonly = True,
            srcs = learner,
            hdrs = hdrs,
            deps = deps,
            **kwargs
        )

def chapter_test(name, srcs, library, deps = [], data = [], size = "small", **kwargs):
    """A GoogleTest test of `library`, plus `name + "_fails_on_exercise"`.

    The second test links the same test code against the untouched exercise
    stubs and passes only if GoogleTest reports failures: a test that cannot
    fail would be a defect. In this chapter's exercise mode it stands aside
    (the learner's stubs are no longer untouched, and should pass). Tagged
    "exercise_check".
    """
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = [library] + deps + ["@system//:gtest_main"],
        data = data,
        size = size,
        **kwargs
    )
    native.cc_binary(
        name = name + "_on_exercise",
        testonly = True,
        srcs = srcs,
        deps = [library + "_exercise"] + deps + ["@system//:gtest_main"],
        data = data,
    )
    stand_aside = {setting: ["--exercise-mode"] for setting in _exercise_settings()}
    stand_aside["//conditions:default"] = ["$(rootpath :%s_on_exercise)" % name]
    native.sh_test(
        name = name + "_fails_on_exercise",
        srcs = ["//tools:expect_test_failure.sh"],
        args = select(stand_aside),
        data = [":%s_on_exercise" % name] + data,
        size = size,
        tags = ["exercise_check"],
    )

def gpu_fails_on_exercise(name, binary):
    """A CUDA chapter's `name`: passes only if `binary` (its GPU tests built
    against the untouched exercise) reports failed tests.

    The binary's tests run on a GPU, or on the CPU emulator (tools/cuda_emulator)
    where the build is emulated, the default without a GPU (tools/cuda.bzl).
    An nvcc build on a machine without a GPU cannot run them: its GPU tests
    fail saying so (common/testing/gpu.h), and this check fails too, saying it
    proved nothing, rather than counting those failures. Tagged "gpu_exercise".
    It stands aside in the chapter's exercise mode, like chapter_test's check.
    """
    stand_aside = {setting: ["--exercise-mode"] for setting in _exercise_settings()}
    stand_aside["//conditions:default"] = ["$(rootpath %s)" % binary]
    native.sh_test(
        name = name,
        srcs = ["//tools:expect_test_failure.sh"],
        args = select(stand_aside),
        data = [binary],
        size = "medium",
        tags = ["gpu_exercise"],
    )

def gpu_chapter_test(name, srcs, library, exercise_library, deps = [], size = "small"):
    """A CUDA chapter's GPU tests of `library`, and their check on the exercise.

    The CUDA twin of chapter_test: `name` (tagged "gpu") runs the tests on the
    GPU, or on the CPU emulator where the build is emulated; `name +
    "_on_exercise"` (tagged "gpu_run", for the GPU bundle) is the same tests
    linked against `exercise_library`, the untouched stubs; and `name +
    "_fails_on_exercise"` passes only if that binary's tests fail
    (gpu_fails_on_exercise). An nvcc build on a machine without a GPU cannot
    run them: there every test fails, printing why.
    """
    native.cc_test(
        name = name,
        size = size,
        srcs = srcs,
        tags = ["gpu"],
        deps = [library] + deps,
    )
    native.cc_binary(
        name = name + "_on_exercise",
        testonly = True,
        srcs = srcs,
        tags = ["gpu_run"],
        deps = [exercise_library] + deps,
    )
    gpu_fails_on_exercise(
        name = name + "_fails_on_exercise",
        binary = ":%s_on_exercise" % name,
    )

def lesson_test(name = "lesson_test", extra_sources = []):
    """Checks that every code block the chapter's README quotes matches the source."""
    native.sh_test(
        name = name,
        srcs = ["//tools:lesson_quotes_test.sh"],
        args = [native.package_name()],
        data = ["README.md", "//tools:lesson_quotes.py"] + extra_sources + native.glob(
            ["*.h", "*.cc", "*.cu", "*.cuh", "*.py", "BUILD", "results/**/*.md"],
        ),
        size = "small",
    )
