"""The chapter pattern as Bazel macros: a library with exercises, its tests,
proof that each exercise's stub fails those tests, and the lesson's check.

In a chapter's BUILD:

    chapter_library(
        name = "tokens",
        srcs = ["encode_decode.cc", ...],
        exercises = {"encode_decode.cc": "encode_decode_exercise.cc"},
        ...
    )
    chapter_test(name = "tokens_test", srcs = [...], library = ":tokens",
                 exercises = ["encode_decode"])
    lesson_test()

An exercise is named after its stub without `_exercise`; the learner switches
it alone with --define=exercise=01_tokens/encode_decode, the whole chapter
with --define=exercise=01_tokens, or every chapter with --config=exercise.
"""

def _chapter():
    return native.package_name().split("/")[-1]

def exercise_name(stub):
    """A stub's exercise name: "layernorm_backward_exercise.cc" -> "layernorm_backward"."""
    base = stub.split("/")[-1]
    return _strip_suffix(base[:base.rfind(".")], "_exercise")

def _strip_suffix(text, suffix):
    if not text.endswith(suffix):
        fail("an exercise stub's name ends in _exercise: %s" % text)
    return text[:len(text) - len(suffix)]

def _exercise_settings(names = []):
    """The config_settings that switch this package to the learner's files:
    every chapter (--config=exercise), this chapter (--define=exercise=NN_name),
    or one of the exercises `names` (--define=exercise=NN_name/exercise)."""
    return ["//tools:exercise", "//tools:exercise_" + _chapter()] + [
        ":exercise_" + name
        for name in names
    ]

def _switched_here():
    """The exercises whose switches this package has declared so far."""
    return [
        name[len("exercise_"):]
        for name, rule in native.existing_rules().items()
        if rule["kind"] == "config_setting" and name.startswith("exercise_")
    ]

def exercise_switches(exercises):
    """Declares --define=exercise=NN_name/<exercise> for each exercise of this
    package ({solution file: stub file}); call once per package and exercise."""
    for stub in exercises.values():
        name = exercise_name(stub)
        native.config_setting(
            name = "exercise_" + name,
            define_values = {"exercise": _chapter() + "/" + name},
        )

def learner_or_solution(exercises, learner, solution):
    """select() of `learner` under any switch that covers one of `exercises`
    (all chapters, this chapter, or the exercise alone), else `solution`."""
    choice = {setting: learner for setting in _exercise_settings([exercise_name(s) for s in exercises.values()])}
    choice["//conditions:default"] = solution
    return select(choice)

def chapter_library(name, srcs, hdrs, exercises = {}, deps = [], **kwargs):
    """A cc_library that compiles the learner's files in exercise mode:
    --define=exercise=NN_name/<exercise> for one exercise (its stub's name
    without _exercise), --define=exercise=NN_name for the chapter, or
    --config=exercise for all.

    Args:
      name: the library. Also defines `name + "_stub_" + exercise`, one
        untouched stub on its own, linked whole over the solution by the
        checks that the tests fail on it (chapter_test, gpu_chapter_test).
      srcs: the solution's sources.
      hdrs: public headers, shared by the solution and the exercise.
      exercises: {solution source: learner's stub} for the functions the learner writes.
      deps: dependencies.
      **kwargs: passed to cc_library.
    """
    for solution in exercises:
        if solution not in srcs:
            fail("exercise for %s, which is not among srcs" % solution)
    exercise_switches(exercises)

    # Each exercise switches alone: one select() per solution file.
    chosen = [s for s in srcs if s not in exercises]
    for solution in sorted(exercises):
        chosen = chosen + learner_or_solution(
            {solution: exercises[solution]},
            [exercises[solution]],
            [solution],
        )
    native.cc_library(
        name = name,
        srcs = chosen,
        hdrs = hdrs,
        deps = deps,
        **kwargs
    )
    for stub in exercises.values():
        # Linked whole, so its definitions stand in for the solution's.
        native.cc_library(
            name = name + "_stub_" + exercise_name(stub),
            testonly = True,
            srcs = [stub],
            deps = [":" + name] + deps,
            alwayslink = True,
            **kwargs
        )

def chapter_test(name, srcs, library, exercises, deps = [], data = [], size = "small", **kwargs):
    """A GoogleTest test of `library`, and proof that it fails on each stub.

    For each exercise in `exercises` (the names of the library's exercises
    these tests check), `name + "_fails_on_" + exercise` links the same test
    code against the library with that one untouched stub in place of its
    solution (chapter_library's `_stub_` piece) and passes only if GoogleTest
    reports failures: a test that cannot fail would be a defect, and each
    exercise, switched alone, must be caught. The test code is compiled once
    (`name + "_cases"`) and linked into each. In exercise mode for this
    chapter or any of its exercises, the check stands aside (the learner's
    code is then under these tests, and should pass them). Tagged
    "exercise_check". Declare the library (chapter_library) first.
    """
    native.cc_library(
        name = name + "_cases",
        testonly = True,
        srcs = srcs,
        deps = [library] + deps + ["@system//:gtest"],
        alwayslink = True,
    )
    native.cc_test(
        name = name,
        deps = [":" + name + "_cases", "@system//:gtest_main"],
        data = data,
        size = size,
        **kwargs
    )
    for exercise in exercises:
        binary = "%s_on_%s_exercise" % (name, exercise)
        native.cc_binary(
            name = binary,
            testonly = True,
            deps = [":" + name + "_cases", library + "_stub_" + exercise, "@system//:gtest_main"],
            data = data,
        )
        # Any switch in this chapter puts learner's code under these tests:
        # the check stands aside rather than blame this stub for it.
        stand_aside = {setting: ["--exercise-mode"] for setting in _exercise_settings(_switched_here())}
        stand_aside["//conditions:default"] = ["$(rootpath :%s)" % binary]
        native.sh_test(
            name = "%s_fails_on_%s" % (name, exercise),
            srcs = ["//tools:expect_test_failure.sh"],
            args = select(stand_aside),
            data = [":" + binary] + data,
            size = size,
            tags = ["exercise_check"],
        )

def gpu_fails_on_exercise(name, binary, exercises = {}):
    """A CUDA chapter's `name`: passes only if `binary` (its GPU tests built
    against the untouched exercise) reports failed tests.

    The binary's tests run on a GPU, or on the CPU emulator (tools/cuda_emulator)
    where the build is emulated, the default without a GPU (tools/cuda.bzl).
    An nvcc build on a machine without a GPU cannot run them: its GPU tests
    fail saying so (common/testing/gpu.h), and this check fails too, saying it
    proved nothing, rather than counting those failures. Tagged "gpu_exercise".
    It stands aside in the chapter's exercise mode, like chapter_test's check.
    """
    names = [exercise_name(stub) for stub in exercises.values()]
    stand_aside = {setting: ["--exercise-mode"] for setting in _exercise_settings(names)}
    stand_aside["//conditions:default"] = ["$(rootpath %s)" % binary]
    native.sh_test(
        name = name,
        srcs = ["//tools:expect_test_failure.sh"],
        args = select(stand_aside),
        data = [binary],
        size = "medium",
        tags = ["gpu_exercise"],
    )

def gpu_chapter_test(name, srcs, library, exercise_library, exercises, deps = [], size = "small"):
    """A CUDA chapter's GPU tests of `library`, and their check on the exercise.

    The CUDA twin of chapter_test: `name` (tagged "gpu") runs the tests on the
    GPU, or on the CPU emulator where the build is emulated; `name +
    "_on_exercise"` (tagged "gpu_run", for the GPU bundle) is the same tests
    linked against `exercise_library`, the untouched stub; and `name +
    "_fails_on_exercise"` passes only if that binary's tests fail
    (gpu_fails_on_exercise), standing aside wherever one of `exercises` (the
    chapter's {solution: stub}) is switched to the learner's file. An nvcc
    build on a machine without a GPU cannot run them: there every test
    fails, printing why.
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
        exercises = exercises,
    )

def lesson_test(name = "lesson_test", extra_sources = []):
    """Checks the chapter's README (tools/lesson_quotes.py): every code block it
    quotes matches the source, every measurement it names is in a results file,
    exercise solutions stay folded and every exercise has its hints."""
    native.sh_test(
        name = name,
        srcs = ["//tools:lesson_quotes_test.sh"],
        args = [native.package_name()],
        data = [
            "//results:tables",
            "//tools:bench_table.py",
            "//tools:lesson_quotes.py",
        ] + extra_sources + native.glob(
            ["*.md", "*.h", "*.cc", "*.cu", "*.cuh", "*.py", "BUILD", "results/**/*.md", "results/**/*.txt", "results/**/*.json"],
        ),
        size = "small",
    )
