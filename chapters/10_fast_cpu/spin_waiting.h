// chapters/10_fast_cpu/spin_waiting.h — how long OpenMP's threads spin before they sleep.
//
// A fast step opens hundreds of short parallel regions and barriers (every
// matrix product, every row-wise op), and generating one token crosses about
// forty barriers (kv_cache.cc). A thread that arrives early waits: it can spin (poll a
// flag, ready the moment the others arrive) or sleep in the kernel (free its
// core, but pay tens of microseconds to wake). GNU OpenMP spins for a number
// of polls, GOMP_SPINCOUNT, then sleeps: 300,000 polls by default, which
// OMP_WAIT_POLICY=active raises to 30 billion (minutes: spin for good) and
// OMP_WAIT_POLICY=passive lowers to 0.
//
// Neither extreme suits a learner's machine. Sleeping at once halved the
// training step and left batch-1 generation a third of its speed on an idle
// 2-core Xeon; spinning for good kept, beside one busy process, 28-45% of
// the idle speed, since a spinning thread holds a core the late one needs
// (busy_machine_bench measures both: results/busy_machine_avx512.md).
// The programs spin for 3,000,000 polls, then sleep: a poll is a `pause`
// instruction, 10-150 cycles by CPU, so that is milliseconds to a tenth of a
// second, ten times the default, enough for the gaps between regions on any
// CPU, and bounded. On a busy machine the engine runs fewer threads as well
// (free_cores.h).
//
// OpenMP reads these settings once, before main() runs. So a program that
// was given neither restarts itself once with GOMP_SPINCOUNT set; an
// OMP_WAIT_POLICY or GOMP_SPINCOUNT given by the user is left as it is.
#pragma once

#include <unistd.h>

#include <cstdlib>

namespace gpt {

inline constexpr const char* kSpinPolls = "3000000";

inline void ensure_bounded_spinning(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr) {
    return;
  }
  setenv("GOMP_SPINCOUNT", kSpinPolls, 1);
  execv("/proc/self/exe", argv);  // returns only if the restart failed: go on as we are
}

}  // namespace gpt
