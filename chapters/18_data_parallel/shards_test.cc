// chapters/18_data_parallel/shards_test.cc — ZeRO-1's shard arithmetic, and one rank alone.
//
// No MPI here: the shards (the exercise), a rank's rows of a batch, skipping
// random draws, and the data-parallel engine on one rank (SoloCommunicator),
// which must train as the engine it wraps. data_parallel_checks.cc runs the
// same wrapper over 2 MPI ranks.
#include <gtest/gtest.h>

#include <numeric>

#include "chapters/07_gpt/init.h"
#include "chapters/09_training/trainer.h"
#include "chapters/18_data_parallel/data_parallel.h"

namespace gpt {
namespace {

GPTConfig small_config() {
  GPTConfig c;
  c.vocab_size = 13;
  c.embed_size = 16;
  c.max_length = 8;
  c.num_layers = 2;
  c.heads = 2;
  c.ff_dim = 32;
  return c;
}

TEST(ShardRanges, CoverTheBufferEvenlyLargerFirst) {
  const Shards s = shard_ranges(10, 3);
  ASSERT_EQ(s.offsets.size(), 4u) << "3 ranks need 4 offsets";
  EXPECT_EQ(s.offsets, (std::vector<size_t>{0, 4, 7, 10})) << "10 floats over 3 ranks: 4, 3, 3";
  EXPECT_EQ(shard_ranges(7, 1).offsets, (std::vector<size_t>{0, 7})) << "one rank owns everything";
  EXPECT_EQ(shard_ranges(2, 4).offsets, (std::vector<size_t>{0, 1, 2, 2, 2}))
      << "more ranks than floats: the last shards are empty";
  EXPECT_EQ(shard_ranges(12, 4).offsets, (std::vector<size_t>{0, 3, 6, 9, 12}));
}

TEST(ShardRanges, EveryCountWithinOneOfTheMean) {
  for (size_t n : {1u, 5u, 64u, 1000003u}) {
    for (int ranks : {1, 2, 3, 7, 8}) {
      const Shards s = shard_ranges(n, ranks);
      ASSERT_EQ(s.ranks(), ranks) << "n " << n << ", " << ranks << " ranks";
      ASSERT_EQ(s.begin(0), 0u);
      ASSERT_EQ(s.end(ranks - 1), n) << "the shards must end at n";
      for (int r = 0; r < ranks; ++r) {
        EXPECT_TRUE(s.count(r) == n / ranks || s.count(r) == n / ranks + 1)
            << "n " << n << ", rank " << r << " of " << ranks << " holds " << s.count(r);
        if (r > 0) {
          EXPECT_LE(s.count(r), s.count(r - 1)) << "the larger shards come first";
        }
      }
    }
  }
}

TEST(SlotPieces, TheShardsPiecesTileTheLayoutOnce) {
  const ParameterLayout layout(small_config());
  for (int ranks : {1, 2, 3, 5}) {
    const Shards s = shard_ranges(layout.total(), ranks);
    std::vector<int> covered(layout.total(), 0);
    for (int r = 0; r < ranks; ++r) {
      for (const SlotPiece& p : slot_pieces(layout, s.begin(r), s.end(r))) {
        ASSERT_NE(p.slot, nullptr);
        EXPECT_LT(p.begin, p.end) << "an empty piece";
        EXPECT_GE(p.begin, p.slot->offset) << p.slot->name << ": the piece starts before its slot";
        EXPECT_LE(p.end, p.slot->offset + p.slot->numel) << p.slot->name << ": ends after it";
        EXPECT_GE(p.begin, s.begin(r)) << "outside rank " << r << "'s shard";
        EXPECT_LE(p.end, s.end(r)) << "outside rank " << r << "'s shard";
        for (size_t i = p.begin; i < p.end; ++i) ++covered[i];
      }
    }
    for (size_t i = 0; i < covered.size(); ++i) {
      ASSERT_EQ(covered[i], 1) << ranks << " ranks: float " << i << " is updated " << covered[i]
                               << " times, should be once";
    }
  }
}

TEST(SlotPieces, ARangeInsideOneSlotIsOnePiece) {
  const ParameterLayout layout(small_config());
  const ParameterSlot& slot = layout.slots()[1];
  const auto pieces = slot_pieces(layout, slot.offset + 1, slot.offset + 3);
  ASSERT_EQ(pieces.size(), 1u);
  EXPECT_EQ(pieces[0].slot, &slot);
  EXPECT_EQ(pieces[0].begin, slot.offset + 1);
  EXPECT_EQ(pieces[0].end, slot.offset + 3);
  EXPECT_TRUE(slot_pieces(layout, 5, 5).empty()) << "an empty range has no pieces";
}

TEST(RowsOf, EachRankTakesItsRowsOfTheGlobalBatch) {
  Batch batch;
  batch.B = 4;
  batch.T = 3;
  for (int i = 0; i < 12; ++i) {
    batch.inputs.push_back(i);
    batch.targets.push_back(100 + i);
  }
  const Batch second = rows_of(batch, 1, 2);
  EXPECT_EQ(second.B, 2);
  EXPECT_EQ(second.inputs, (std::vector<int32_t>{6, 7, 8, 9, 10, 11}));
  EXPECT_EQ(second.targets, (std::vector<int32_t>{106, 107, 108, 109, 110, 111}));
  EXPECT_THROW(rows_of(batch, 0, 3), std::invalid_argument) << "4 rows do not split over 3 ranks";
}

TEST(SkipDraws, EqualsDrawingAndDiscarding) {
  Rng drawn(42), skipped(42);
  for (int i = 0; i < 1000; ++i) drawn.uniform();
  skipped.skip(1000);
  EXPECT_EQ(drawn.state(), skipped.state()) << "Rng's draw is no longer one fixed step of its state";
  EXPECT_EQ(drawn.uniform(), skipped.uniform());
}

// One rank: the wrapper must train exactly as the engine it wraps.
TEST(DataParallelOnOneRank, TrainsAsTheWrappedEngine) {
  GPTConfig config = small_config();
  config.dropout = 0.1f;
  for (bool zero1 : {false, true}) {
    TrainingState plain(config), wrapped(config);
    Rng init(3);
    init_gpt2(plain.model, init);
    wrapped.model.params = plain.model.params;
    Trainer alone(config, 4, 8);
    SoloCommunicator solo;
    DataParallelEngine dp(std::make_unique<Trainer>(config, 4, 8), solo, {zero1});
    Rng r1(9), r2(9), data(4);
    for (int s = 0; s < 5; ++s) {
      Batch batch;
      batch.B = 4;
      batch.T = 8;
      for (int i = 0; i < 32; ++i) {
        batch.inputs.push_back(static_cast<int32_t>(data.below(13)));
        batch.targets.push_back(static_cast<int32_t>(data.below(13)));
      }
      const StepResult a = alone.step(plain, batch, 1e-2f, 0.5f, AdamWConfig{}, r1);
      const StepResult b = dp.step(wrapped, batch, 1e-2f, 0.5f, AdamWConfig{}, r2);
      EXPECT_EQ(a.loss, b.loss) << (zero1 ? "ZeRO-1" : "all-reduce") << ", step " << s;
      EXPECT_EQ(a.grad_norm, b.grad_norm) << (zero1 ? "ZeRO-1" : "all-reduce") << ", step " << s;
    }
    EXPECT_EQ(r1.state(), r2.state()) << "the wrapper drew other random numbers";
    for (size_t i = 0; i < plain.model.params.size(); ++i) {
      ASSERT_EQ(plain.model.params.data()[i], wrapped.model.params.data()[i])
          << (zero1 ? "ZeRO-1" : "all-reduce") << ": parameter " << i;
    }
  }
}

}  // namespace
}  // namespace gpt
