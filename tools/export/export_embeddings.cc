// tools/export/export_embeddings.cc — chapter 02's sinusoidal position table.
//
//   export_embeddings --positions 128 --embed_size 64 --out sinusoidal.safetensors
//
// Calls sinusoidal_table and writes it as `sinusoidal` (P, C), F32, for
// notebooks/tokens_and_embeddings.ipynb to draw.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "chapters/02_embeddings/sinusoidal.h"
#include "common/safetensors.h"

int main(int argc, char** argv) {
  CLI::App app{"Chapter 02's sinusoidal position table, as a safetensors file"};
  int positions = 128, embed_size = 64;
  std::string out;
  app.add_option("--positions", positions, "P: positions (rows)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  app.add_option("--embed_size", embed_size, "C: channels (columns), even")
      ->capture_default_str()->check(CLI::Range(1, 1 << 16));
  app.add_option("--out", out, "the safetensors file to write")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<float> table(size_t(positions) * embed_size);  // (P, C)
    gpt::sinusoidal_table(table.data(), positions, embed_size);
    gpt::Safetensors file;
    file.put_floats("sinusoidal", {positions, embed_size}, table.data());
    file.write(out);
    std::printf("wrote %s: sinusoidal (%d, %d)\n", out.c_str(), positions, embed_size);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "export_embeddings: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
