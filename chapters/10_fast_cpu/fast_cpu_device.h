// chapters/10_fast_cpu/fast_cpu_device.h — chapter 10's CPU as a device for train and generate.
#pragma once

#include "chapters/09_training/device.h"

namespace gpt {

// FastTrainer for training and the KV-cache generator for generation.
// threads <= 0: OpenMP's default (OMP_NUM_THREADS, else every core), each step and
// token running only as many threads as other processes leave cores free
// (free_cores.h); a count given is used as it is.
Device fast_cpu_device(int threads = 0);

}  // namespace gpt
