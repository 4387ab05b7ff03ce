// chapters/01_tokens/corpus.h — where the training text comes from.
//
// A corpus is a UTF-8 text. Named corpora come from Debian packages and are
// extracted at build time (see BUILD):
//   "austen"  Jane Austen's six novels (r-cran-janeaustenr), about 4 MB
//   "kjv"     the King James Bible (bible-kjv), about 4 MB
// Anything else is read as a path to a UTF-8 text file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gpt {

// The corpus text. Throws std::runtime_error for a missing or empty file and
// std::invalid_argument for invalid UTF-8, each naming the file.
std::string read_corpus(const std::string& name_or_path);

// The file that read_corpus reads for a name: "austen" → .../austen.txt.
std::string corpus_path(const std::string& name_or_path);

// Where a data file of the build (a path relative to the workspace, e.g.
// "chapters/01_tokens/austen.txt") is for this program: in the runfiles root
// under `bazel run` and `bazel test`, in the runfiles beside the binary when
// started by hand. Empty when it is in neither.
std::string runfile_path(const std::string& relative);

struct TrainValSplit {
  std::vector<int32_t> train;  // the first (1 - val_fraction) of the tokens
  std::vector<int32_t> val;    // the rest: text the model never trains on
};

// Splits by position, not at random: validation text is a contiguous stretch
// the model has never seen, which is what generalisation means for text.
TrainValSplit split_train_val(const std::vector<int32_t>& tokens, double val_fraction);

}  // namespace gpt
