// chapters/18_data_parallel/data_parallel_checks.cc — N ranks train as one: the equalities.
//
// Every rank runs this program (data_parallel_test.sh starts it with
// `mpirun -np 2`); each test calls the collectives in the same order on
// every rank. The reference, one rank with the whole batch B, needs no
// other rank: each rank computes it by itself, on the same data, and
// compares. Tolerance 1e-6 + 1e-5·|x| on every loss, gradient norm,
// parameter and AdamW moment after 20 steps with dropout and clipping on:
// N ranks sum each gradient in another order than one rank does (each
// rank's rows, then the ranks), and that is all that may differ.
//
// Except in one place: the key third of each attention bias. Its exact
// gradient is 0 (a bias added to every key shifts each row of scores by one
// constant, which the softmax ignores), so what it gets in float is rounding
// noise, and AdamW, which divides by the gradient's own size, turns that
// noise into steps of the learning rate's order (chapter 09's lesson). Two
// summation orders give two different noises: those floats are compared
// only for staying near 0, where both runs keep them.
//
// And chapter 10's engine sums each weight gradient's rows in blocks, which
// B/2 rows and B rows cut differently; where a gradient is a sum of terms
// that nearly cancel, AdamW (which divides by the gradient's size) carries
// that difference into the parameter. Its parameters are compared at
// 1e-6 + 1e-4·|x|, chapter 10's own tolerance for 20-step trajectories
// (measured: 1.04 of 1e-6 + 1e-5·|x| at worst, one float of 28,352; every
// other value, and every value of chapter 09's engine, within 1e-5·|x|).
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "chapters/01_tokens/batches.h"
#include "chapters/07_gpt/init.h"
#include "chapters/09_training/trainer.h"
#include "chapters/10_fast_cpu/fast_trainer.h"
#include "chapters/18_data_parallel/data_parallel.h"
#include "chapters/18_data_parallel/mpi_communicator.h"
#include "chapters/18_data_parallel/run_comparison.h"

namespace gpt {
namespace {

MpiCommunicator* g_comm = nullptr;

constexpr int kB = 8, kT = 16, kSteps = 20;
constexpr double kFastParameterRtol = 1e-4;  // chapter 10's parameters (above)

GPTConfig test_config() {
  GPTConfig c;
  c.vocab_size = 37;
  c.embed_size = 32;
  c.max_length = kT;
  c.num_layers = 2;
  c.heads = 4;
  c.ff_dim = 128;
  c.dropout = 0.1f;
  return c;
}

using EngineFactory = std::function<std::unique_ptr<TrainingEngine>(const GPTConfig&, int B)>;

const EngineFactory kPlain = [](const GPTConfig& c, int B) {
  return std::unique_ptr<TrainingEngine>(new Trainer(c, B, kT));
};
const EngineFactory kFast = [](const GPTConfig& c, int B) {
  return std::unique_ptr<TrainingEngine>(new FastTrainer(c, B, kT, 1));
};

// A run's record: each step's loss and norm, then the state.
struct Trajectory {
  std::vector<float> losses;
  std::vector<double> norms;
  std::unique_ptr<TrainingState> state;
  uint64_t rng_state = 0;
};

// kSteps steps on the same global batches; `engine` sees the whole batch.
Trajectory train(TrainingEngine& engine, const GPTConfig& config, int steps = kSteps) {
  Trajectory run;
  run.state = std::make_unique<TrainingState>(config);
  Rng rng(1234);
  init_gpt2(run.state->model, rng);
  Rng data_rng(77);
  std::vector<int32_t> tokens(5000);
  for (int32_t& t : tokens) t = static_cast<int32_t>(data_rng.below(config.vocab_size));
  for (int s = 0; s < steps; ++s) {
    const Batch batch = sample_batch(tokens, kB, kT, rng);
    const StepResult r = engine.step(*run.state, batch, 1e-3f, 0.5f, AdamWConfig{}, rng);
    run.losses.push_back(r.loss);
    run.norms.push_back(r.grad_norm);
  }
  engine.sync(*run.state);
  run.rng_state = rng.state();
  return run;
}

// got's run against want's: every loss and gradient norm within kSameRun, the
// same random draws, the states within parameter_rtol (the parameters) and
// kSameRun (AdamW's moments), the key biases near 0 (run_comparison.h).
void expect_same_run(const Trajectory& got, const Trajectory& want, const std::string& what,
                     double parameter_rtol = kSameRun.rtol) {
  ASSERT_EQ(got.losses.size(), want.losses.size());
  for (size_t s = 0; s < got.losses.size(); ++s) {
    EXPECT_LE(tolerances_apart(got.losses[s], want.losses[s], kSameRun), 1.0)
        << what << ": step " << s + 1 << "'s loss is " << got.losses[s] << ", should be "
        << want.losses[s];
    EXPECT_LE(tolerances_apart(got.norms[s], want.norms[s], kSameRun), 1.0)
        << what << ": step " << s + 1 << "'s gradient norm is " << got.norms[s] << ", should be "
        << want.norms[s];
  }
  EXPECT_EQ(got.rng_state, want.rng_state) << what << ": the runs drew other random numbers";
  const StateComparison states =
      compare_states(*got.state, *want.state, {kSameRun.atol, parameter_rtol}, kSameRun);
  for (const std::string& off : states.key_biases_off) ADD_FAILURE() << what << ": " << off;
  for (const BufferComparison& buffer : states.buffers) {
    EXPECT_TRUE(buffer.ok()) << what << ": " << buffer.describe();
    if (g_comm->rank() == 0) {
      std::printf("[ measured ] %s: %ss within %.3g of %g + %g·|x|\n", what.c_str(),
                  buffer.name.c_str(), buffer.worst.tolerances, buffer.tolerance.atol,
                  buffer.tolerance.rtol);
    }
  }
}

class Engines : public ::testing::TestWithParam<bool> {};  // fast (chapter 10) or plain (09)

// lesson: test
TEST_P(Engines, NRanksWithBOverNEachTrainAsOneRankWithB) {
  const GPTConfig config = test_config();
  const EngineFactory& make = GetParam() ? kFast : kPlain;
  const int N = g_comm->size();
  std::unique_ptr<TrainingEngine> alone = make(config, kB);  // one rank, the whole batch
  const Trajectory want = train(*alone, config);
  DataParallelEngine ranks(make(config, kB / N), *g_comm, DataParallelOptions{});
  const Trajectory got = train(ranks, config);
  expect_same_run(got, want,
                  std::to_string(N) + " ranks × B/" + std::to_string(N) + " (" +
                      (GetParam() ? "chapter 10" : "chapter 09") + ")",
                  GetParam() ? kFastParameterRtol : kSameRun.rtol);
}

TEST_P(Engines, ZeroOneTrainsAsAllReduce) {
  const GPTConfig config = test_config();
  const EngineFactory& make = GetParam() ? kFast : kPlain;
  const int N = g_comm->size();
  DataParallelEngine all_reduce(make(config, kB / N), *g_comm, DataParallelOptions{false});
  DataParallelEngine zero1(make(config, kB / N), *g_comm, DataParallelOptions{true});
  const Trajectory want = train(all_reduce, config);
  const Trajectory got = train(zero1, config);  // sync() gathered the moments' shards
  expect_same_run(got, want, std::string("ZeRO-1 (") + (GetParam() ? "chapter 10" : "chapter 09") +
                                 ")");
}
// end lesson

INSTANTIATE_TEST_SUITE_P(DataParallel, Engines, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Fast" : "Plain"; });

TEST(DataParallelEvaluate, IsTheWholeBatchsMeanLoss) {
  const GPTConfig config = test_config();
  TrainingState state(config);
  Rng rng(5);
  init_gpt2(state.model, rng);
  std::vector<int32_t> tokens(1000);
  for (int32_t& t : tokens) t = static_cast<int32_t>(rng.below(config.vocab_size));
  const Batch batch = sample_batch(tokens, kB, kT, rng);
  Trainer alone(config, kB, kT);
  DataParallelEngine ranks(std::make_unique<Trainer>(config, kB / g_comm->size(), kT), *g_comm,
                           DataParallelOptions{});
  const float want = alone.evaluate(state, batch), got = ranks.evaluate(state, batch);
  EXPECT_LE(tolerances_apart(got, want, kSameRun), 1.0)
      << "evaluated " << got << ", one rank " << want;
}

TEST(DataParallelSync, NoticesRanksThatDriftedApart) {
  if (g_comm->size() < 2) GTEST_SKIP() << "needs 2 ranks";
  const GPTConfig config = test_config();
  TrainingState state(config);
  state.model.params.data()[7] = float(g_comm->rank());  // rank 1's model differs
  DataParallelEngine ranks(std::make_unique<Trainer>(config, kB / g_comm->size(), kT), *g_comm,
                           DataParallelOptions{});
  EXPECT_THROW(ranks.sync(state), std::runtime_error);
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  gpt::MpiSession session(&argc, &argv);
  int status;
  {
    gpt::MpiCommunicator comm(/*timeout_s=*/120);
    gpt::g_comm = &comm;
    ::testing::InitGoogleTest(&argc, argv);
    status = RUN_ALL_TESTS();
    // Every rank's verdict: the job fails if any rank's tests failed.
    int any = status != 0;
    MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    status = any;
    if (comm.rank() == 0) {
      std::printf("%d rank%s: %s\n", comm.size(), comm.size() == 1 ? "" : "s",
                  status == 0 ? "every rank passed" : "a rank failed");
    }
    comm.barrier();
  }
  return status;
}
