// chapters/10_fast_cpu/fast_cpu_device.h — chapter 10's CPU as a device for train and generate.
#pragma once

#include "chapters/09_training/device.h"

namespace gpt {

// FastTrainer for training and the KV-cache generator for generation.
// threads <= 0: OpenMP's default (OMP_NUM_THREADS, else every core).
Device fast_cpu_device(int threads = 0);

}  // namespace gpt
