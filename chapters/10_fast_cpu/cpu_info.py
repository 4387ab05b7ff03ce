"""Chapter 10: what this machine's CPU is, for the benchmark scripts' reports.

versus_pytorch.py and side_by_side.py both say on which CPU they measured,
and which instruction sets it has: its model name and its flags, as Linux's
/proc/cpuinfo lists them.
"""
import platform


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
