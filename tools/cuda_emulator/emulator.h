// tools/cuda_emulator/emulator.h — CUDA device code as plain C++, for the CPU emulator.
//
// When CUDA is emulated (tools/cuda.bzl) every .cu file is first rewritten by translate.py
// (launches become calls) and then compiled by the host C++ compiler with
// this header force-included (-include). It gives g++ what nvcc would:
//   - the qualifiers: __global__, __device__ and __host__ mean nothing here,
//     __forceinline__ and __align__ are the host compiler's attributes;
//     translate.py turns each `__shared__` declaration into a `static` one,
//     which is exactly right because the emulator runs ONE block at a time: a
//     function-static array is then that block's shared memory. After it, on
//     the same line, GPT_EMU_SHARED(name) refills the array with NaN bytes for
//     each block and counts it against the block's shared memory;
//   - __launch_bounds__(N, ...) means nothing, but translate.py checks N at
//     the start of the kernel's body (gpt_emu::check_launch_bounds);
//   - the built-in variables threadIdx, blockIdx, blockDim and gridDim, which
//     the scheduler (scheduler.cc) sets before it resumes each emulated thread;
//   - the barriers and warp operations (__syncthreads, __syncwarp, the
//     shuffles), which switch to the next emulated thread until all have arrived;
//   - atomics and the device math functions the course uses;
//   - the tensor-core instructions (mma.sync, ldmatrix, cp.async), which
//     inline PTX cannot be here: tensor_core.h, included below, declares the
//     emulator's models of them (chapter 17's tensor_core_ptx.cuh calls them);
//   - gpt_emu::launch, what `kernel<<<grid, block, shared>>>(args)` becomes.
// The emulator's own cuda_runtime.h (include/, not the toolkit's) comes
// first, with dim3, float4, make_float4 and the runtime functions.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include "tools/cuda_emulator/site.h"         // gpt_emu::Site: where an operation was called
#include "tools/cuda_emulator/tensor_core.h"  // mma, ldmatrix and cp.async, modelled

// ---------------------------------------------------------------------------
// Qualifiers. nvcc-only meanings are dropped; inlining and alignment are asked
// of the host compiler.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __align__(n) __attribute__((aligned(n)))
// translate.py rewrites every __shared__ of a .cu file; one it did not see (in
// a header, say) would quietly lose the NaN refill, so it stops the build.
#define __shared__ \
  _Pragma("GCC error \"gpt_emu: __shared__ in a header: translate.py rewrites only .cu files\"")
#define __constant__ static
#define __launch_bounds__(...)

// ---------------------------------------------------------------------------
// Built-in variables, set by the scheduler for the emulated thread that runs.
// Not const: the compiler must re-read them after every barrier (a call into
// scheduler.cc), because by then another emulated thread has run.
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
constexpr int warpSize = 32;

namespace gpt_emu {

// Block barrier: returns once every thread of the block has called it at this
// same place. Reached by only some threads, the program stops with a message.
void syncthreads(Site site);

// Warp exchange: lane `lane` of the calling warp deposits `value`; returns,
// once every lane in `mask` has deposited, the 32 values of this exchange.
const uint64_t* warp_exchange(unsigned mask, uint64_t value, Site site);

// Stops the program with "gpt_emu: <message>" and the kernel and block that ran.
[[noreturn]] void fail(const char* message, Site site);

// This thread's lane in its warp (threads numbered x fastest, then y, then z).
inline int lane_id() {
  const unsigned linear = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  return static_cast<int>(linear % 32u);
}

template <typename T>
T shuffle_from(unsigned mask, T var, int src, int width, Site site) {
  static_assert(sizeof(T) <= sizeof(uint64_t) && std::is_trivially_copyable<T>::value,
                "gpt_emu shuffles values of at most 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &var, sizeof(T));
  const uint64_t* values = warp_exchange(mask, bits, site);
  const int lane = lane_id();
  if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
    fail("shuffle width must be a power of two <= 32", site);
  }
  const int segment = lane & ~(width - 1);
  // A source outside this lane's segment: the lane's own value.
  if (src < segment || src >= segment + width) return var;
  if (!(mask >> src & 1u)) fail("a shuffle reads a lane that is not in its mask", site);
  T out;
  std::memcpy(&out, &values[src], sizeof(T));
  return out;
}

// ---------------------------------------------------------------------------
// Launches. translate.py rewrites `kernel<<<grid, block, shared>>>(args...)`
// into `::gpt_emu::launch(kernel, "kernel", __FILE__, __LINE__, grid, block,
// shared)(args...)`.
struct LaunchConfig {
  const char* kernel;  // the kernel expression as written, for messages
  const char* file;
  int line;
  dim3 grid, block;
  size_t shared_bytes;
};

// Runs body(context) once for every thread of the grid, block after block.
// Checks the configuration first as the runtime does; a bad one runs nothing
// and is reported by cudaGetLastError.
void run_grid(const LaunchConfig& config, const void* kernel_address, void (*body)(void*),
              void* context);

// Whether [p, p + bytes) lies inside one cudaMalloc allocation.
bool is_device_range(const void* p, size_t bytes);
// Records a launch error for cudaGetLastError, with a line on stderr saying why.
void launch_error(const LaunchConfig& config, cudaError_t error, const char* why);

// The dynamic shared memory of the running launch (extern __shared__ arrays).
extern void* dynamic_shared_memory;
template <typename T>
T* dynamic_shared() {
  return static_cast<T*>(dynamic_shared_memory);
}

// A static __shared__ variable's record: the block that last refilled it and
// the launch that last counted it (one per variable, beside it).
struct StaticShared {
  unsigned long long block = 0;
  unsigned long long launch = 0;
};
// Counts the blocks run, over all launches: the block that runs now.
extern unsigned long long current_block;
// The first thread of a block to pass the declaration of a static __shared__
// variable: refills it with NaN bytes, and in a new launch adds its size to
// the block's static shared memory, stopping the program if static and
// dynamic shared memory together are more than a GPU allows.
void static_shared_reached(void* variable, size_t bytes, StaticShared* seen, Site site);
inline void static_shared(void* variable, size_t bytes, StaticShared* seen, Site site) {
  if (seen->block != current_block) static_shared_reached(variable, bytes, seen, site);
}

// __launch_bounds__(max_threads, ...): translate.py calls this first thing in
// the kernel's body. A larger block stops the program (a GPU refuses the launch).
[[noreturn]] void launch_bounds_exceeded(long long max_threads, Site site);
inline void check_launch_bounds(long long max_threads, Site site) {
  if (static_cast<long long>(blockDim.x) * blockDim.y * blockDim.z > max_threads) {
    launch_bounds_exceeded(max_threads, site);
  }
}

template <typename... P>
class Launch {
 public:
  Launch(void (*kernel)(P...), LaunchConfig config) : kernel_(kernel), config_(config) {}

  template <typename... A>
  void operator()(A&&... args) const {
    static_assert(sizeof...(A) == sizeof...(P), "a launch passes every kernel argument");
    // The arguments converted to the kernel's parameter types, as a launch
    // copies them; each emulated thread then gets its own copy of these.
    std::tuple<std::decay_t<P>...> params(std::forward<A>(args)...);
    if (!pointers_ok(params, std::index_sequence_for<P...>{})) return;
    struct Call {
      void (*kernel)(P...);
      std::tuple<std::decay_t<P>...>* params;
      static void run(void* self) {
        Call* call = static_cast<Call*>(self);
        std::apply(call->kernel, *call->params);
      }
    } call{kernel_, &params};
    run_grid(config_, reinterpret_cast<const void*>(kernel_), &Call::run, &call);
  }

 private:
  // A pointer argument must be null or point into device memory (a GPU would
  // fault on a host pointer; the emulator could quietly read it).
  template <typename T>
  bool pointer_ok(const T& value, int index) const {
    if constexpr (std::is_pointer<T>::value &&
                  !std::is_function<std::remove_pointer_t<T>>::value) {
      if (value != nullptr && !is_device_range(value, 0)) {
        static char why[96];
        std::snprintf(why, sizeof why, "argument %d is not a device pointer", index);
        launch_error(config_, cudaErrorInvalidValue, why);
        return false;
      }
    }
    return true;
  }
  template <typename Tuple, size_t... I>
  bool pointers_ok(const Tuple& params, std::index_sequence<I...>) const {
    return (true && ... && pointer_ok(std::get<I>(params), static_cast<int>(I) + 1));
  }

  void (*kernel_)(P...);
  LaunchConfig config_;
};

}  // namespace gpt_emu

// After `static T name[...];` (a __shared__ declaration, translate.py):
// refills `name` once per block, as the first thread that passes it. (The
// casts let a `volatile __shared__` variable through too.)
#define GPT_EMU_SHARED(name)                                                                 \
  do {                                                                                       \
    static ::gpt_emu::StaticShared gpt_emu_seen;                                             \
    ::gpt_emu::static_shared(const_cast<void*>(static_cast<const volatile void*>(&(name))), \
                             sizeof(name), &gpt_emu_seen, {__FILE__, __LINE__});            \
  } while (0)

namespace gpt_emu {

template <typename... P>
Launch<P...> launch(void (*kernel)(P...), const char* name, const char* file, int line, dim3 grid,
                    dim3 block, size_t shared_bytes = 0, cudaStream_t /*stream*/ = 0) {
  return Launch<P...>(kernel, LaunchConfig{name, file, line, grid, block, shared_bytes});
}

}  // namespace gpt_emu

// ---------------------------------------------------------------------------
// Barriers and warp operations.
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  ::gpt_emu::syncthreads({file, line});
}

inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(),
                       int line = __builtin_LINE()) {
  ::gpt_emu::warp_exchange(mask, 0, {file, line});
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,
                  const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::gpt_emu::shuffle_from(mask, var, ::gpt_emu::lane_id() ^ lane_mask, width, {file, line});
}

template <typename T>
T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,
              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  const int lane = ::gpt_emu::lane_id();
  const int src = (lane & ~(width - 1)) + (src_lane & (width - 1));
  return ::gpt_emu::shuffle_from(mask, var, src, width, {file, line});
}

template <typename T>
T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                   const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::gpt_emu::shuffle_from(mask, var, ::gpt_emu::lane_id() + static_cast<int>(delta), width,
                                 {file, line});
}

template <typename T>
T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,
                 const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return ::gpt_emu::shuffle_from(mask, var, ::gpt_emu::lane_id() - static_cast<int>(delta), width,
                                 {file, line});
}

// ---------------------------------------------------------------------------
// Atomics. One OS thread runs every emulated thread, and a thread is only
// ever switched out at a barrier, so a read-modify-write is indivisible.
namespace gpt_emu {
// Every atomic is a read, a new value from the old, a write; returns the old.
template <typename T, typename NewValue>
inline T atomic_update(T* address, NewValue new_value) {
  static_assert(std::is_arithmetic<T>::value, "atomics take numbers");
  const T old = *address;
  *address = new_value(old);
  return old;
}
}  // namespace gpt_emu
template <typename T>
inline T atomicAdd(T* address, T value) {
  return gpt_emu::atomic_update(address, [&](T old) { return old + value; });
}
template <typename T>
inline T atomicSub(T* address, T value) {
  return gpt_emu::atomic_update(address, [&](T old) { return old - value; });
}
template <typename T>
inline T atomicMax(T* address, T value) {
  return gpt_emu::atomic_update(address, [&](T old) { return old < value ? value : old; });
}
template <typename T>
inline T atomicMin(T* address, T value) {
  return gpt_emu::atomic_update(address, [&](T old) { return value < old ? value : old; });
}
template <typename T>
inline T atomicExch(T* address, T value) {
  return gpt_emu::atomic_update(address, [&](T) { return value; });
}
template <typename T>
inline T atomicCAS(T* address, T compare, T value) {
  return gpt_emu::atomic_update(address, [&](T old) { return old == compare ? value : old; });
}

// ---------------------------------------------------------------------------
// Device math that the C library lacks. (expf, tanhf, erff, sqrtf, fmaxf, ...
// are the C library's; the fast intrinsics are computed exactly here.)
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
// The standard normal CDF Φ(x), accurate in both tails (erfc, not 1 + erf).
inline float normcdff(float x) {
  return static_cast<float>(0.5 * std::erfc(-x * 0.70710678118654752));
}
inline double normcdf(double x) { return 0.5 * std::erfc(-x * 0.70710678118654752); }
// Bit casts (math_constants.h spells CUDART_INF_F, CUDART_NAN_F, ... with them).
inline float __int_as_float(int x) { float f; std::memcpy(&f, &x, 4); return f; }
inline float __uint_as_float(unsigned x) { float f; std::memcpy(&f, &x, 4); return f; }
inline int __float_as_int(float x) { int i; std::memcpy(&i, &x, 4); return i; }
inline unsigned __float_as_uint(float x) { unsigned i; std::memcpy(&i, &x, 4); return i; }
inline double __longlong_as_double(long long x) { double d; std::memcpy(&d, &x, 8); return d; }
inline long long __double_as_longlong(double x) { long long i; std::memcpy(&i, &x, 8); return i; }
template <typename T>
inline T __ldg(const T* p) {
  return *p;
}

// min and max as the CUDA headers declare them for device code: in the
// common type of the two arguments; for floating point fmin/fmax (a NaN
// loses to a number).
template <typename A, typename B,
          typename = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> min(A a, B b) {
  using T = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point<T>::value) return std::fmin(T(a), T(b));
  else return T(b) < T(a) ? T(b) : T(a);
}
template <typename A, typename B,
          typename = std::enable_if_t<std::is_arithmetic<A>::value && std::is_arithmetic<B>::value>>
inline std::common_type_t<A, B> max(A a, B b) {
  using T = std::common_type_t<A, B>;
  if constexpr (std::is_floating_point<T>::value) return std::fmax(T(a), T(b));
  else return T(a) < T(b) ? T(b) : T(a);
}
