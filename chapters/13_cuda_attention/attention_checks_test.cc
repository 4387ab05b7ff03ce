// chapters/13_cuda_attention/attention_checks_test.cc — chapter 13: bad sizes are refused, on any machine.
//
// The checks run before the first CUDA call: no GPU needed (the null
// pointers are never dereferenced).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "chapters/13_cuda_attention/attention.h"
#include "chapters/13_cuda_attention/flash_attention.h"

namespace gpt::cuda {
namespace {

float* const kNowhere = nullptr;

TEST(AttentionChecks, NaiveRejectsBadSizes) {
  EXPECT_THROW(attention_forward(kNowhere, kNowhere, kNowhere, kNowhere, kNowhere, 1, 0, 32),
               std::invalid_argument);
  EXPECT_THROW(attention_forward(kNowhere, kNowhere, kNowhere, kNowhere, kNowhere, 1, 8, 0),
               std::invalid_argument);
  EXPECT_THROW(attention_backward(kNowhere, kNowhere, kNowhere, kNowhere, kNowhere, kNowhere,
                                  kNowhere, kNowhere, -1, 8, 32),
               std::invalid_argument);
}

TEST(AttentionChecks, FusedTakesHeadSizes32And64Only) {
  for (const int hs : {1, 16, 48, 128}) {
    EXPECT_THROW(flash_attention_forward(kNowhere, kNowhere, kNowhere, kNowhere, kNowhere, 1, 8, hs),
                 std::invalid_argument)
        << "hs = " << hs;
  }
  try {
    check_flash_sizes("flash_attention_forward", 1, 8, 48);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("32 or 64, got 48"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(check_flash_sizes("op", 1, 1, 32));
  EXPECT_NO_THROW(check_flash_sizes("op", 65535, 1024, 64));
  EXPECT_THROW(check_flash_sizes("op", 65536, 8, 64), std::invalid_argument);
  EXPECT_THROW(check_flash_sizes("op", 1, 0, 64), std::invalid_argument);
}

TEST(AttentionChecks, NoSequencesIsNothingToDo) {
  EXPECT_NO_THROW(attention_forward(kNowhere, kNowhere, kNowhere, kNowhere, kNowhere, 0, 8, 32));
  EXPECT_NO_THROW(flash_attention_forward(kNowhere, kNowhere, kNowhere, kNowhere, kNowhere, 0, 8, 64));
  EXPECT_NO_THROW(flash_attention_backward(kNowhere, kNowhere, kNowhere, kNowhere, kNowhere,
                                           kNowhere, kNowhere, kNowhere, kNowhere, 0, 8, 64));
}

}  // namespace
}  // namespace gpt::cuda
