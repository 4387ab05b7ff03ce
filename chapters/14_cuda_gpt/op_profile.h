// chapters/14_cuda_gpt/op_profile.h — chapter 14: where does a training step's time go?
//
// The GPU runs the launches of one stream in order. A CUDA event recorded
// between two launches is a timestamp the GPU takes when it gets there
// (chapter 11's event_timing.h), so an event after every op splits the
// step's time among its ops: the time between two consecutive events is the
// later op's. The forward, backward and optimizer call mark(options, "op")
// after each op; with no profile attached (the default) mark does nothing.
#pragma once

#include <cuda_runtime_api.h>

#include <map>
#include <string>
#include <vector>

namespace gpt::cuda {

class OpProfile {
 public:
  OpProfile() = default;
  ~OpProfile();
  OpProfile(const OpProfile&) = delete;
  OpProfile& operator=(const OpProfile&) = delete;

  // Starts a round: records the first event, before the first op is launched.
  void start();
  // The time since the previous mark (or since start) belongs to `op`.
  void mark(const char* op);
  // Waits for the GPU and adds this round's times to the totals; the next
  // round begins with start().
  void finish();
  const std::map<std::string, double>& milliseconds() const { return totals_; }  // per op
  double total_milliseconds() const;
  void clear() { totals_.clear(); }

 private:
  std::vector<cudaEvent_t> events_;  // reused from round to round
  std::vector<std::string> labels_;  // labels_[i]: the op that ends at events_[i]
  size_t used_ = 0;
  std::map<std::string, double> totals_;
};

}  // namespace gpt::cuda
