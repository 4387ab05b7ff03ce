"""Chapter 10: what the measuring scripts share.

versus_pytorch.py (ours against PyTorch), side_by_side.py (builds of ours
against each other) and profile_shares.py (where a step's time goes) all say
on which CPU they measured, from Linux's /proc/cpuinfo, and all start the
programs they measure the same way: in an environment cleared of the OpenMP
and OpenBLAS settings a shell may carry, their OpenMP threads spinning as
long as ours do (spin_waiting.h), and a failure reported with how the
program ended and what it said. All write their report as a pair of files:
markdown to read, JSON to compute with. And the two that compare say how
sure a ratio is from the rounds that measured it (median_interval).
"""
import functools
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import typing


def cpu_name():
    """The CPU's model name ("AMD EPYC 7B13", "Intel(R) Xeon(R) Processor")."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags(cpuinfo):
    """The flags that every processor in a file in /proc/cpuinfo's format lists."""
    with open(cpuinfo) as f:
        per_processor = [set(line.split(":", 1)[1].split()) for line in f
                         if line.startswith("flags")]
    return set.intersection(*per_processor) if per_processor else set()


@functools.cache
def spin_polls():
    """GOMP_SPINCOUNT as the programs set it: kSpinPolls in spin_waiting.h (a data file)."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spin_waiting.h")
    with open(header) as f:
        for line in f:
            if "kSpinPolls = " in line:
                return line.split('"')[1]
    raise SystemExit(f"measuring: no kSpinPolls in {header}")


def clean_env(blas_threads=None, coretype="unset"):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE",
                        "OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    if blas_threads is not None:
        env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    if coretype != "unset":
        env["OPENBLAS_CORETYPE"] = coretype
    # Both sides' OpenMP threads spin as long before they sleep (spin_waiting.h):
    # PyTorch's OpenMP pool gets the same setting as ours.
    env["GOMP_SPINCOUNT"] = spin_polls()
    return env


class RunFailed(Exception):
    """A measured program exited with an error or was killed by a signal, or printed no JSON."""

    def __init__(self, command, returncode, status, output):
        super().__init__(f"{' '.join(command)}: {status}\n{output}")
        self.returncode, self.status, self.output = returncode, status, output


def exit_status(returncode):
    """A subprocess returncode in words: -N means killed by signal N."""
    if returncode < 0:
        return f"killed by signal {-returncode} ({signal.strsignal(-returncode)})"
    return f"exit status {returncode}"


def run_measured(command, env, cpus=None):
    """Runs command (on those CPUs only, when given); its finished process, or RunFailed."""
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True,
                          preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    if done.returncode != 0:
        raise RunFailed(command, done.returncode, exit_status(done.returncode), done.stderr)
    return done


def probe_peak(peak_flops):
    """One probe of the FMA peak: peak_flops' JSON (peak_gflops_1_thread,
    peak_gflops_all on threads_all threads)."""
    return json_lines([peak_flops, "--json"], clean_env())[0]


def user_path(path):
    """A path from the command line: a relative one is relative to the directory
    `bazel run` was started from."""
    return os.path.join(os.environ.get("BUILD_WORKING_DIRECTORY", os.getcwd()), path)


def write_report(directory, name, markdown, record):
    """DIRECTORY/NAME.md and DIRECTORY/NAME.json; returns DIRECTORY/NAME."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, name)
    with open(path + ".md", "w") as f:
        f.write(markdown)
    with open(path + ".json", "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")
    return path


def json_lines(command, env, cpus=None):
    """Runs command; returns the JSON objects it printed, one per line, or raises RunFailed."""
    done = run_measured(command, env, cpus)
    lines = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
    if not lines:
        raise RunFailed(command, 0, "printed no JSON", done.stdout + done.stderr)
    return lines


class MedianInterval(typing.NamedTuple):
    median: float
    low: float
    high: float
    confidence: float  # that [low, high] holds the true median


def median_interval(values, confidence=0.95):
    """MedianInterval(median, low, high, coverage): the median of `values` and the
    range between two of them, in sorted order, that holds the median of what they were
    drawn from with at least `confidence`, whatever that distribution (the sign test's
    interval: the true median lies below exactly j of n draws with probability
    C(n, j) / 2^n). The narrowest such range, or, when too few values allow none (fewer
    than 6 for 95%), their whole range and the lower confidence it has."""
    ordered = sorted(values)
    n = len(ordered)

    def coverage(k):  # of the range ordered[k] .. ordered[n - 1 - k]
        return 1 - 2 * sum(math.comb(n, j) for j in range(k + 1)) / 2 ** n

    k = 0
    while k + 1 <= n - 2 - k and coverage(k + 1) >= confidence:
        k += 1
    return MedianInterval(statistics.median(ordered), ordered[k], ordered[n - 1 - k], coverage(k))


def interval_text(interval, digits=3, times="×"):
    """A MedianInterval (or its dict, as a report's JSON keeps it) as a report shows it:
    1.012× (0.993–1.031), its confidence added when below 95%; "—" for a single value,
    which has no range."""
    if interval is None or interval["confidence"] <= 0:
        return "—"
    text = f"{interval['median']:.{digits}f}{times} ({interval['low']:.{digits}f}–" \
           f"{interval['high']:.{digits}f}"
    if interval["confidence"] < 0.95:
        text += f", {100 * interval['confidence']:.0f}%"
    return text + ")"
