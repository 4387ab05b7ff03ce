// chapters/09_training/metrics.h — what a run reports, to a file and to you.
//
// Two readers, two forms:
//   metrics.jsonl  one JSON object per line, for programs (plots, comparisons):
//                  {"step":1,"epoch":0.0006,"loss":4.21,"lr":0.001,"grad_norm":1.9,"tokens_per_s":51234}
//                  after every step, and {"step":100,"val_loss":2.31} after every evaluation;
//   the terminal   one progress line (step, epoch, loss, lr, throughput, time left),
//                  redrawn in place with '\r' on a terminal, printed every few
//                  steps as ordinary lines into a log file or pipe.
#pragma once

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace gpt {

struct StepMetrics {
  int64_t step = 0;     // optimizer steps taken, this one included (1-based)
  double epoch = 0;     // step / steps_per_epoch
  float loss = 0;       // the batch's loss before this step's update
  float lr = 0;         // the learning rate this step used
  double grad_norm = 0;      // before clipping
  double tokens_per_s = 0;   // this step's B·T tokens over its time
};

// One JSON line, without the newline. Non-finite numbers (a diverged loss)
// are written as null: JSON has no NaN.
std::string step_json(const StepMetrics& m);
std::string eval_json(int64_t step, float val_loss);

// Appends lines to <out>/metrics.jsonl, flushing each. A fresh run starts the
// file anew; a resumed run first drops the lines of steps after the
// checkpoint's (they were computed after the last save and are about to be
// computed again), then appends.
class MetricsWriter {
 public:
  // resumed_step < 0: a fresh run. Throws std::runtime_error if the file cannot be written.
  MetricsWriter(const std::string& path, int64_t resumed_step);
  void write(const std::string& line);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ofstream file_;
};

// Rewrites a metrics file keeping only lines whose "step" is <= step.
void keep_metrics_up_to(const std::string& path, int64_t step);

struct Progress {
  int64_t step = 0, total = 0;
  double epoch = 0;
  float loss = 0, lr = 0;
  double tokens_per_s = 0;  // averaged over this run's steps so far
  double eta_seconds = 0;
};

// "step  120/1760 | epoch 0.07 | loss 2.3456 | lr 1.00e-03 | 51.2k tok/s | ETA 3m05s"
std::string progress_line(const Progress& p);
// "12s", "3m05s", "1h02m"
std::string format_duration(double seconds);
// 1234567 → "1,234,567"
std::string grouped(int64_t n);

// Prints progress lines: in place on a terminal (at most ~10 redraws a
// second), every `interval` steps (and the first and last) otherwise.
class ProgressPrinter {
 public:
  ProgressPrinter(std::FILE* out, bool terminal, int interval);
  // `force`: draw now (on a terminal too), e.g. just before a validation line.
  void update(const Progress& p, bool force = false);
  // A line of its own (a validation loss, a note), below the progress line.
  void print_line(const std::string& line);
  void finish();  // ends an in-place line

 private:
  std::FILE* out_;
  bool terminal_;
  int interval_;
  bool open_line_ = false;  // an in-place line is on screen
  double last_draw_ = -1;
};

}  // namespace gpt
