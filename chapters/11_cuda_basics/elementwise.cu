// chapters/11_cuda_basics/elementwise.cu — chapter 11: the first kernels, one element per thread.
//
// Residual add, GELU and AdamW, forward and backward: every output element
// depends on the same element of the inputs only, so thread i can compute
// element i with no help from the others. Two versions of each:
//   version 1  one thread per element: the kernel body is the CPU loop's body;
//   version 2  each thread loads and stores float4s (16 bytes, four floats) —
//              a quarter of the memory instructions for the same bytes.
// Both are limited by memory bandwidth, not arithmetic: a GPU adds numbers far
// faster than it can fetch them, so the benchmark reports GB/s.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "chapters/11_cuda_basics/elementwise.h"
#include "chapters/11_cuda_basics/gelu.cuh"
#include "chapters/11_cuda_basics/launch.h"
#include "chapters/11_cuda_basics/reduce.cuh"
#include "common/cuda/cuda_check.h"

namespace gpt::cuda {
namespace {

// ---------------------------------------------------------------------------
// Residual: out = a + b; backward: da += dout, db += dout.

// lesson: residual_forward_kernel1
// Thread i of the grid computes element i; the last block's extra threads do nothing.
__global__ void residual_forward_kernel1(float* out, const float* a, const float* b, int64_t N) {
  const int64_t i = global_thread();  // blockIdx.x * blockDim.x + threadIdx.x
  if (i < N) out[i] = a[i] + b[i];
}
// end lesson

__device__ inline float4 add4(float4 x, float4 y) {
  return make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
}

// lesson: residual_forward_kernel2
// Thread i adds float4 number i (elements 4i .. 4i+3); the first N % 4 threads
// also add one of the leftover elements after the last whole float4.
__global__ void residual_forward_kernel2(float* out, const float* a, const float* b, int64_t N) {
  const int64_t i = global_thread();
  const int64_t n4 = N / 4;
  if (i < n4) {
    const float4 x = reinterpret_cast<const float4*>(a)[i];  // one 16-byte load
    const float4 y = reinterpret_cast<const float4*>(b)[i];
    reinterpret_cast<float4*>(out)[i] = add4(x, y);  // one 16-byte store
  }
  if (i < N % 4) {
    const int64_t j = 4 * n4 + i;
    out[j] = a[j] + b[j];
  }
}
// end lesson

__global__ void residual_backward_kernel1(float* da, float* db, const float* dout, int64_t N) {
  const int64_t i = global_thread();
  if (i < N) {
    da[i] += dout[i];
    db[i] += dout[i];
  }
}

__global__ void residual_backward_kernel2(float* da, float* db, const float* dout, int64_t N) {
  const int64_t i = global_thread();
  const int64_t n4 = N / 4;
  if (i < n4) {
    const float4 d = reinterpret_cast<const float4*>(dout)[i];
    float4* da4 = reinterpret_cast<float4*>(da);
    float4* db4 = reinterpret_cast<float4*>(db);
    da4[i] = add4(da4[i], d);
    db4[i] = add4(db4[i], d);
  }
  if (i < N % 4) {
    const int64_t j = 4 * n4 + i;
    da[j] += dout[j];
    db[j] += dout[j];
  }
}

// ---------------------------------------------------------------------------
// GELU: the formulas and why they are written so are in gelu.cuh.

using gelu_device::gelu;
using gelu_device::gelu_slope;

__global__ void gelu_forward_kernel1(float* out, const float* inp, int64_t N, bool tanh_form) {
  const int64_t i = global_thread();
  if (i < N) out[i] = gelu(inp[i], tanh_form);
}

__global__ void gelu_forward_kernel2(float* out, const float* inp, int64_t N, bool tanh_form) {
  const int64_t i = global_thread();
  const int64_t n4 = N / 4;
  if (i < n4) {
    const float4 x = reinterpret_cast<const float4*>(inp)[i];
    reinterpret_cast<float4*>(out)[i] = make_float4(gelu(x.x, tanh_form), gelu(x.y, tanh_form),
                                                    gelu(x.z, tanh_form), gelu(x.w, tanh_form));
  }
  if (i < N % 4) {
    const int64_t j = 4 * n4 + i;
    out[j] = gelu(inp[j], tanh_form);
  }
}

__global__ void gelu_backward_kernel1(float* dinp, const float* dout, const float* inp, int64_t N,
                                      bool tanh_form) {
  const int64_t i = global_thread();
  if (i < N) dinp[i] += dout[i] * gelu_slope(inp[i], tanh_form);
}

__global__ void gelu_backward_kernel2(float* dinp, const float* dout, const float* inp, int64_t N,
                                      bool tanh_form) {
  const int64_t i = global_thread();
  const int64_t n4 = N / 4;
  if (i < n4) {
    const float4 x = reinterpret_cast<const float4*>(inp)[i];
    const float4 d = reinterpret_cast<const float4*>(dout)[i];
    float4* dx = reinterpret_cast<float4*>(dinp);
    float4 acc = dx[i];
    acc.x += d.x * gelu_slope(x.x, tanh_form);
    acc.y += d.y * gelu_slope(x.y, tanh_form);
    acc.z += d.z * gelu_slope(x.z, tanh_form);
    acc.w += d.w * gelu_slope(x.w, tanh_form);
    dx[i] = acc;
  }
  if (i < N % 4) {
    const int64_t j = 4 * n4 + i;
    dinp[j] += dout[j] * gelu_slope(inp[j], tanh_form);
  }
}

// ---------------------------------------------------------------------------
// AdamW: chapter 09's update, element by element. The bias corrections
// 1 − β^t are the same for every element: the host computes them once, as
// the CPU op does, and passes them in.

struct AdamWArgs {
  float lr, beta1, beta2, eps, weight_decay, correction1, correction2;
};

__device__ inline void adamw_one(float& p, float g, float& m, float& v, const AdamWArgs& a) {
  m = a.beta1 * m + (1.0f - a.beta1) * g;
  v = a.beta2 * v + (1.0f - a.beta2) * g * g;
  const float m_hat = m / a.correction1;
  const float v_hat = v / a.correction2;
  p -= a.lr * (m_hat / (sqrtf(v_hat) + a.eps) + a.weight_decay * p);
}

__global__ void adamw_kernel1(float* params, const float* grads, float* m, float* v, int64_t n,
                              AdamWArgs args) {
  const int64_t i = global_thread();
  if (i < n) adamw_one(params[i], grads[i], m[i], v[i], args);
}

__global__ void adamw_kernel2(float* params, const float* grads, float* m, float* v, int64_t n,
                              AdamWArgs args) {
  const int64_t i = global_thread();
  const int64_t n4 = n / 4;
  if (i < n4) {
    float4 p = reinterpret_cast<float4*>(params)[i];
    const float4 g = reinterpret_cast<const float4*>(grads)[i];
    float4 m4 = reinterpret_cast<float4*>(m)[i];
    float4 v4 = reinterpret_cast<float4*>(v)[i];
    adamw_one(p.x, g.x, m4.x, v4.x, args);
    adamw_one(p.y, g.y, m4.y, v4.y, args);
    adamw_one(p.z, g.z, m4.z, v4.z, args);
    adamw_one(p.w, g.w, m4.w, v4.w, args);
    reinterpret_cast<float4*>(params)[i] = p;
    reinterpret_cast<float4*>(m)[i] = m4;
    reinterpret_cast<float4*>(v)[i] = v4;
  }
  if (i < n % 4) {
    const int64_t j = 4 * n4 + i;
    adamw_one(params[j], grads[j], m[j], v[j], args);
  }
}

// Version 2 needs every pointer 16-byte aligned; otherwise version 1 runs.
bool all_aligned16(std::initializer_list<const void*> pointers) {
  return std::all_of(pointers.begin(), pointers.end(), is_aligned16);
}

}  // namespace

// ---------------------------------------------------------------------------
// Launchers: check the arguments, pick the grid, launch, check the launch.

// lesson: residual_forward
void residual_forward(float* out, const float* a, const float* b, int64_t N, int version) {
  check_version("residual_forward", version, 2);
  check_size("residual_forward", "N", N, 0);
  if (N == 0) return;  // a grid of 0 blocks is an error, not a no-op
  if (version == 2 && all_aligned16({out, a, b})) {
    residual_forward_kernel2<<<grid_size(vec4_threads(N), kBlockSize), kBlockSize>>>(out, a, b, N);
  } else {
    residual_forward_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(out, a, b, N);
  }
  CUDA_CHECK(cudaGetLastError());  // a bad launch (grid, block, shared memory) shows up here
}
// end lesson

void residual_backward(float* da, float* db, const float* dout, int64_t N, int version) {
  check_version("residual_backward", version, 2);
  check_size("residual_backward", "N", N, 0);
  if (N == 0) return;
  if (version == 2 && all_aligned16({da, db, dout})) {
    residual_backward_kernel2<<<grid_size(vec4_threads(N), kBlockSize), kBlockSize>>>(da, db, dout,
                                                                                      N);
  } else {
    residual_backward_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(da, db, dout, N);
  }
  CUDA_CHECK(cudaGetLastError());
}

void gelu_forward(float* out, const float* inp, int64_t N, GeluForm form, int version) {
  check_version("gelu_forward", version, 2);
  check_size("gelu_forward", "N", N, 0);
  if (N == 0) return;
  const bool tanh_form = form == GeluForm::Tanh;
  if (version == 2 && all_aligned16({out, inp})) {
    gelu_forward_kernel2<<<grid_size(vec4_threads(N), kBlockSize), kBlockSize>>>(out, inp, N,
                                                                                 tanh_form);
  } else {
    gelu_forward_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(out, inp, N, tanh_form);
  }
  CUDA_CHECK(cudaGetLastError());
}

void gelu_backward(float* dinp, const float* dout, const float* inp, int64_t N, GeluForm form,
                   int version) {
  check_version("gelu_backward", version, 2);
  check_size("gelu_backward", "N", N, 0);
  if (N == 0) return;
  const bool tanh_form = form == GeluForm::Tanh;
  if (version == 2 && all_aligned16({dinp, dout, inp})) {
    gelu_backward_kernel2<<<grid_size(vec4_threads(N), kBlockSize), kBlockSize>>>(dinp, dout, inp,
                                                                                  N, tanh_form);
  } else {
    gelu_backward_kernel1<<<grid_size(N, kBlockSize), kBlockSize>>>(dinp, dout, inp, N, tanh_form);
  }
  CUDA_CHECK(cudaGetLastError());
}

void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t, float lr,
                  const AdamWConfig& c, float weight_decay, int version) {
  check_version("adamw_update", version, 2);
  check_size("adamw_update", "t", t, 1);
  if (n == 0) return;
  const AdamWArgs args{
      lr,
      c.beta1,
      c.beta2,
      c.eps,
      weight_decay,
      1.0f - std::pow(c.beta1, static_cast<float>(t)),  // as chapter 09 computes them
      1.0f - std::pow(c.beta2, static_cast<float>(t))};
  const int64_t count = static_cast<int64_t>(n);
  if (version == 2 && all_aligned16({params, grads, m, v})) {
    adamw_kernel2<<<grid_size(vec4_threads(count), kBlockSize), kBlockSize>>>(params, grads, m, v,
                                                                              count, args);
  } else {
    adamw_kernel1<<<grid_size(count, kBlockSize), kBlockSize>>>(params, grads, m, v, count, args);
  }
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gpt::cuda
