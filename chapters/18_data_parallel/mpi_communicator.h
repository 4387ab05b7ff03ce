// chapters/18_data_parallel/mpi_communicator.h — the ranks as MPI processes, on the CPU.
//
// `mpirun -np N PROGRAM` starts N copies of one program; MPI_Init connects
// them, and MPI_COMM_WORLD numbers them 0 .. N-1. Open MPI moves the bytes
// through shared memory between processes of one machine and over the
// network (TCP, InfiniBand) between machines; the program does not change.
//
// A collective waits for every rank. A rank that died is noticed by mpirun,
// which ends the job; a rank that hangs would leave the others waiting for
// good. So every collective here runs under a watchdog: one that waits
// longer than the timeout prints which collective, on which rank, and ends
// the process, and mpirun then ends the job with an error. Never a silent hang.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chapters/18_data_parallel/communicator.h"

namespace gpt {

// Whether this process was started by mpirun (Open MPI's or a PMIx launcher's
// environment variables). Without it a program trains alone, without MPI.
bool started_by_mpirun();

// MPI_Init_thread on construction (the main thread makes every MPI call;
// OpenMP's threads compute), MPI_Finalize on destruction.
class MpiSession {
 public:
  MpiSession(int* argc, char*** argv);
  ~MpiSession();
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
};

class MpiCommunicator : public Communicator {
 public:
  // MPI_COMM_WORLD; a collective that waits more than timeout_s seconds ends
  // the process (status 1) with a message naming it.
  explicit MpiCommunicator(double timeout_s = 600);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string description() const override;
  // Ranks on this machine (MPI_COMM_TYPE_SHARED): how many share its cores.
  int local_ranks() const { return local_ranks_; }

  void all_reduce_mean(float* x, size_t n) override;
  void reduce_scatter_mean(float* x, const Shards& shards) override;
  void all_gather(float* x, const Shards& shards) override;
  void scale(float* x, size_t n, double s) override { scale_host(x, n, s); }
  void adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                    float lr, const AdamWConfig& config, float weight_decay) override;
  void all_reduce_sum_host(double* x, int n) override;
  void all_gather_host(float* x, const Shards& shards) override { all_gather(x, shards); }
  bool same_on_all_ranks(uint64_t value) override;
  // Seconds spent in collectives so far (waiting for a slower rank included,
  // and run_watched's waits): the communication share of a step.
  double communication_seconds() const { return seconds_; }

  void barrier();
  // `bytes` bytes at `data` from rank `root` to every rank (NCCL's unique id).
  void broadcast_bytes(void* data, size_t bytes, int root);
  // Runs `body` (a wait for the other ranks: a GPU stream's collectives)
  // under the watchdog, its time counted as communication.
  void run_watched(const char* what, const std::function<void()>& body);

 private:
  friend class Watched;
  void watch();  // the watchdog thread

  int rank_ = 0, size_ = 1, local_ranks_ = 1;
  double timeout_s_;
  double seconds_ = 0;
  std::vector<float> scratch_;  // reduce-scatter's receive buffer
  // The watchdog: what the main thread waits in, and since when.
  std::mutex mutex_;
  std::condition_variable wake_;
  const char* waiting_in_ = nullptr;
  double waiting_since_ = 0;
  bool stop_ = false;
  std::thread watchdog_;
};

}  // namespace gpt
