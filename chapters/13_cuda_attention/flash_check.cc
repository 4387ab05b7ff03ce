// chapters/13_cuda_attention/flash_check.cc — chapter 13: which sizes the fused kernels accept.
#include <stdexcept>
#include <string>

#include "chapters/11_cuda_basics/launch.h"
#include "chapters/13_cuda_attention/flash_attention.h"

namespace gpt::cuda {

void check_flash_sizes(const char* op, int N, int T, int hs) {
  check_size(op, "N", N, 0);
  check_size(op, "T", T, 1);
  if (hs != 32 && hs != 64) {
    throw std::invalid_argument(std::string(op) + ": head size must be 32 or 64, got " +
                                std::to_string(hs));
  }
  if (N > 65535) {  // the sequences are the grid's y dimension
    throw std::invalid_argument(std::string(op) + ": at most 65535 sequences, got " +
                                std::to_string(N));
  }
}

bool flash_takes_sizes(int N, int T, int hs) {
  return N >= 0 && N <= 65535 && T >= 1 && (hs == 32 || hs == 64);
}

}  // namespace gpt::cuda
