// chapters/10_fast_cpu/shared_units_test.cc — every unit taken once, own shares first, the rest stolen from the back.
#include "chapters/10_fast_cpu/shared_units.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <thread>
#include <vector>

namespace gpt {
namespace {

struct Take {
  int first, count;
};

// Runs `threads` OpenMP threads taking runs of at most `most` units; thread
// `late` (if any) starts only when every other thread has found nothing
// left (a wait on the others, not a pause: a pause proves nothing on a busy
// machine, where the others may not run at all during it). Returns each
// thread's takes in order.
std::vector<std::vector<Take>> take_all(int units, int threads, int most, int late = -1) {
  SharedUnits shared;
  shared.reset(units, threads);
  std::vector<std::vector<Take>> takes(threads);
  std::atomic<int> done{0};
#pragma omp parallel num_threads(threads)
  {
    const int me = omp_get_thread_num();
    if (me == late) {
      while (done.load() < omp_get_num_threads() - 1) std::this_thread::yield();
    }
    int first, count;
    while ((count = shared.next(most, &first)) > 0) takes[me].push_back({first, count});
    done.fetch_add(1);
  }
  return takes;
}

void expect_each_unit_once(const std::vector<std::vector<Take>>& takes, int units) {
  std::vector<int> times(units, 0);
  for (const auto& thread : takes) {
    for (const Take& t : thread) {
      for (int u = t.first; u < t.first + t.count; ++u) {
        ASSERT_GE(u, 0);
        ASSERT_LT(u, units);
        ++times[u];
      }
    }
  }
  for (int u = 0; u < units; ++u) EXPECT_EQ(times[u], 1) << "unit " << u;
}

TEST(SharedUnits, EveryUnitIsTakenExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    for (int units : {0, 1, 5, 32, 128, 1000}) {
      for (int most : {1, 5, 1000}) {
        SCOPED_TRACE(testing::Message() << threads << " threads, " << units << " units, runs of "
                                        << most);
        expect_each_unit_once(take_all(units, threads, most), units);
      }
    }
  }
}

// One thread alone takes its own share from the front, in runs of half of
// what is left (at most `most`), then the others' shares one unit at a time
// from their backs.
TEST(SharedUnits, OwnShareFirstInRunsThenTheOthersFromTheBack) {
  SharedUnits shared;
  shared.reset(32, 2);  // thread 0 owns units [0, 16), thread 1 [16, 32)
  std::vector<Take> takes;
  int first, count;
  while ((count = shared.next(5, &first)) > 0) takes.push_back({first, count});
  ASSERT_GE(takes.size(), 5u);
  EXPECT_EQ(takes[0].first, 0);
  EXPECT_EQ(takes[0].count, 5);  // half of 16 is 8, at most 5
  EXPECT_EQ(takes[1].first, 5);
  EXPECT_EQ(takes[1].count, 5);
  EXPECT_EQ(takes[2].first, 10);
  EXPECT_EQ(takes[2].count, 3);  // half of the 6 left
  int next_own = 13;
  size_t i = 3;
  for (; i < takes.size() && takes[i].first < 16; ++i) {  // the last runs, shorter and shorter
    EXPECT_EQ(takes[i].first, next_own);
    next_own += takes[i].count;
  }
  EXPECT_EQ(next_own, 16);
  for (int expected = 31; i < takes.size(); ++i, --expected) {  // thread 1's, from the back
    EXPECT_EQ(takes[i].first, expected);
    EXPECT_EQ(takes[i].count, 1);
  }
  expect_each_unit_once({takes}, 32);
}

// A team smaller than the shares: the missing thread's units are taken too.
TEST(SharedUnits, ATeamSmallerThanTheSharesTakesThemAll) {
  SharedUnits shared;
  shared.reset(50, 4);
  std::vector<std::vector<Take>> takes(2);
#pragma omp parallel num_threads(2)
  {
    int first, count;
    while ((count = shared.next(3, &first)) > 0) takes[omp_get_thread_num()].push_back({first, count});
  }
  expect_each_unit_once(takes, 50);
}

// A late thread's units are done by the others: the early thread takes its
// own share, then all of the late one's, from the back.
TEST(SharedUnits, ALateThreadsShareIsTakenByTheOther) {
  const auto takes = take_all(64, 2, 4, /*late=*/1);
  expect_each_unit_once(takes, 64);
  int stolen = 0;
  for (const Take& t : takes[0]) stolen += t.first >= 32 ? t.count : 0;
  EXPECT_EQ(stolen, 32) << "thread 0 took only " << stolen << " of the late thread's 32 units";
  EXPECT_TRUE(takes[1].empty()) << "the late thread found units left";
  for (size_t i = 1; i < takes[0].size(); ++i) {  // stolen units come from the back, one by one
    if (takes[0][i].first >= 32) {
      EXPECT_EQ(takes[0][i].count, 1);
      if (takes[0][i - 1].first >= 32) {
        EXPECT_EQ(takes[0][i].first, takes[0][i - 1].first - 1);
      }
    }
  }
}

}  // namespace
}  // namespace gpt
