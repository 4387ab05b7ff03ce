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
// The order is fixed, so a run is deterministic: whenever a thread stops, the
// next to run is the lowest-numbered thread that can (thread 0, then 1, ...;
// after every barrier thread 0 again), and the blocks run in order of their
// index. With GPT_EMU_ORDER=reverse both orders are reversed (the last thread
// first, the last block first). A missing barrier then shows whenever a
// reader runs before its writer: thread 0 reading what others write is caught
// in the default order, every thread reading what thread 0 writes in the
// reverse one, so CI runs both (.ci/run). A barrier that cannot complete (some
// threads returned, or wait at another barrier) stops the program with the
// kernel and block named.
//
// Threads run on Fibers (fiber.h). A fiber runs threads one after another
// until one of them waits: a kernel without barriers runs a whole block on
// one fiber, with two switches per block instead of two per thread. A thread
// that waits switches straight to the next one that can run (switch_away),
// and only when none can does control return to the launch (run_block).
// A fiber also keeps its thread's pending cp.async copies (tensor_core.cc),
// and performs any still pending when the thread returns.
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
unsigned long long current_block = 0;

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
  int rank = 0;     // its place in the order: the lowest rank that can run runs next
  // The cp.async copies its thread has issued and not performed yet: a fiber
  // runs one thread from start to return, so the queue is that thread's, and
  // it is emptied when the thread returns.
  AsyncCopies copies;
  AsyncMmas mmas;  // its wgmma, likewise
};

// What runs now: one launch, one block.
struct State {
  std::mutex launch_mutex;  // one launch at a time, whichever OS thread launches
  bool running = false;
  const LaunchConfig* config = nullptr;
  void (*body)(void*) = nullptr;
  void* context = nullptr;

  const void* kernel = nullptr;  // its address, for cudaFuncSetAttribute's limits
  bool reverse = false;          // GPT_EMU_ORDER=reverse: the last thread and block first
  unsigned long long launch = 0;  // counts launches; the one running now
  size_t static_shared = 0;       // bytes of the __shared__ arrays this launch has reached

  int threads = 0;    // per block
  int next_rank = 0;  // the first rank of the block not started yet
  int finished = 0;
  // The threads released from a barrier or warp operation, waiting to go on:
  // bit r of ready_bits is set when the thread of rank r is, and
  // by_rank[r] is its worker. No bit is set in a word before ready_word.
  std::vector<uint64_t> ready_bits;
  std::vector<Worker*> by_rank;
  int ready_count = 0;
  size_t ready_word = 0;

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

// The thread at `rank` in this launch's order (and, the same way, the rank of a thread).
int thread_at(int rank) {
  const State& s = state();
  return s.reverse ? s.threads - 1 - rank : rank;
}

void set_thread_index(int t) {
  threadIdx.x = static_cast<unsigned>(t) % blockDim.x;
  threadIdx.y = static_cast<unsigned>(t) / blockDim.x % blockDim.y;
  threadIdx.z = static_cast<unsigned>(t) / (blockDim.x * blockDim.y);
}

// Continues whatever runs next, on a fiber whose thread cannot go on (it waits
// at a barrier, has just released one, or has none): the lowest-ranked thread
// released from a barrier (which may be `self`'s own), else the next thread
// not started yet, else — the block is done, or stuck — the launch. Returns
// when some fiber switches back to `self`.
void switch_away(Worker* self);

// Makes `w` (which waited at a barrier or warp operation) ready to go on.
void release(Worker* w) {
  State& s = state();
  const size_t word = static_cast<size_t>(w->rank) / 64;
  s.ready_bits[word] |= 1ull << (w->rank % 64);
  s.by_rank[w->rank] = w;
  ++s.ready_count;
  s.ready_word = std::min(s.ready_word, word);
}

// The released thread of the lowest rank, which goes on next (ready_count > 0).
Worker* take_ready() {
  State& s = state();
  while (s.ready_bits[s.ready_word] == 0) ++s.ready_word;
  uint64_t& bits = s.ready_bits[s.ready_word];
  const int rank = static_cast<int>(s.ready_word * 64) + __builtin_ctzll(bits);
  bits &= bits - 1;
  --s.ready_count;
  return s.by_rank[rank];
}

// Every fiber runs this: it takes the block's threads that have not started,
// one after another, while no released thread (all of which rank lower) waits
// to go on, and otherwise switches away.
void worker_main() {
  State& s = state();
  Worker* const self = s.current;
  for (;;) {
    while (s.ready_count == 0 && s.next_rank < s.threads) {
      self->rank = s.next_rank++;
      self->thread = thread_at(self->rank);
      set_thread_index(self->thread);
      s.body(s.context);
      if (!self->copies.empty()) finish_async_copies(self->copies);
      self->copies.unfenced = false;
      finish_async_mmas(self->mmas);
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
  if (s.ready_count > 0) {
    Worker* w = take_ready();
    s.current = w;
    set_thread_index(w->thread);
    next = w->fiber.get();
  } else if (s.next_rank < s.threads) {
    Worker* w = idle_worker();
    s.current = w;
    next = w->fiber.get();
  }
  self->fiber->switch_to(*next);  // returns at once if `next` is `self`'s own
}

std::string describe(Site site) {
  return std::string(site.file) + ":" + std::to_string(site.line);
}

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
  s.next_rank = 0;
  s.finished = 0;
  s.arrived = 0;
  s.at_barrier.clear();
  s.ready_bits.assign((s.threads + 63) / 64, 0);
  s.by_rank.resize(s.threads);
  s.ready_count = 0;
  s.ready_word = 0;
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
                  "a grid of (%u, %u, %u) blocks: each at least 1, at most (2^31 - 1, 65535, "
                  "65535)",
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

// GPT_EMU_ORDER: unset, empty or "forward" runs thread 0 (and block 0)
// first; "reverse" runs the last first. Read at every launch, so a test can
// change it between launches.
bool reverse_order(Site site) {
  const char* order = std::getenv("GPT_EMU_ORDER");
  if (order == nullptr || *order == '\0' || std::strcmp(order, "forward") == 0) return false;
  if (std::strcmp(order, "reverse") == 0) return true;
  const std::string message = std::string("GPT_EMU_ORDER is \"") + order +
                              "\": it must be forward (the default) or reverse";
  fail(message.c_str(), site);
}

}  // namespace

void launch_error(const LaunchConfig& c, cudaError_t error, const char* why) {
  std::fprintf(stderr, "gpt_emu: launch of %s at %s:%d fails (%s): %s\n", c.kernel, c.file, c.line,
               cudaGetErrorName(error), why);
  record(error);
}

void run_grid(const LaunchConfig& config, const void* kernel, void (*body)(void*), void* context) {
  announce();
  const Site site{config.file, config.line};
  if (inside_kernel) fail("a kernel launch from inside a kernel (not emulated)", site);
  State& s = launch_state();
  std::lock_guard<std::mutex> lock(s.launch_mutex);
  if (!check_config(config, kernel)) return;
  inside_kernel = true;
  s.running = true;
  s.config = &config;
  s.kernel = kernel;
  s.reverse = reverse_order(site);
  ++s.launch;
  s.static_shared = 0;
  s.body = body;
  s.context = context;
  gridDim = config.grid;
  blockDim = config.block;
  s.threads = static_cast<int>(config.block.x * config.block.y * config.block.z);
  // Dynamic shared memory, exactly as large as asked (so that ASan sees an
  // overrun), refilled with NaN bytes for every block: a block that reads
  // what it never wrote reads NaN, as it would read garbage on a GPU. (The
  // static __shared__ arrays are refilled by their first thread of each
  // block: static_shared_reached.)
  void* shared = nullptr;
  if (config.shared_bytes > 0) shared = ::operator new(config.shared_bytes, std::align_val_t(128));
  dynamic_shared_memory = shared;
  const unsigned long long blocks = 1ull * config.grid.x * config.grid.y * config.grid.z;
  for (unsigned long long i = 0; i < blocks; ++i) {
    const unsigned long long b = s.reverse ? blocks - 1 - i : i;  // x fastest, then y, then z
    blockIdx = make_uint3(static_cast<unsigned>(b % config.grid.x),
                          static_cast<unsigned>(b / config.grid.x % config.grid.y),
                          static_cast<unsigned>(b / config.grid.x / config.grid.y));
    ++current_block;
    if (shared != nullptr) std::memset(shared, 0xff, config.shared_bytes);
    run_block();
  }
  if (shared != nullptr) ::operator delete(shared, std::align_val_t(128));
  dynamic_shared_memory = nullptr;
  s.running = false;
  inside_kernel = false;
  s.config = nullptr;
}

void static_shared_reached(void* array, size_t bytes, StaticShared* seen, Site site) {
  if (!in_launch()) fail("a __shared__ variable outside a kernel", site);
  State& s = state();
  seen->block = current_block;
  std::memset(array, 0xff, bytes);  // NaN floats, -1 ints: never a plausible value
  if (seen->launch == s.launch) return;
  // First reached in this launch: count it against the block's shared memory.
  seen->launch = s.launch;
  s.static_shared += bytes;
  const size_t limit = max_block_shared(s.kernel);
  if (s.static_shared > kDefaultDynamicShared || s.static_shared + s.config->shared_bytes > limit) {
    char message[384];
    std::snprintf(message, sizeof message,
                  "%zu bytes of static __shared__ memory (the arrays reached so far) and %zu bytes "
                  "of dynamic shared memory: more than the %zu bytes a block may have (static "
                  "alone at most 48 KiB; both together 48 KiB, or 227 KiB after "
                  "cudaFuncSetAttribute); a GPU would not launch this kernel",
                  s.static_shared, s.config->shared_bytes, limit);
    fail(message, site);
  }
}

void launch_bounds_exceeded(long long max_threads, Site site) {
  char message[256];
  std::snprintf(message, sizeof message,
                "a block of %u threads, more than the kernel's __launch_bounds__ (%lld): a GPU "
                "would not launch it",
                blockDim.x * blockDim.y * blockDim.z, max_threads);
  fail(message, site);
}

void syncthreads(Site site) {
  if (!in_launch()) fail("__syncthreads outside a kernel", site);
  State& s = state();
  if (s.arrived == 0) {
    s.barrier_site = site;
  } else if (s.barrier_site.line != site.line ||
             (s.barrier_site.file != site.file &&
              std::strcmp(s.barrier_site.file, site.file) != 0)) {
    const std::string message = "threads wait at two different __syncthreads at once (" +
                                describe(s.barrier_site) + " and " + describe(site) +
                                "): a barrier in divergent code";
    fail(message.c_str(), site);
  }
  Worker* self = s.current;
  if (++s.arrived == s.threads) {  // the last one: everyone goes on, in order of rank
    s.arrived = 0;
    for (Worker* w : s.at_barrier) release(w);
    s.at_barrier.clear();
    release(self);
  } else {
    s.at_barrier.push_back(self);
  }
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
    for (Worker* w : warp.waiting) release(w);
    warp.waiting.clear();
    release(self);
  } else {
    warp.waiting.push_back(self);
  }
  // Every lane reads `values` as soon as it runs again, before it can switch
  // away: they are still this generation's.
  switch_away(self);
  return values;
}

AsyncCopies& running_thread_copies(Site site) {
  if (!in_launch()) fail("cp.async outside a kernel", site);
  return state().current->copies;
}

int thread_with_unfenced_copies() {
  for (const auto& w : state().workers) {
    if (w->thread >= 0 && w->copies.unfenced) return w->thread;
  }
  return -1;
}

int thread_with_pending_copy_into(const std::vector<uintptr_t>& pieces) {
  for (const auto& w : state().workers) {
    if (w->thread < 0) continue;
    const AsyncCopies& q = w->copies;
    for (size_t i = q.first; i < q.items.size(); ++i) {
      const uintptr_t piece = reinterpret_cast<uintptr_t>(q.items[i].dst) & ~uintptr_t{15};
      if (std::binary_search(pieces.begin(), pieces.end(), piece)) return w->thread;
    }
  }
  return -1;
}

AsyncMmas& running_thread_mmas(Site site) {
  if (!in_launch()) fail("wgmma outside a kernel", site);
  return state().current->mmas;
}

size_t dynamic_shared_bytes() { return in_launch() ? state().config->shared_bytes : 0; }

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
