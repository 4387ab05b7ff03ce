// chapters/10_fast_cpu/free_cores.h — as many threads as the rest of the machine leaves cores.
//
// A learner's machine is seldom idle. When another process keeps one of two
// cores busy, a thread of ours on that core gets about half of it, and at
// every barrier (hundreds per training step, about forty per generated token)
// our other thread waits for it: the step runs at the speed of the slowest
// thread, and worse, since the waiting thread holds a core it cannot use.
// One thread on the free core does better: no barriers, a whole core.
//
// So an engine told to adapt (chapter 10's device for the programs, whenever
// no thread count is given) asks, before each training step and each
// generated token, how many threads to run. The answer comes from the kernel's own accounting:
// the CPU time all processes spent on the cores this process may run on
// (/proc/stat), less what this process spent (getrusage), over the wall time
// since the last look, is how many cores the others kept busy. A core counts
// as taken when others used at least 0.4 of it; the rest, at least one and at
// most the engine's maximum, is the answer. It is measured again at most
// every 200 ms: in between, the last answer stands. Niced processes (a
// background indexer, a `nice make`) do not count: they give way to ours.
// Where the user pins OpenMP's threads to cores (OMP_PROC_BIND, OMP_PLACES,
// GOMP_CPU_AFFINITY) the engine keeps the count it was given.
//
// The number of threads never changes a result: each op gives every number to
// one thread, which computes it in the same order whatever the count
// (row_loops.h, matvec.cc), so the count may change from one step to the next.
#pragma once

#include <functional>
#include <mutex>

namespace gpt {

// What the kernel says the machine's CPUs did, in seconds of CPU time.
struct CpuTimes {
  double all_busy = 0;   // processes of our priority or higher on the CPUs we may run on
  double ours = 0;       // this process (getrusage), all its threads
  double wall = 0;       // seconds on a monotonic clock
  int cpus = 0;          // the CPUs we may run on (sched_getaffinity)
  bool known = false;    // false where /proc/stat cannot be read: assume an idle machine
};
CpuTimes read_cpu_times();
double monotonic_seconds();  // CpuTimes::wall's clock

// Threads to run between two readings: max_threads less the cores others kept
// busy, at least 1. Pure arithmetic, for the tests.
int threads_for(const CpuTimes& before, const CpuTimes& after, int max_threads);

class FreeCores {
 public:
  // read: where readings come from; now: the clock their wall times are on
  // (a test hands in made-up ones).
  explicit FreeCores(std::function<CpuTimes()> read = read_cpu_times,
                     std::function<double()> now = monotonic_seconds);

  // Threads to run now, 1..max_threads. Thread-safe; cheap between measurements.
  int threads(int max_threads);

  // The one every engine of this process shares.
  static FreeCores& process();

 private:
  std::function<CpuTimes()> read_;
  std::function<double()> now_;
  std::mutex mutex_;
  bool measured_ = false;
  CpuTimes last_;  // the last reading
  int free_ = 1;   // cores the others left free at the last reading
};

// FreeCores::process().threads(max_threads), or max_threads where the user
// pinned OpenMP's threads.
int free_core_threads(int max_threads);

}  // namespace gpt
