// chapters/15_bpe/merge_lines.cc — reading "left right" lines.
#include "chapters/15_bpe/merge_lines.h"

#include <stdexcept>

namespace gpt {

void for_each_merge_line(
    std::string_view text, const std::string& file,
    const std::function<void(const std::string& left, const std::string& right, int line)>& merge) {
  if (text.empty()) throw std::runtime_error(file + ": the file is empty");
  size_t pos = 0;
  int line = 0;
  bool in_header = true;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view content = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (!content.empty() && content.back() == '\r') content.remove_suffix(1);
    if (in_header && !content.empty() && content[0] == '#') continue;
    in_header = false;
    if (content.empty() && pos >= text.size()) break;  // the final newline
    const size_t space = content.find(' ');
    if (content.empty() || space == 0 || space == std::string_view::npos ||
        space + 1 == content.size() || content.find(' ', space + 1) != std::string_view::npos) {
      throw std::runtime_error(file + ": line " + std::to_string(line) + " is '" +
                               std::string(content.substr(0, 80)) +
                               "', not a merge: two tokens separated by one space");
    }
    merge(std::string(content.substr(0, space)), std::string(content.substr(space + 1)), line);
  }
}

}  // namespace gpt
