// chapters/15_bpe/bpe_bench.cc — how fast text becomes GPT-2's ids, and where the time goes.
//
//   bazel run //chapters/15_bpe:bpe_bench
//   bazel run //chapters/15_bpe:bpe_bench -- --benchmark_filter=Austen
//   bazel run //chapters/15_bpe:versus_gpt_tokenizer   # against gpt-tokenizer on node, one run
//
// The speeds are bytes of text per second (SetBytesProcessed) and tokens per
// second. Three ways to time encoding Austen on one thread, the same three
// that gpt_tokenizer_bench.js times for gpt-tokenizer:
//   BM_Gpt2AustenFirstRun  the process's first encode: nothing warm at all;
//   BM_Gpt2Austen          cold cache: a fresh BpeEncoder (empty piece cache)
//                          each time, as Bpe::encode does: the honest number;
//   BM_Gpt2AustenWarm      warm cache: one encoder, already used on the text,
//                          so every piece is a cache hit.
// Cold minus warm is the merging; warm minus BM_PretokenizeAusten is the
// cache lookups and copying ids out.
//
// Every benchmark checks once that its output is right (Austen's ids against
// the reference's count and checksum, a decode against the text, two merge
// algorithms against each other) and stops with SkipWithError if not: a fast
// wrong answer is not a result.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "chapters/01_tokens/corpus.h"
#include "chapters/15_bpe/bpe.h"
#include "chapters/15_bpe/gpt2_vocabulary.h"
#include "chapters/15_bpe/learn_bpe.h"
#include "chapters/15_bpe/pair_table.h"
#include "chapters/15_bpe/parallel_encode.h"
#include "chapters/15_bpe/pretokenizer.h"

namespace gpt {
namespace {

const std::string& austen() {
  static const std::string text = read_corpus("austen");
  return text;
}

const std::string& kjv() {
  static const std::string text = read_corpus("kjv");
  return text;
}

// What gpt-tokenizer (r50k_base) makes of Austen: tests/references/15_bpe/gpt2_cases.json.
struct Reference {
  size_t bytes = 0, tokens = 0;
  uint32_t fnv1a = 0;
  std::string error;  // non-empty: the reference could not be read
};

const Reference& austen_reference() {
  static const Reference reference = [] {
    Reference r;
    const std::string path = runfile_path("tests/references/15_bpe/gpt2_cases.json");
    if (path.empty()) {
      r.error = "tests/references/15_bpe/gpt2_cases.json not found (a data dependency)";
      return r;
    }
    const nlohmann::json austen = nlohmann::json::parse(read_whole_file(path))["austen"];
    r.bytes = austen["bytes"].get<size_t>();
    r.tokens = austen["tokens"].get<size_t>();
    r.fnv1a = austen["fnv1a_of_ids"].get<uint32_t>();
    return r;
  }();
  return reference;
}

// FNV-1a over the ids' little-endian bytes, as tests/bpe/make_bpe_references.js computes it.
uint32_t fnv1a(const std::vector<int32_t>& ids) {
  uint32_t h = 0x811c9dc5u;
  for (int32_t id : ids) {
    for (int k = 0; k < 4; ++k) {
      h ^= (static_cast<uint32_t>(id) >> (8 * k)) & 0xFFu;
      h *= 0x01000193u;
    }
  }
  return h;
}

// Empty if `ids` are GPT-2's ids for Austen, else what is wrong.
std::string check_austen(const std::vector<int32_t>& ids) {
  const Reference& ref = austen_reference();
  if (!ref.error.empty()) return ref.error;
  if (austen().size() != ref.bytes) {
    return "austen.txt is " + std::to_string(austen().size()) + " bytes, the reference's " +
           std::to_string(ref.bytes);
  }
  if (ids.size() != ref.tokens) {
    return std::to_string(ids.size()) + " tokens, the reference has " + std::to_string(ref.tokens);
  }
  if (fnv1a(ids) != ref.fnv1a) return "the ids' checksum differs from the reference's";
  return "";
}

// Any benchmark that encodes sets this, so BM_Gpt2AustenFirstRun can say whether it came first.
bool encoded_before = false;

void rates(benchmark::State& state, size_t bytes, size_t tokens) {
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes));
  state.counters["tokens/s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(tokens),
      benchmark::Counter::kIsRate);
  state.counters["token_count"] = static_cast<double>(tokens);
}

std::string austen_label() {
  return "= reference (" + std::to_string(austen_reference().tokens) + " tokens)";
}

// --- GPT-2's vocabulary, Austen, one thread ----------------------------------------------

// The process's first encode: run it alone (--benchmark_filter) for a cold start.
// Registered first, so that it runs first whenever it runs.
void BM_Gpt2AustenFirstRun(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();  // loading the vocabulary is not timed
  const std::string& text = austen();
  const bool first = !encoded_before;
  std::vector<int32_t> ids;
  for (auto _ : state) ids = bpe.encode(text);
  encoded_before = true;
  if (const std::string error = check_austen(ids); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  rates(state, text.size(), ids.size());
  state.SetLabel(austen_label() +
                 (first ? ", the process's first encode" : ", NOT the process's first encode"));
}
BENCHMARK(BM_Gpt2AustenFirstRun)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->Repetitions(1)
    ->UseRealTime();

// Cold cache: each encode starts with an empty piece cache.
void BM_Gpt2Austen(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();
  const std::string& text = austen();
  std::vector<int32_t> ids;
  for (auto _ : state) ids = bpe.encode(text);  // a fresh BpeEncoder each time
  encoded_before = true;
  if (const std::string error = check_austen(ids); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  rates(state, text.size(), ids.size());
  state.SetLabel(austen_label() + ", cold cache");
}
BENCHMARK(BM_Gpt2Austen)->Unit(benchmark::kMillisecond)->UseRealTime();

// Warm cache: one encoder, used on the whole text once before timing.
void BM_Gpt2AustenWarm(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();
  const std::string& text = austen();
  BpeEncoder encoder(bpe);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  encoder.encode(text, ids);  // the warm-up
  encoded_before = true;
  for (auto _ : state) {
    ids.clear();
    encoder.encode(text, ids);
    benchmark::DoNotOptimize(ids.data());
  }
  if (const std::string error = check_austen(ids); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  rates(state, text.size(), ids.size());
  state.counters["cached_pieces"] = static_cast<double>(encoder.cached_pieces());
  state.SetLabel(austen_label() + ", warm cache");
}
BENCHMARK(BM_Gpt2AustenWarm)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- All cores -----------------------------------------------------------------------------

int all_cores() { return static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

void BM_Gpt2AustenParallel(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();
  const std::string& text = austen();
  const int threads = all_cores();
  std::vector<int32_t> ids;
  for (auto _ : state) ids = encode_parallel(bpe, text, threads);  // cold caches, one per thread
  encoded_before = true;
  if (const std::string error = check_austen(ids); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  rates(state, text.size(), ids.size());
  state.counters["threads"] = threads;
  state.SetLabel(austen_label() + ", " + std::to_string(threads) + " threads, cold caches");
}
BENCHMARK(BM_Gpt2AustenParallel)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- The King James Bible: no reference ids, so decode must give the text back ------------

void BM_Gpt2Kjv(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();
  const std::string& text = kjv();
  std::vector<int32_t> ids;
  for (auto _ : state) ids = bpe.encode(text);
  encoded_before = true;
  if (bpe.decode(ids) != text) {
    state.SkipWithError("decoding KJV's ids does not give KJV back");
    return;
  }
  rates(state, text.size(), ids.size());
  state.SetLabel("decodes back to the text, cold cache");
}
BENCHMARK(BM_Gpt2Kjv)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Gpt2KjvParallel(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();
  const std::string& text = kjv();
  const int threads = all_cores();
  std::vector<int32_t> ids;
  for (auto _ : state) ids = encode_parallel(bpe, text, threads);
  encoded_before = true;
  if (ids != bpe.encode(text)) {
    state.SkipWithError("encode_parallel's ids for KJV differ from one thread's");
    return;
  }
  rates(state, text.size(), ids.size());
  state.counters["threads"] = threads;
  state.SetLabel("= one thread's ids, " + std::to_string(threads) + " threads, cold caches");
}
BENCHMARK(BM_Gpt2KjvParallel)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- Decoding ------------------------------------------------------------------------------

void BM_Gpt2DecodeAusten(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();
  const std::string& text = austen();
  const std::vector<int32_t> ids = bpe.encode(text);
  encoded_before = true;
  std::string decoded;
  for (auto _ : state) decoded = bpe.decode(ids);
  if (decoded != text) {
    state.SkipWithError("decoding Austen's ids does not give Austen back");
    return;
  }
  rates(state, text.size(), ids.size());
  state.SetLabel("= the text");
}
BENCHMARK(BM_Gpt2DecodeAusten)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- A small learned vocabulary: more, shorter tokens, more merging per byte ----------------

struct Learned {
  Bpe bpe;
  double seconds;
};

const Learned& learned_512() {
  static const Learned learned = [] {
    const auto start = std::chrono::steady_clock::now();
    Bpe bpe = learn_bpe(austen(), 512);
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    return Learned{std::move(bpe), took.count()};
  }();
  return learned;
}

void BM_Learned512Austen(benchmark::State& state) {
  const Learned& learned = learned_512();  // a few seconds, once, not timed
  const std::string& text = austen();
  std::vector<int32_t> ids;
  for (auto _ : state) ids = learned.bpe.encode(text);
  encoded_before = true;
  if (learned.bpe.vocab_size() != 512 || learned.bpe.decode(ids) != text) {
    state.SkipWithError("the learned vocabulary is not 512 tokens, or does not decode to Austen");
    return;
  }
  rates(state, text.size(), ids.size());
  state.counters["learn_seconds"] = learned.seconds;
  state.SetLabel("learned from Austen, 512 tokens, decodes back, cold cache");
}
BENCHMARK(BM_Learned512Austen)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- Where the time goes: the pre-tokenizer alone -------------------------------------------

void BM_PretokenizeAusten(benchmark::State& state) {
  const std::string& text = austen();
  size_t pieces = 0, bytes = 0;
  for (auto _ : state) {
    Pretokenizer pretokenizer(text);
    std::string_view piece;
    pieces = 0;
    bytes = 0;
    while (pretokenizer.next(piece)) {
      ++pieces;
      bytes += piece.size();
      benchmark::DoNotOptimize(piece.data());
    }
  }
  // The pieces must be the text, cut: same bytes, in order.
  std::string joined;
  for (std::string_view piece : pretokenize(text)) joined += piece;
  if (bytes != text.size() || joined != text) {
    state.SkipWithError("the pieces do not join back into the text");
    return;
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(pieces));  // pieces/s
  state.counters["piece_count"] = static_cast<double>(pieces);
  state.SetLabel("items = pieces; they join back into the text");
}
BENCHMARK(BM_PretokenizeAusten)->Unit(benchmark::kMillisecond)->UseRealTime();

// --- One long piece: rounds of O(n) (merge_by_rank) against the heap (merge_long_piece) ----

// The first n ASCII letters of Austen, lower-cased: one piece of prose with no spaces.
std::string long_piece(size_t n) {
  std::string piece;
  for (char c : austen()) {
    if (piece.size() == n) break;
    if (c >= 'A' && c <= 'Z') piece += static_cast<char>(c - 'A' + 'a');
    if (c >= 'a' && c <= 'z') piece += c;
  }
  return piece;
}

template <void (*Merge)(std::vector<int32_t>&, const PairTable&)>
void BM_MergeLongPieceWith(benchmark::State& state) {
  const Bpe& bpe = gpt2_bpe();
  const std::string piece = long_piece(static_cast<size_t>(state.range(0)));
  std::vector<int32_t> bytes;
  for (char c : piece) bytes.push_back(bpe.byte_token(static_cast<uint8_t>(c)));
  std::vector<int32_t> ids;
  for (auto _ : state) {
    ids = bytes;
    Merge(ids, bpe.pairs());
    benchmark::DoNotOptimize(ids.data());
  }
  std::vector<int32_t> other = bytes;
  if (Merge == &merge_by_rank) {
    merge_long_piece(other, bpe.pairs());
  } else {
    merge_by_rank(other, bpe.pairs());
  }
  if (ids != other || bpe.decode(ids) != piece) {
    state.SkipWithError("merge_by_rank and merge_long_piece disagree");
    return;
  }
  rates(state, piece.size(), ids.size());
  state.SetLabel("= the other algorithm's ids");
}

void BM_MergeByRankLongPiece(benchmark::State& state) {
  BM_MergeLongPieceWith<&merge_by_rank>(state);
}
void BM_MergeLongPiece(benchmark::State& state) {
  BM_MergeLongPieceWith<&merge_long_piece>(state);
}
BENCHMARK(BM_MergeByRankLongPiece)
    ->RangeMultiplier(4)
    ->Range(16, 4096)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_MergeLongPiece)
    ->RangeMultiplier(4)
    ->Range(16, 4096)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace gpt
