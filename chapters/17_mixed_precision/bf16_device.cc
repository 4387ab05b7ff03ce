// chapters/17_mixed_precision/bf16_device.cc — chapter 17: the cuda device with bf16 products, beside chapter 14's.
#include "chapters/17_mixed_precision/bf16_device.h"

#include "chapters/14_cuda_gpt/cuda_device.h"
#include "chapters/17_mixed_precision/bf16_products.h"

namespace gpt {

// lesson: bf16_device
Devices bf16_course_devices() {
  Devices devices = course_devices();  // chapter 14's, in fp32
  cuda::GpuOptions bf16;
  bf16.products = cuda::bf16_products();
  devices.push_back({"cuda", cuda_device(bf16)});  // its precision is the products' ("bf16")
  return devices;
}
// end lesson

}  // namespace gpt
