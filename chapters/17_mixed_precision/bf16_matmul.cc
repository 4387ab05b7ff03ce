// chapters/17_mixed_precision/bf16_matmul.cc — chapter 17: checks the sizes, then runs the chosen version.
#include "chapters/17_mixed_precision/bf16_matmul.h"

#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/launch.h"

namespace gpt::cuda {

namespace {

void check_product(const char* op, const Bf16* A, const Bf16* B, int M, int N,
                   int K) {
  check_size(op, "M", M, 0);
  check_size(op, "N", N, 0);
  check_size(op, "K", K, 8);
  if (K % 8 != 0) {
    throw std::invalid_argument(std::string(op) + ": K must be a multiple of 8 (rows of whole "
                                "16-byte pieces), got " + std::to_string(K));
  }
  if (!is_aligned16(A) || !is_aligned16(B)) {
    throw std::invalid_argument(std::string(op) + ": A and B must be 16-byte aligned");
  }
}

void check_runs_here(const char* op, int version) {
  if (!bf16_matmul_runs_here(version)) {
    throw std::runtime_error(std::string(op) + ": version 4 (wgmma) runs only on an sm_90 GPU "
                             "(H100, H200); this one is not");
  }
}

}  // namespace

bool bf16_matmul_runs_here(int version) {
  check_version("bf16_matmul_runs_here", version, kBf16MatmulVersions);
  return version < 4 || bf16_matmul_internal::wgmma_runs_here();
}

void bf16_linear(Bf16* out, const Bf16* A, const Bf16* B, const Bf16* bias, int M, int N, int K,
                 Epilogue epilogue) {
  check_product("bf16_linear", A, B, M, N, K);
  if (!is_aligned16(out)) throw std::invalid_argument("bf16_linear: out must be 16-byte aligned");
  if ((bias == nullptr) != (epilogue == Epilogue::kNone)) {
    throw std::invalid_argument(
        "bf16_linear: a bias must be given exactly when the epilogue adds one");
  }
  if (M == 0 || N == 0) return;
  bf16_matmul_internal::matmul_pipelined(out, A, B, M, N, K, bias,
                                         epilogue == Epilogue::kBiasGelu);
}

void bf16_product_f32(float* out, const Bf16* A, const Bf16* B, const float* bias, int M, int N,
                      int K, bool accumulate, int version) {
  check_product("bf16_product_f32", A, B, M, N, K);
  if (version != 3 && version != 4) {
    throw std::invalid_argument("bf16_product_f32: versions 3 and 4 keep fp32 sums, not " +
                                std::to_string(version));
  }
  check_runs_here("bf16_product_f32", version);
  if (M == 0 || N == 0) return;
  if (version == 4) {
    bf16_matmul_internal::matmul_wgmma_f32(out, A, B, M, N, K, bias, accumulate);
  } else {
    bf16_matmul_internal::matmul_pipelined_f32(out, A, B, M, N, K, bias, accumulate);
  }
}

void bf16_matmul(Bf16* out, const Bf16* A, const Bf16* B, int M, int N, int K, int version) {
  check_version("bf16_matmul", version, kBf16MatmulVersions);
  check_product("bf16_matmul", A, B, M, N, K);
  if (!is_aligned16(out)) throw std::invalid_argument("bf16_matmul: out must be 16-byte aligned");
  check_runs_here("bf16_matmul", version);
  if (M == 0 || N == 0) return;
  switch (version) {
    case 1: bf16_matmul_internal::matmul_wmma(out, A, B, M, N, K); break;
    case 2: bf16_matmul_internal::matmul_mma(out, A, B, M, N, K); break;
    case 3: bf16_matmul_internal::matmul_pipelined(out, A, B, M, N, K); break;
    default: bf16_matmul_internal::matmul_wgmma(out, A, B, M, N, K); break;
  }
}

}  // namespace gpt::cuda
