// tools/cuda_emulator/emulator_testing.h — what the emulator's own tests share.
//
// emulator_test.cc, tensor_core_test.cc and cublaslt_test.cc put their data
// in device memory with Device<T> and run kernels in both thread orders with
// kOrders and ThreadOrder, so a result that depends on the order (a missing
// barrier) shows up in one of them.
#pragma once

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

namespace gpt_emu::testing {

// A device copy of a host vector, or fresh device memory, freed at the end
// of the scope.
template <typename T>
class Device {
 public:
  explicit Device(const std::vector<T>& host) : size_(host.size()) {
    EXPECT_EQ(cudaMalloc(&data_, bytes()), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice), cudaSuccess);
  }
  // n elements of fresh device memory (NaN bytes).
  explicit Device(size_t n) : size_(n) { EXPECT_EQ(cudaMalloc(&data_, bytes()), cudaSuccess); }
  ~Device() { cudaFree(data_); }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  T* get() const { return data_; }
  std::vector<T> host() const {
    std::vector<T> out(size_);
    EXPECT_EQ(cudaMemcpy(out.data(), data_, bytes(), cudaMemcpyDeviceToHost), cudaSuccess);
    return out;
  }

 private:
  size_t bytes() const { return size_ * sizeof(T); }
  T* data_ = nullptr;
  size_t size_;
};

// GPT_EMU_ORDER for one scope: the scheduler reads it at every launch.
class ThreadOrder {
 public:
  explicit ThreadOrder(const char* order) {
    const char* old = std::getenv("GPT_EMU_ORDER");
    had_ = old != nullptr;
    if (had_) saved_ = old;
    setenv("GPT_EMU_ORDER", order, 1);
  }
  ~ThreadOrder() {
    if (had_) {
      setenv("GPT_EMU_ORDER", saved_.c_str(), 1);
    } else {
      unsetenv("GPT_EMU_ORDER");
    }
  }

 private:
  bool had_ = false;
  std::string saved_;
};

// The scheduler's two thread orders (GPT_EMU_ORDER), for a test to run in each.
inline constexpr const char* kOrders[] = {"forward", "reverse"};

}  // namespace gpt_emu::testing
