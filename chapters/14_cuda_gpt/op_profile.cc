// chapters/14_cuda_gpt/op_profile.cc — chapter 14: an event after every op.
#include "chapters/14_cuda_gpt/op_profile.h"

#include "common/cuda/cuda_check.h"

namespace gpt::cuda {

OpProfile::~OpProfile() {
  for (cudaEvent_t e : events_) cudaEventDestroy(e);  // no CUDA_CHECK: a destructor must not throw
}

void OpProfile::start() {
  if (events_.empty()) {
    events_.emplace_back();
    labels_.emplace_back();
    CUDA_CHECK(cudaEventCreate(&events_[0]));
  }
  CUDA_CHECK(cudaEventRecord(events_[0]));  // the clock starts when the GPU gets here
  used_ = 1;
}

void OpProfile::mark(const char* op) {
  if (used_ == 0) start();  // no start(): the time of ops before this mark is not counted
  if (used_ == events_.size()) {
    events_.emplace_back();
    labels_.emplace_back();
    CUDA_CHECK(cudaEventCreate(&events_.back()));
  }
  labels_[used_] = op;
  CUDA_CHECK(cudaEventRecord(events_[used_]));
  ++used_;
}

void OpProfile::finish() {
  if (used_ == 0) return;
  CUDA_CHECK(cudaEventSynchronize(events_[used_ - 1]));
  for (size_t i = 1; i < used_; ++i) {
    float ms = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&ms, events_[i - 1], events_[i]));
    totals_[labels_[i]] += ms;
  }
  used_ = 0;
}

double OpProfile::total_milliseconds() const {
  double total = 0.0;
  for (const auto& [op, ms] : totals_) total += ms;
  return total;
}

}  // namespace gpt::cuda
