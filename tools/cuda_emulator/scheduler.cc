// tools/cuda_emulator/scheduler.cc — a grid of GPU threads, run one at a time on the CPU.
//
// The blocks of a grid run one after the other. Inside a block every emulated
// thread runs until it reaches a barrier or returns, then the next one runs:
//   - __syncthreads: a thread waits until every thread of its block has
//     arrived at the same __syncthreads; the last one to arrive goes on, and
//     the others follow in the order they arrived;
//   - warp operations (shuffles, __syncwarp): the same, for the lanes named
//     in the mask; each lane deposits its value, and after the last arrival
//     every lane reads what it asked for (warp_exchange).
// The order is fixed (thread 0 first, then 1, ...), so a run is deterministic,
// and a missing barrier shows: thread 0 runs ahead and reads what nobody has
// written yet. A barrier that cannot complete (some threads returned, or wait
// at another barrier) stops the program with the kernel and block named.
//
// Threads run on Fibers (fiber.h). A fiber runs threads one after another
// until one of them waits: a kernel without barriers runs a whole block on
// one fiber, with two switches per block instead of two per thread. A thread
// that waits switches straight to the next one that can run (switch_away),
// and only when none can does control return to the launch (run_block).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "tools/cuda_emulator/emulator.h"
#include "tools/cuda_emulator/fiber.h"
#include "tools/cuda_emulator/runtime_state.h"

// The built-in variables (emulator.h), for the emulated thread that runs now.
uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;

namespace gpt_emu {

void* dynamic_shared_memory = nullptr;

namespace {

thread_local bool inside_kernel = false;  // this OS thread runs a kernel now

// A fiber's stack. Kernels keep their "registers" (a few KiB of local arrays
// at most) there; AddressSanitizer's larger frames fit too. Pages are only
// touched when used.
constexpr size_t kStackBytes = 256 * 1024;

struct Worker;

// A warp's exchange point (shuffles and __syncwarp).
struct Warp {
  unsigned present = 0;    // the lanes this block has (the last warp may be short)
  unsigned arrived = 0;    // lanes that have deposited in this generation
  unsigned mask = 0;       // the mask of this generation's exchange
  unsigned generation = 0;
  Site site{};
  // Two generations of values: a lane writes generation g + 2 only after every
  // lane has passed generation g + 1, so nobody still reads generation g's.
  uint64_t values[2][32];
  std::vector<Worker*> waiting;
};

struct Worker {
  std::unique_ptr<Fiber> fiber;
  int thread = -1;  // the emulated thread it runs, -1 when idle
};

// What runs now: one launch, one block.
struct State {
  std::mutex launch_mutex;  // one launch at a time, whichever OS thread launches
  bool running = false;
  const LaunchConfig* config = nullptr;
  void (*body)(void*) = nullptr;
  void* context = nullptr;

  int threads = 0;      // per block
  int next_thread = 0;  // the first thread of the block not started yet
  int finished = 0;
  std::vector<Worker*> ready;  // released from a barrier, in the order they waited
  size_t ready_head = 0;       // ready[ready_head] runs next

  int arrived = 0;  // at the block's barrier
  Site barrier_site{};
  std::vector<Worker*> at_barrier;
  std::vector<Warp> warps;
  int warps_used = 0;

  Fiber launcher;  // the OS thread's stack, where run_grid waits for each block
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<Worker*> idle;
  Worker* current = nullptr;
};

// Created by the first launch (never destroyed: fibers may outlive static
// destructors). Barriers and warp operations, which only run inside a
// launch, read the pointer without the guard of a function-local static.
State* the_state = nullptr;

State& launch_state() {
  static State* const s = the_state = new State;
  return *s;
}

inline State& state() { return *the_state; }

bool in_launch() { return the_state != nullptr && the_state->running; }

void set_thread_index(int t) {
  threadIdx.x = static_cast<unsigned>(t) % blockDim.x;
  threadIdx.y = static_cast<unsigned>(t) / blockDim.x % blockDim.y;
  threadIdx.z = static_cast<unsigned>(t) / (blockDim.x * blockDim.y);
}

// Continues whatever can run, on a fiber whose thread cannot go on (it waits
// at a barrier, or it has none): a thread released from a barrier, else a
// thread not started yet, else — the block is done, or stuck — the launch.
// Returns when some fiber switches back to `self`.
void switch_away(Worker* self);

// Every fiber runs this: it takes the block's threads that have not started,
// one after another, and switches away when there are none left.
void worker_main() {
  State& s = state();
  Worker* const self = s.current;
  for (;;) {
    while (s.next_thread < s.threads) {
      const int t = s.next_thread++;
      self->thread = t;
      set_thread_index(t);
      s.body(s.context);
      ++s.finished;
    }
    self->thread = -1;
    s.idle.push_back(self);
    switch_away(self);
  }
}

Worker* idle_worker() {
  State& s = state();
  if (s.idle.empty()) {
    s.workers.push_back(std::make_unique<Worker>());
    s.workers.back()->fiber = std::make_unique<Fiber>(&worker_main, kStackBytes);
    return s.workers.back().get();
  }
  Worker* w = s.idle.back();
  s.idle.pop_back();
  return w;
}

void switch_away(Worker* self) {
  State& s = state();
  Fiber* next = &s.launcher;
  if (s.ready_head < s.ready.size()) {
    Worker* w = s.ready[s.ready_head++];
    if (s.ready_head == s.ready.size()) s.ready.clear(), s.ready_head = 0;
    s.current = w;
    set_thread_index(w->thread);
    next = w->fiber.get();
  } else if (s.next_thread < s.threads) {
    Worker* w = idle_worker();
    s.current = w;
    next = w->fiber.get();
  }
  self->fiber->switch_to(*next);
}

std::string describe(Site site) { return std::string(site.file) + ":" + std::to_string(site.line); }

std::string where_running() {
  const State& s = state();
  char line[512];
  std::snprintf(line, sizeof line, "kernel %s (launched at %s:%d), block (%u, %u, %u)",
                s.config->kernel, s.config->file, s.config->line, blockIdx.x, blockIdx.y,
                blockIdx.z);
  return line;
}

// No thread can run, yet some have not finished: say who waits where.
[[noreturn]] void deadlock() {
  State& s = state();
  std::string waits;
  if (!s.at_barrier.empty()) {
    waits += "\n  " + std::to_string(s.at_barrier.size()) + " of " + std::to_string(s.threads) +
             " threads wait at __syncthreads (" + describe(s.barrier_site) + ")";
  }
  for (int w = 0; w < s.warps_used; ++w) {
    const Warp& warp = s.warps[w];
    if (warp.waiting.empty()) continue;
    char line[256];
    std::snprintf(line, sizeof line,
                  "\n  warp %d: lanes 0x%08x wait at a warp operation (%s) with mask 0x%08x",
                  w, warp.arrived, describe(warp.site).c_str(), warp.mask);
    waits += line;
  }
  std::fprintf(stderr,
               "gpt_emu: %s can never finish: %d of %d threads have returned and the rest wait:%s\n"
               "gpt_emu: every thread of a block must reach the same __syncthreads (every lane in "
               "a mask, the same warp operation); a barrier in divergent code hangs a GPU.\n",
               where_running().c_str(), s.finished, s.threads, waits.c_str());
  std::fflush(stderr);
  std::abort();
}

void run_block() {
  State& s = state();
  s.next_thread = 0;
  s.finished = 0;
  s.arrived = 0;
  s.at_barrier.clear();
  s.ready.clear();
  s.ready_head = 0;
  s.warps_used = (s.threads + 31) / 32;
  if (static_cast<int>(s.warps.size()) < s.warps_used) s.warps.resize(s.warps_used);
  for (int w = 0; w < s.warps_used; ++w) {
    Warp& warp = s.warps[w];
    const int lanes = std::min(32, s.threads - 32 * w);
    warp.present = lanes == 32 ? 0xffffffffu : (1u << lanes) - 1;
    warp.arrived = warp.mask = warp.generation = 0;
    warp.waiting.clear();
  }
  Worker* first = idle_worker();
  s.current = first;
  s.launcher.switch_to(*first->fiber);
  // Back here: no thread can run any more.
  if (s.finished != s.threads) deadlock();
}

bool check_config(const LaunchConfig& c, const void* kernel) {
  const dim3 b = c.block, g = c.grid;
  const unsigned long long threads = 1ull * b.x * b.y * b.z;
  char why[256];
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.x > 1024 || b.y > 1024 || b.z > 64 ||
      threads > kMaxThreadsPerBlock) {
    std::snprintf(why, sizeof why,
                  "a block of (%u, %u, %u) threads: at most (1024, 1024, 64) and 1024 in all", b.x,
                  b.y, b.z);
    launch_error(c, cudaErrorInvalidConfiguration, why);
    return false;
  }
  if (g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u || g.y > 65535 || g.z > 65535) {
    std::snprintf(why, sizeof why,
                  "a grid of (%u, %u, %u) blocks: each at least 1, at most (2^31 - 1, 65535, 65535)",
                  g.x, g.y, g.z);
    launch_error(c, cudaErrorInvalidConfiguration, why);
    return false;
  }
  const size_t limit = max_dynamic_shared(kernel);
  if (c.shared_bytes > limit) {
    std::snprintf(why, sizeof why,
                  "%zu bytes of dynamic shared memory, more than the %zu allowed (above 48 KiB a "
                  "kernel must first ask with cudaFuncSetAttribute)",
                  c.shared_bytes, limit);
    launch_error(c, cudaErrorInvalidValue, why);
    return false;
  }
  return true;
}

}  // namespace

void launch_error(const LaunchConfig& c, cudaError_t error, const char* why) {
  std::fprintf(stderr, "gpt_emu: launch of %s at %s:%d fails (%s): %s\n", c.kernel, c.file, c.line,
               cudaGetErrorName(error), why);
  record(error);
}

void run_grid(const LaunchConfig& config, const void* kernel, void (*body)(void*), void* context) {
  announce();
  if (inside_kernel) fail("a kernel launch from inside a kernel (not emulated)", {config.file, config.line});
  State& s = launch_state();
  std::lock_guard<std::mutex> lock(s.launch_mutex);
  if (!check_config(config, kernel)) return;
  inside_kernel = true;
  s.running = true;
  s.config = &config;
  s.body = body;
  s.context = context;
  gridDim = config.grid;
  blockDim = config.block;
  s.threads = static_cast<int>(config.block.x * config.block.y * config.block.z);
  // Dynamic shared memory, exactly as large as asked (so that ASan sees an
  // overrun), refilled with NaN bytes for every block: a block that reads
  // what it never wrote reads NaN, as it would read garbage on a GPU.
  void* shared = nullptr;
  if (config.shared_bytes > 0) shared = ::operator new(config.shared_bytes, std::align_val_t(128));
  dynamic_shared_memory = shared;
  for (unsigned z = 0; z < config.grid.z; ++z) {
    for (unsigned y = 0; y < config.grid.y; ++y) {
      for (unsigned x = 0; x < config.grid.x; ++x) {
        blockIdx = make_uint3(x, y, z);
        if (shared != nullptr) std::memset(shared, 0xff, config.shared_bytes);
        run_block();
      }
    }
  }
  if (shared != nullptr) ::operator delete(shared, std::align_val_t(128));
  dynamic_shared_memory = nullptr;
  s.running = false;
  inside_kernel = false;
  s.config = nullptr;
}

void syncthreads(Site site) {
  if (!in_launch()) fail("__syncthreads outside a kernel", site);
  State& s = state();
  if (s.arrived == 0) {
    s.barrier_site = site;
  } else if (s.barrier_site.line != site.line ||
             (s.barrier_site.file != site.file && std::strcmp(s.barrier_site.file, site.file) != 0)) {
    const std::string message = "threads wait at two different __syncthreads at once (" +
                                describe(s.barrier_site) + " and " + describe(site) +
                                "): a barrier in divergent code";
    fail(message.c_str(), site);
  }
  if (++s.arrived == s.threads) {  // the last one: everyone goes on, this one first
    s.arrived = 0;
    s.ready.insert(s.ready.end(), s.at_barrier.begin(), s.at_barrier.end());
    s.at_barrier.clear();
    return;
  }
  Worker* self = s.current;
  s.at_barrier.push_back(self);
  switch_away(self);
}

const uint64_t* warp_exchange(unsigned mask, uint64_t value, Site site) {
  if (!in_launch()) fail("a warp operation outside a kernel", site);
  State& s = state();
  Worker* self = s.current;
  const int lane = self->thread % 32;
  Warp& warp = s.warps[self->thread / 32];
  if (!(mask >> lane & 1u)) fail("a lane calls a warp operation whose mask leaves it out", site);
  if ((mask & ~warp.present) != 0) {
    fail("a warp operation's mask names lanes this block does not have (is blockDim a multiple "
         "of 32?)",
         site);
  }
  if (warp.arrived == 0) {
    warp.mask = mask;
    warp.site = site;
  } else if (warp.mask != mask) {
    fail("lanes of one warp wait at warp operations with different masks (not emulated)", site);
  }
  uint64_t* values = warp.values[warp.generation & 1u];
  values[lane] = value;
  warp.arrived |= 1u << lane;
  if (warp.arrived == mask) {  // the last lane: the exchange is complete
    warp.arrived = 0;
    ++warp.generation;
    s.ready.insert(s.ready.end(), warp.waiting.begin(), warp.waiting.end());
    warp.waiting.clear();
    return values;
  }
  warp.waiting.push_back(self);
  switch_away(self);
  return values;
}

void fail(const char* message, Site site) {
  std::string where = "(not in a kernel)";
  if (in_launch()) {
    char thread[96];
    std::snprintf(thread, sizeof thread, ", thread (%u, %u, %u)", threadIdx.x, threadIdx.y,
                  threadIdx.z);
    where = where_running() + thread;
  }
  std::fprintf(stderr, "gpt_emu: %s\n  at %s\n  in %s\n", message, describe(site).c_str(),
               where.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace gpt_emu
