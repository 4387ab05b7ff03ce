// chapters/18_data_parallel/mpi_communicator.cc — MPI's collectives, under a watchdog.
#include "chapters/18_data_parallel/mpi_communicator.h"

#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace gpt {

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int as_count(size_t n) {
  if (n > size_t(INT_MAX)) throw std::length_error("an MPI message of more than 2^31 - 1 floats");
  return static_cast<int>(n);
}

}  // namespace

bool started_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr ||
         std::getenv("PMI_SIZE") != nullptr;
}

MpiSession::MpiSession(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
}

MpiSession::~MpiSession() { MPI_Finalize(); }

// While one lives, the watchdog knows what the main thread waits in.
class Watched {
 public:
  Watched(MpiCommunicator& comm, const char* what) : comm_(comm), start_(now_s()) {
    std::lock_guard<std::mutex> lock(comm_.mutex_);
    comm_.waiting_in_ = what;
    comm_.waiting_since_ = start_;
  }
  ~Watched() {
    std::lock_guard<std::mutex> lock(comm_.mutex_);
    comm_.waiting_in_ = nullptr;
    comm_.seconds_ += now_s() - start_;
  }

 private:
  MpiCommunicator& comm_;
  double start_;
};

MpiCommunicator::MpiCommunicator(double timeout_s) : timeout_s_(timeout_s) {
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &local_ranks_);
  MPI_Comm_free(&local);
  if (timeout_s_ > 0) watchdog_ = std::thread([this] { watch(); });
}

MpiCommunicator::~MpiCommunicator() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

// lesson: watchdog
void MpiCommunicator::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto tick = std::chrono::duration<double>(std::min(1.0, timeout_s_ / 4));
  while (!stop_) {
    wake_.wait_for(lock, tick);
    if (waiting_in_ != nullptr && now_s() - waiting_since_ > timeout_s_) {
      std::fprintf(stderr,
                   "train: rank %d of %d: the %s has waited %.0f s for the other ranks: one of "
                   "them died or hangs. Ending this rank, and with it the job "
                   "(--collective_timeout sets the limit).\n",
                   rank_, size_, waiting_in_, now_s() - waiting_since_);
      std::fflush(stderr);
      std::_Exit(1);  // mpirun sees a rank end badly, and stops the others
    }
  }
}
// end lesson

std::string MpiCommunicator::description() const {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  MPI_Get_library_version(version, &length);
  std::string name(version, length);
  name = name.substr(0, name.find(','));  // "Open MPI v4.1.4"
  return "MPI (" + name + ")";
}

// lesson: mpi
void MpiCommunicator::all_reduce_mean(float* x, size_t n) {
  if (size_ == 1) return;  // one rank: its gradient is the mean
  Watched watched(*this, "all-reduce of the gradients");
  MPI_Allreduce(MPI_IN_PLACE, x, as_count(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  for (size_t i = 0; i < n; ++i) x[i] /= size_;
}

void MpiCommunicator::reduce_scatter_mean(float* x, const Shards& shards) {
  if (size_ == 1) return;
  Watched watched(*this, "reduce-scatter of the gradients");
  std::vector<int> counts(size_);
  for (int r = 0; r < size_; ++r) counts[r] = as_count(shards.count(r));
  scratch_.resize(shards.count(rank_));
  MPI_Reduce_scatter(x, scratch_.data(), counts.data(), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  float* mine = x + shards.begin(rank_);
  for (size_t i = 0; i < scratch_.size(); ++i) mine[i] = scratch_[i] / size_;
}

void MpiCommunicator::all_gather(float* x, const Shards& shards) {
  if (size_ == 1) return;
  Watched watched(*this, "all-gather of the parameters");
  std::vector<int> counts(size_), offsets(size_);
  for (int r = 0; r < size_; ++r) {
    counts[r] = as_count(shards.count(r));
    offsets[r] = as_count(shards.begin(r));
  }
  MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, x, counts.data(), offsets.data(), MPI_FLOAT,
                 MPI_COMM_WORLD);
}
// end lesson

void MpiCommunicator::adamw_update(float* params, const float* grads, float* m, float* v,
                                   size_t n, int t, float lr, const AdamWConfig& config,
                                   float weight_decay) {
  gpt::adamw_update(params, grads, m, v, n, t, lr, config, weight_decay);  // chapter 09's
}

void MpiCommunicator::all_reduce_sum_host(double* x, int n) {
  Watched watched(*this, "all-reduce of the loss (or the norm)");
  MPI_Allreduce(MPI_IN_PLACE, x, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

bool MpiCommunicator::same_on_all_ranks(uint64_t value) {
  Watched watched(*this, "comparison of the ranks' parameters");
  unsigned long long low = value, high = value;
  MPI_Allreduce(MPI_IN_PLACE, &low, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  MPI_Allreduce(MPI_IN_PLACE, &high, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
  return low == high;
}

void MpiCommunicator::barrier() {
  Watched watched(*this, "barrier");
  MPI_Barrier(MPI_COMM_WORLD);
}

}  // namespace gpt

namespace gpt {

void MpiCommunicator::broadcast_bytes(void* data, size_t bytes, int root) {
  Watched watched(*this, "broadcast");
  MPI_Bcast(data, as_count(bytes), MPI_BYTE, root, MPI_COMM_WORLD);
}

void MpiCommunicator::run_watched(const char* what, const std::function<void()>& body) {
  Watched watched(*this, what);
  body();
}

}  // namespace gpt
