// chapters/17_mixed_precision/bf16_device.h — chapter 17: `--precision bf16` for the train and generate programs.
#pragma once

#include "chapters/09_training/device.h"

namespace gpt {

// Chapter 14's devices (cpu, cuda, cpu-reference), all fp32, and cuda once
// more in bf16 (bf16_products.h): `--device cuda --precision bf16`.
Devices bf16_course_devices();

}  // namespace gpt
