// chapters/15_bpe/parallel_encode.cc — cut at safe places, encode the chunks on threads, join.
#include "chapters/15_bpe/parallel_encode.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <thread>

namespace gpt {
namespace {

bool ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

// lesson: safe_cuts
std::vector<size_t> safe_cuts(std::string_view text, int parts) {
  std::vector<size_t> cuts = {0};
  for (int k = 1; k < parts; ++k) {
    size_t p = std::max(cuts.back() + 1, text.size() * static_cast<size_t>(k) / parts);
    while (p + 1 < text.size() &&
           !(text[p] == ' ' && ascii_letter(text[p - 1]) && ascii_letter(text[p + 1]))) {
      ++p;
    }
    if (p + 1 >= text.size()) break;  // no safe place left: fewer chunks
    cuts.push_back(p);
  }
  cuts.push_back(text.size());
  return cuts;
}
// end lesson

std::vector<int32_t> encode_parallel(const Bpe& bpe, std::string_view text, int threads,
                                     SpecialTokens special) {
  if (special == SpecialTokens::refused) {  // here, so the error names the byte in `text`
    for (const auto& [name, id] : bpe.special()) {
      const size_t at = text.find(name);
      if (at != std::string_view::npos) {
        throw std::invalid_argument("the text holds the special token " + name + " at byte " +
                                    std::to_string(at) + "; allow it, or encode it as text");
      }
    }
  }
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // A few chunks per thread would balance better; one is enough for prose.
  const std::vector<size_t> cuts = safe_cuts(text, threads);
  const size_t chunks = cuts.size() - 1;
  std::vector<std::vector<int32_t>> parts(chunks);
  std::vector<std::thread> workers;
  // Chunk 0 runs here; a special token refused in a chunk throws on its thread,
  // so each thread catches and the error is rethrown here.
  std::vector<std::exception_ptr> errors(chunks);
  auto work = [&](size_t i) {
    try {
      // A vector of the thread's own, moved into parts[i] at the end: the
      // vectors in `parts` sit side by side, and growing them from several
      // threads would make the threads fight over one cache line.
      std::vector<int32_t> ids;
      ids.reserve((cuts[i + 1] - cuts[i]) / 3);
      BpeEncoder(bpe).encode(text.substr(cuts[i], cuts[i + 1] - cuts[i]), ids, special);
      parts[i] = std::move(ids);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  for (size_t i = 1; i < chunks; ++i) workers.emplace_back(work, i);
  work(0);
  for (std::thread& t : workers) t.join();
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  size_t total = 0;
  for (const auto& p : parts) total += p.size();
  std::vector<int32_t> ids;
  ids.reserve(total);
  for (const auto& p : parts) ids.insert(ids.end(), p.begin(), p.end());
  return ids;
}

}  // namespace gpt
