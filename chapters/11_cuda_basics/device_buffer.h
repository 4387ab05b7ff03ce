// chapters/11_cuda_basics/device_buffer.h — chapter 11: memory on the GPU, owned like a vector.
//
// The GPU has its own memory. cudaMalloc reserves some and returns a pointer
// that only kernels may dereference (the CPU reading it would crash);
// cudaMemcpy moves bytes between the two memories; cudaFree gives it back.
// DeviceBuffer<T> wraps that in the RAII shape of std::vector: the constructor
// allocates, the destructor frees, and it can be moved but not copied (a copy
// would free the same memory twice). Every call is checked (CUDA_CHECK throws
// with the file, line and CUDA's message).
//
// Plain C++: it calls the runtime API only, so .cc files and tests use it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/cuda/cuda_check.h"

namespace gpt::cuda {

// lesson: device_buffer
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t size) : size_(size) {
    if (size > 0) CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), bytes()));
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { to_device(host); }
  ~DeviceBuffer() { release(); }

  DeviceBuffer(const DeviceBuffer&) = delete;  // two owners would free twice
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    if (this != &other) {
      release();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }

  T* data() { return data_; }  // a device pointer: for kernels, not for the CPU
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t bytes() const { return size_ * sizeof(T); }

  void to_device(const std::vector<T>& host) {  // host -> device, all elements
    check_count(host.size());
    if (size_ > 0) CUDA_CHECK(cudaMemcpy(data_, host.data(), bytes(), cudaMemcpyHostToDevice));
  }
  void to_host(std::vector<T>& host) const {  // device -> host; waits for the kernels before it
    host.resize(size_);
    if (size_ > 0) CUDA_CHECK(cudaMemcpy(host.data(), data_, bytes(), cudaMemcpyDeviceToHost));
  }
  std::vector<T> to_host() const {
    std::vector<T> host;
    to_host(host);
    return host;
  }
  void zero() {  // every byte 0: for float, 0.0f
    if (size_ > 0) CUDA_CHECK(cudaMemset(data_, 0, bytes()));
  }

 private:
  void release() noexcept {
    if (data_ != nullptr) cudaFree(data_);  // a destructor must not throw: no CUDA_CHECK
    data_ = nullptr;
    size_ = 0;
  }
  void check_count(size_t n) const {
    if (n != size_) {
      throw std::invalid_argument("DeviceBuffer: copying " + std::to_string(n) +
                                  " elements to a buffer of " + std::to_string(size_));
    }
  }

  T* data_ = nullptr;
  size_t size_ = 0;
};
// end lesson

}  // namespace gpt::cuda
