// chapters/15_bpe/merge_lines.h — the merge list as text: "left right", one per line.
//
// GPT-2's vocab.bpe and this chapter's learned BPE files share a format: '#'
// lines at the top are comments ("#version: 0.2"), then one merge per line,
// its two tokens written in the byte alphabet (byte_alphabet.h) and
// separated by one space. The byte alphabet has no space character, so the
// space always separates.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace gpt {

// Calls `merge(left, right, line_number)` for each merge line of `text`, in
// order. Throws std::runtime_error naming `file` and the line for a line that
// is not two tokens separated by one space, or for a text with no merges
// that does not even have a comment line (an empty or cut-off file).
void for_each_merge_line(
    std::string_view text, const std::string& file,
    const std::function<void(const std::string& left, const std::string& right, int line)>& merge);

}  // namespace gpt
