// tools/fuzz/runfiles_stub/tools/cpp/runfiles/runfiles.h — Bazel's runfiles
// library, reduced to "there are no runfiles".
//
// chapters/01_tokens/corpus.cc uses Bazel's runfiles library to find the named
// corpora (austen, kjv) when a program is started by hand. The fuzz targets are
// built with clang++ outside Bazel and read only files given by path, so they
// compile the real corpus.cc against this stand-in, whose Create() always
// fails. It is not a copy of Bazel's code, only its interface's shape.
#pragma once

#include <string>

namespace bazel {
namespace tools {
namespace cpp {
namespace runfiles {

class Runfiles {
 public:
  static Runfiles* Create(const std::string&, std::string* error) {
    if (error) *error = "no runfiles outside Bazel";
    return nullptr;
  }
  std::string Rlocation(const std::string&) const { return ""; }
};

}  // namespace runfiles
}  // namespace cpp
}  // namespace tools
}  // namespace bazel
