// chapters/15_bpe/bpe.h — a byte-level BPE tokenizer: text → ids → text, exactly.
//
//   text ─► pre-tokenizer ─► pieces ─► each piece's bytes, one token each
//        ─► merges by rank ─► the piece's tokens ─► ids
//
// The vocabulary: 256 byte tokens (so every text has an encoding), then one
// token per merge ("Ġ" + "t" → "Ġt", later "Ġt" + "he" → "Ġthe", ...), then
// special tokens such as GPT-2's <|endoftext|>, which no text produces unless
// the caller allows it. GPT-2's own vocabulary is 256 + 50,000 merges + 1 =
// 50,257 tokens (gpt2_vocabulary.h); learn_bpe.h learns one of any size.
//
// Decoding concatenates the tokens' bytes. A token can end in the middle of a
// UTF-8 character (an emoji is 4 bytes and often 2 tokens), so decode()
// returns bytes, which are valid UTF-8 once the whole text is decoded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chapters/15_bpe/pair_table.h"

namespace gpt {

// What encode() does with the text of a special token such as "<|endoftext|>".
// lesson: special_tokens
enum class SpecialTokens {
  as_text,  // encode it as ordinary text, like any other characters (the default)
  allowed,  // encode it as its own id
  refused,  // throw std::invalid_argument naming where it is
};
// end lesson

class Bpe {
 public:
  // tokens[id] is token id's bytes. Every single byte must be one token
  // (exactly one), merges are in rank order, and each merge's token must be
  // its two tokens' bytes joined. special maps a special token's text to its
  // id, which must be a token whose bytes are that text. Throws
  // std::invalid_argument naming the first thing that is not so.
  Bpe(std::vector<std::string> tokens, std::vector<Merge> merges,
      std::map<std::string, int32_t> special = {});

  // UTF-8 text (or any bytes) → ids.
  std::vector<int32_t> encode(std::string_view text,
                              SpecialTokens special = SpecialTokens::as_text) const;
  // ids → bytes. Throws std::out_of_range naming the first id outside
  // [0, vocab_size()) and its position.
  std::string decode(const std::vector<int32_t>& ids) const;

  // One piece of the pre-tokenizer's output → its ids, in `ids` (replacing
  // what it held; its memory is reused).
  void encode_piece(std::string_view piece, std::vector<int32_t>& ids) const;

  int vocab_size() const { return static_cast<int>(tokens_.size()); }
  const std::string& token(int32_t id) const { return tokens_.at(static_cast<size_t>(id)); }
  int32_t byte_token(uint8_t byte) const { return byte_ids_[byte]; }
  const std::vector<Merge>& merges() const { return merges_; }
  const std::map<std::string, int32_t>& special() const { return special_; }
  const PairTable& pairs() const { return pairs_; }

 private:
  std::vector<std::string> tokens_;  // id → bytes
  std::vector<Merge> merges_;        // rank → merge
  std::map<std::string, int32_t> special_;
  int32_t byte_ids_[256];            // byte → its token
  PairTable pairs_;
};

// Encodes text piece by piece and remembers each distinct piece's ids: in
// prose most pieces are words seen before (" the" over and over), and a hash
// lookup is far cheaper than merging again. A piece of up to 16 bytes and 3
// tokens sits whole in a 32-byte slot: its bytes as two 64-bit words, a tag
// (hash bits, length, token count) and the ids, so a hit reads one slot and
// nothing else, and Austen's 21,343 distinct pieces fit in 2 MB. Longer ones
// go to a map of their own. One per thread: it is not safe to share.
class BpeEncoder {
 public:
  explicit BpeEncoder(const Bpe& bpe) : bpe_(bpe) {}
  // Appends the ids of `text` to `out`.
  void encode(std::string_view text, std::vector<int32_t>& out,
              SpecialTokens special = SpecialTokens::as_text);
  size_t cached_pieces() const { return used_ + long_pieces_.size(); }

 private:
  static constexpr size_t kSlotBytes = 16, kSlotIds = 3;
  struct alignas(32) Slot {
    uint64_t head = 0, tail = 0;  // the piece's bytes (piece_words in bpe.cc)
    uint32_t tag = 0;  // hash bits 8-31, length << 3, token count (0: in long_pieces_); 0: empty
    int32_t ids[kSlotIds] = {};
  };
  struct PieceKey {  // a piece of 2 to 16 bytes as a slot holds it
    uint64_t head, tail;
    uint64_t tag;  // a slot's tag without the token count (64 bits: copied whole)
  };
  static PieceKey piece_key(std::string_view piece);
  void encode_ordinary(std::string_view text, std::vector<int32_t>& out);
  void encode_cached(std::string_view piece, const PieceKey& key, std::vector<int32_t>& out);
  void encode_long(std::string_view piece, std::vector<int32_t>& out);
  void grow();
  const Bpe& bpe_;
  std::vector<Slot> slots_;
  size_t used_ = 0;
  std::unordered_map<std::string, std::vector<int32_t>> long_pieces_;
  std::vector<int32_t> scratch_;
};

}  // namespace gpt
