// chapters/15_bpe/bpe.cc — checking a vocabulary, encoding with a piece cache, decoding.
#include "chapters/15_bpe/bpe.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

#include "chapters/15_bpe/byte_alphabet.h"
#include "chapters/15_bpe/pretokenizer.h"

namespace gpt {
namespace {

// Pieces longer than this merge with the heap (merge_long_piece), and are not
// remembered by BpeEncoder: they are rare, and would fill the cache.
constexpr size_t kLongPiece = 64;
// The cache starts over when it holds this many pieces (a text with endless
// distinct pieces, random bytes say, must not grow it without bound).
constexpr size_t kMaxCachedPieces = size_t{1} << 18;  // 2^19 slots of 32 bytes: 16 MB

std::string quoted(const std::string& bytes) { return "'" + bytes_to_alphabet(bytes) + "'"; }

}  // namespace

Bpe::Bpe(std::vector<std::string> tokens, std::vector<Merge> merges,
         std::map<std::string, int32_t> special)
    : tokens_(std::move(tokens)), merges_(std::move(merges)), special_(std::move(special)) {
  const int32_t n = vocab_size();
  auto id_name = [&](int32_t id) { return "token " + std::to_string(id) + " " + quoted(tokens_[id]); };
  std::unordered_map<std::string, int32_t> seen;
  for (int b = 0; b < 256; ++b) byte_ids_[b] = -1;
  for (int32_t id = 0; id < n; ++id) {
    if (tokens_[id].empty()) throw std::invalid_argument("token " + std::to_string(id) + " is empty");
    const auto [it, fresh] = seen.emplace(tokens_[id], id);
    if (!fresh) throw std::invalid_argument(id_name(id) + " repeats token " + std::to_string(it->second));
    if (tokens_[id].size() == 1) byte_ids_[static_cast<uint8_t>(tokens_[id][0])] = id;
  }
  for (int b = 0; b < 256; ++b) {
    if (byte_ids_[b] < 0) {
      throw std::invalid_argument("no token is the single byte " + std::to_string(b) + " " +
                                  quoted(std::string(1, static_cast<char>(b))) +
                                  ": a byte-level vocabulary needs all 256");
    }
  }
  for (size_t rank = 0; rank < merges_.size(); ++rank) {
    const Merge& m = merges_[rank];
    for (int32_t id : {m.left, m.right, m.merged}) {
      if (id < 0 || id >= n) {
        throw std::invalid_argument("merge " + std::to_string(rank) + " names token " +
                                    std::to_string(id) + ", outside the vocabulary of " +
                                    std::to_string(n));
      }
    }
    if (tokens_[m.merged] != tokens_[m.left] + tokens_[m.right]) {
      throw std::invalid_argument("merge " + std::to_string(rank) + " joins " + id_name(m.left) +
                                  " and " + id_name(m.right) + " into " + id_name(m.merged));
    }
  }
  for (const auto& [text, id] : special_) {
    if (id < 0 || id >= n || tokens_[id] != text) {
      throw std::invalid_argument("the special token '" + text + "' is not token " +
                                  std::to_string(id));
    }
  }
  pairs_ = PairTable(merges_);  // throws on a pair listed twice
}

// lesson: encode_piece
void Bpe::encode_piece(std::string_view piece, std::vector<int32_t>& ids) const {
  ids.clear();  // keeps its memory: no allocation per piece
  for (char b : piece) ids.push_back(byte_ids_[static_cast<uint8_t>(b)]);
  if (ids.size() <= kLongPiece) {
    merge_by_rank(ids, pairs_);
  } else {
    merge_long_piece(ids, pairs_);
  }
}
// end lesson

std::vector<int32_t> Bpe::encode(std::string_view text, SpecialTokens special) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  BpeEncoder(*this).encode(text, ids, special);
  return ids;
}

std::string Bpe::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size()) {
      throw std::out_of_range("id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside the vocabulary [0, " +
                              std::to_string(vocab_size()) + ")");
    }
    bytes += tokens_[static_cast<size_t>(ids[i])];
  }
  return bytes;
}

void BpeEncoder::encode(std::string_view text, std::vector<int32_t>& out, SpecialTokens special) {
  if (special == SpecialTokens::as_text || bpe_.special().empty()) {
    encode_ordinary(text, out);
    return;
  }
  // Cut the text at each special token: ordinary text between them.
  size_t pos = 0;
  while (pos < text.size()) {
    size_t found = std::string_view::npos;
    const std::pair<const std::string, int32_t>* which = nullptr;
    for (const auto& entry : bpe_.special()) {
      const size_t at = text.find(entry.first, pos);
      if (at < found) {
        found = at;
        which = &entry;
      }
    }
    if (!which) break;
    if (special == SpecialTokens::refused) {
      throw std::invalid_argument("the text holds the special token " + which->first +
                                  " at byte " + std::to_string(found) +
                                  "; allow it, or encode it as text");
    }
    encode_ordinary(text.substr(pos, found - pos), out);
    out.push_back(which->second);
    pos = found + which->first.size();
  }
  encode_ordinary(text.substr(pos), out);
}

void BpeEncoder::encode_ordinary(std::string_view text, std::vector<int32_t>& out) {
  if (slots_.empty()) {
    // Sized for the text: prose has about one distinct piece in 200 bytes
    // (Austen: 21,343 in 4 MB), two slots each; 256 slots at least.
    size_t size = 256;
    while (size < 65536 && size * 100 < text.size()) size *= 2;
    slots_.assign(size, Slot{});
  }
  // One piece ahead: while a piece is encoded, the slot of the next one is
  // already on its way from memory (__builtin_prefetch), so a cache hit
  // rarely waits for it.
  auto cached = [](std::string_view piece) { return piece.size() >= 2 && piece.size() <= kSlotBytes; };
  Pretokenizer pieces(text);
  std::string_view piece, next;
  PieceKey key{}, next_key{};
  bool more = pieces.next(piece);
  if (more && cached(piece)) key = piece_key(piece);
  while (more) {
    more = pieces.next(next);
    if (more && cached(next)) {
      next_key = piece_key(next);
      __builtin_prefetch(&slots_[(next_key.tag >> 8) & (slots_.size() - 1)]);
    }
    if (piece.size() == 1) {
      out.push_back(bpe_.byte_token(static_cast<uint8_t>(piece[0])));
    } else if (cached(piece)) {
      encode_cached(piece, key, out);
    } else if (piece.size() <= kLongPiece) {
      encode_long(piece, out);
    } else {  // too long to remember
      bpe_.encode_piece(piece, scratch_);
      out.insert(out.end(), scratch_.begin(), scratch_.end());
    }
    piece = next;
    key = next_key;
  }
}

BpeEncoder::PieceKey BpeEncoder::piece_key(std::string_view piece) {
  // The piece's bytes as two words, read straight from the text: two
  // overlapping loads cover 4 to 16 bytes, and with the length they say
  // exactly which bytes the piece holds.
  const size_t n = piece.size();
  const char* p = piece.data();
  uint64_t head = 0, tail = 0;
  if (n >= 8) {
    std::memcpy(&head, p, 8);
    std::memcpy(&tail, p + n - 8, 8);
  } else if (n >= 4) {
    uint32_t a, b;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + n - 4, 4);
    head = (uint64_t{b} << 32) | a;
  } else {
    head = uint64_t(uint8_t(p[0])) | uint64_t(uint8_t(p[1])) << 8 | uint64_t(uint8_t(p[n - 1])) << 16;
  }
  uint64_t h = (head * 0x9E3779B97F4A7C15ull) ^ (tail * 0xC2B2AE3D27D4EB4Full) ^ n;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  return {head, tail, (static_cast<uint32_t>(h >> 32) & 0xFFFFFF00u) | uint32_t(n << 3)};
}

void BpeEncoder::encode_cached(std::string_view piece, const PieceKey& key,
                               std::vector<int32_t>& out) {
  const size_t mask = slots_.size() - 1;
  size_t i = (key.tag >> 8) & mask;
  for (;; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.tag == 0) break;
    if ((slot.tag & ~7u) == static_cast<uint32_t>(key.tag) && slot.head == key.head && slot.tail == key.tail) {
      const uint32_t count = slot.tag & 7u;
      if (count == 0) {  // more tokens than a slot holds: they are in the long map
        encode_long(piece, out);
        return;
      }
      for (uint32_t k = 0; k < count; ++k) out.push_back(slot.ids[k]);
      return;
    }
  }
  // Not seen yet: merge it, and remember it in the empty slot the probe ended on.
  bpe_.encode_piece(piece, scratch_);
  out.insert(out.end(), scratch_.begin(), scratch_.end());
  Slot& slot = slots_[i];
  slot.head = key.head;
  slot.tail = key.tail;
  if (scratch_.size() > kSlotIds) {  // a count of 0 sends later hits to the long map
    slot.tag = static_cast<uint32_t>(key.tag);
    long_pieces_.emplace(std::string(piece), scratch_);
  } else {
    slot.tag = static_cast<uint32_t>(key.tag) | static_cast<uint32_t>(scratch_.size());
    std::copy(scratch_.begin(), scratch_.end(), slot.ids);
  }
  ++used_;
  if (2 * used_ > slots_.size()) grow();  // at most half full
}

void BpeEncoder::encode_long(std::string_view piece, std::vector<int32_t>& out) {
  const auto it = long_pieces_.find(std::string(piece));  // rare: an allocation is fine
  if (it != long_pieces_.end()) {
    out.insert(out.end(), it->second.begin(), it->second.end());
    return;
  }
  bpe_.encode_piece(piece, scratch_);
  out.insert(out.end(), scratch_.begin(), scratch_.end());
  if (long_pieces_.size() < kMaxCachedPieces) long_pieces_.emplace(std::string(piece), scratch_);
}

void BpeEncoder::grow() {
  if (used_ >= kMaxCachedPieces) {  // start over rather than grow without bound
    slots_.assign(slots_.size(), Slot{});
    used_ = 0;
    return;
  }
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(2 * old.size(), Slot{});
  const size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.tag == 0) continue;
    size_t i = (slot.tag >> 8) & mask;
    while (slots_[i].tag != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

}  // namespace gpt
