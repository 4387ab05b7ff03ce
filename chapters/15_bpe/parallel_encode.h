// chapters/15_bpe/parallel_encode.h — a whole corpus on every core.
//
// Pieces never reach across a letter, a space and a letter ("x y"): the
// letters before the space end their piece, and " y..." starts the next one
// whatever came before. So the text can be cut there into chunks, the chunks
// encoded on separate threads (each with its own BpeEncoder and cache), and
// the ids joined: the same ids as encoding the whole text on one thread.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "chapters/15_bpe/bpe.h"

namespace gpt {

// The ids of `text`, encoded on `threads` threads (0: one per core the
// machine has). Equal to bpe.encode(text, special).
std::vector<int32_t> encode_parallel(const Bpe& bpe, std::string_view text, int threads = 0,
                                     SpecialTokens special = SpecialTokens::as_text);

// Where encode_parallel cuts `text` into at most `parts` chunks: positions
// p with an ASCII letter at p - 1, a space at p and an ASCII letter at p + 1,
// each the first such position at or after an even share of the text. The
// chunks are [cuts[i], cuts[i + 1]); cuts starts with 0 and ends with the size.
std::vector<size_t> safe_cuts(std::string_view text, int parts);

}  // namespace gpt
