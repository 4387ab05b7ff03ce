// chapters/10_fast_cpu/free_cores.cc — reading the kernel's CPU accounting (free_cores.h).
#include "chapters/10_fast_cpu/free_cores.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace gpt {

namespace {

constexpr double kMeasureEvery = 0.2;  // seconds between two readings
constexpr double kTakenAt = 0.4;       // a core others use this much of counts as taken

double rusage_seconds(const timeval& t) { return double(t.tv_sec) + 1e-6 * double(t.tv_usec); }

}  // namespace

double monotonic_seconds() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

CpuTimes read_cpu_times() {
  CpuTimes times;
  times.wall = monotonic_seconds();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  times.ours = rusage_seconds(usage.ru_utime) + rusage_seconds(usage.ru_stime);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return times;
  // /proc/stat: "cpuN user nice system idle iowait irq softirq steal ..." in
  // clock ticks. Busy is everything but idle and iowait, and but nice unless
  // we are niced ourselves (niced processes give way to ours); steal (time
  // the hypervisor gave another machine) is busy too: that core was not ours.
  const bool niced = getpriority(PRIO_PROCESS, 0) > 0;
  std::ifstream stat("/proc/stat");
  const double tick = 1.0 / double(sysconf(_SC_CLK_TCK));
  std::string line;
  while (std::getline(stat, line)) {
    if (line.rfind("cpu", 0) != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream fields(line.substr(3));
    int cpu = -1;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    fields >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    if (!fields || cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) continue;
    times.all_busy += tick * (user + (niced ? nice : 0.0) + system + irq + softirq + steal);
    times.cpus += 1;
  }
  times.known = times.cpus > 0;
  return times;
}

int threads_for(const CpuTimes& before, const CpuTimes& after, int max_threads) {
  max_threads = std::max(1, max_threads);
  const double wall = after.wall - before.wall;
  if (!before.known || !after.known || wall <= 0) return max_threads;
  const double others = std::max(0.0, (after.all_busy - before.all_busy) -
                                          (after.ours - before.ours)) / wall;  // cores
  const int taken = static_cast<int>(std::floor(others + (1.0 - kTakenAt)));
  return std::clamp(after.cpus - taken, 1, max_threads);
}

FreeCores::FreeCores(std::function<CpuTimes()> read, std::function<double()> now)
    : read_(std::move(read)), now_(std::move(now)) {}

int FreeCores::threads(int max_threads) {
  max_threads = std::max(1, max_threads);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!measured_) {  // the first call: nothing to compare with yet, so all of them
    last_ = read_();
    measured_ = true;
    free_ = max_threads;
    return free_;
  }
  if (now_() - last_.wall >= kMeasureEvery) {  // else the last answer stands
    const CpuTimes current = read_();
    free_ = threads_for(last_, current, current.cpus > 0 ? current.cpus : max_threads);
    last_ = current;
  }
  return std::min(free_, max_threads);
}

FreeCores& FreeCores::process() {
  static FreeCores shared;
  return shared;
}

int free_core_threads(int max_threads) {
  static const bool pinned = std::getenv("OMP_PROC_BIND") != nullptr ||
                             std::getenv("OMP_PLACES") != nullptr ||
                             std::getenv("GOMP_CPU_AFFINITY") != nullptr;
  return pinned ? max_threads : FreeCores::process().threads(max_threads);
}

}  // namespace gpt
