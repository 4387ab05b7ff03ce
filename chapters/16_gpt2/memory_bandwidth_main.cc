// chapters/16_gpt2/memory_bandwidth_main.cc — chapter 16: print the machine's read bandwidth.
//   bazel run //chapters/16_gpt2:memory_bandwidth [-- --json] [-- --mib 1024 --passes 5]
// Reads a 1 GiB buffer (far beyond any last-level cache) with 1 thread and
// with every core, best of 5 passes each, and prints GB/s (10^9 bytes/s):
// the ceiling for generating one token at a time, which reads every weight.
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "chapters/16_gpt2/memory_bandwidth.h"

int main(int argc, char** argv) {
  bool json = false;
  size_t mib = 1024;
  int passes = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") {
      json = true;
    } else if (arg == "--mib" && i + 1 < argc) {
      mib = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--passes" && i + 1 < argc) {
      passes = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: memory_bandwidth [--json] [--mib N] [--passes N]\n");
      return 2;
    }
  }
  const int cores = omp_get_num_procs();
  const gpt::ReadBandwidthProbe probe(mib << 20);
  const gpt::MemoryBandwidth one = probe.measure(1, passes);
  const gpt::MemoryBandwidth all = probe.measure(cores, passes);
  if (json) {
    std::printf("{\"read_gb_per_s_1_thread\": %.2f, \"read_gb_per_s_all\": %.2f, "
                "\"threads_all\": %d, \"streams_1_thread\": %d, \"streams_all\": %d, "
                "\"one_stream_gb_per_s_1_thread\": %.2f, \"one_stream_gb_per_s_all\": %.2f, "
                "\"worst_gb_per_s_1_thread\": %.2f, \"worst_gb_per_s_all\": %.2f, "
                "\"buffer_bytes\": %zu, \"passes\": %d, \"vector_floats\": %d}\n",
                one.gb_per_s, all.gb_per_s, cores, one.streams, all.streams,
                one.one_stream_gb_per_s, all.one_stream_gb_per_s, one.worst_gb_per_s,
                all.worst_gb_per_s, all.bytes, passes, all.vector_floats);
    return 0;
  }
  std::printf("DRAM read bandwidth: a %.0f MiB buffer summed with %d-float loads, 1, 4, 8 or 16 "
              "streams per thread, best of %d passes each\n",
              double(all.bytes) / (1 << 20), all.vector_floats, passes);
  for (const gpt::MemoryBandwidth& m : {one, all}) {
    std::printf("  %d thread%s: %6.1f GB/s with %2d streams a thread (its slowest pass %.1f); "
                "one stream a thread: %.1f GB/s\n",
                m.threads, m.threads == 1 ? " " : "s", m.gb_per_s, m.streams, m.worst_gb_per_s,
                m.one_stream_gb_per_s);
  }
  return 0;
}
