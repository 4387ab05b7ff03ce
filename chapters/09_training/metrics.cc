// chapters/09_training/metrics.cc — JSON lines and the progress line.
#include "chapters/09_training/metrics.h"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace gpt {
namespace {

// %.7g keeps what a float holds without printing 0.0010000000474974513 for 1e-3.
std::string json_number(double value, const char* format = "%.7g") {
  if (!std::isfinite(value)) return "null";
  char text[40];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string step_json(const StepMetrics& m) {
  return "{\"step\":" + std::to_string(m.step) + ",\"epoch\":" + json_number(m.epoch, "%.6f") +
         ",\"loss\":" + json_number(m.loss) + ",\"lr\":" + json_number(m.lr) +
         ",\"grad_norm\":" + json_number(m.grad_norm) +
         ",\"tokens_per_s\":" + json_number(m.tokens_per_s, "%.1f") + "}";
}

std::string eval_json(int64_t step, float val_loss) {
  return "{\"step\":" + std::to_string(step) + ",\"val_loss\":" + json_number(val_loss) + "}";
}

void keep_metrics_up_to(const std::string& path, int64_t step) {
  std::vector<std::string> kept;
  {
    std::ifstream in(path);
    if (!in) return;  // nothing written yet
    std::string line;
    while (std::getline(in, line)) {
      const nlohmann::json entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      // A line we cannot read (a half-written last line after a crash) is dropped.
      if (entry.is_object() && entry.contains("step") && entry["step"].is_number_integer() &&
          entry["step"].get<int64_t>() <= step) {
        kept.push_back(line);
      }
    }
  }
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : kept) out << line << '\n';
  if (!out) throw std::runtime_error("cannot rewrite metrics file '" + path + "'");
}

MetricsWriter::MetricsWriter(const std::string& path, int64_t resumed_step) : path_(path) {
  if (resumed_step >= 0) keep_metrics_up_to(path, resumed_step);
  file_.open(path, resumed_step >= 0 ? std::ios::app : std::ios::trunc);
  if (!file_) throw std::runtime_error("cannot write metrics file '" + path + "'");
}

void MetricsWriter::write(const std::string& line) {
  file_ << line << '\n' << std::flush;
  if (!file_) throw std::runtime_error("cannot write metrics file '" + path_ + "'");
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  char text[32];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%lds", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  }
  return text;
}

std::string grouped(int64_t n) {
  const std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string progress_line(const Progress& p) {
  const int width = static_cast<int>(std::to_string(p.total).size());
  const double rate = p.tokens_per_s;
  char throughput[32];
  if (rate >= 1e6) {
    std::snprintf(throughput, sizeof throughput, "%.2fM", rate / 1e6);
  } else if (rate >= 1e3) {
    std::snprintf(throughput, sizeof throughput, "%.1fk", rate / 1e3);
  } else {
    std::snprintf(throughput, sizeof throughput, "%.0f", rate);
  }
  char text[256];
  std::snprintf(text, sizeof text,
                "step %*lld/%lld | epoch %.2f | loss %.4f | lr %.2e | %s tok/s | ETA %s", width,
                static_cast<long long>(p.step), static_cast<long long>(p.total), p.epoch, p.loss,
                p.lr, throughput, format_duration(p.eta_seconds).c_str());
  return text;
}

ProgressPrinter::ProgressPrinter(std::FILE* out, bool terminal, int interval)
    : out_(out), terminal_(terminal), interval_(interval > 0 ? interval : 1) {}

void ProgressPrinter::update(const Progress& p, bool force) {
  const bool edge = force || p.step <= 1 || p.step == p.total;
  if (terminal_) {
    const double now = now_seconds();
    if (!edge && now - last_draw_ < 0.1) return;
    last_draw_ = now;
    // '\r' back to the start of the line, ESC[K clears what the last draw left.
    std::fprintf(out_, "\r%s\x1b[K", progress_line(p).c_str());
    open_line_ = true;
  } else if (edge || p.step % interval_ == 0) {
    std::fprintf(out_, "%s\n", progress_line(p).c_str());
  }
  std::fflush(out_);
}

void ProgressPrinter::print_line(const std::string& line) {
  if (open_line_) std::fprintf(out_, "\n");  // the progress line stays, as a record
  open_line_ = false;
  std::fprintf(out_, "%s\n", line.c_str());
  std::fflush(out_);
}

void ProgressPrinter::finish() {
  if (open_line_) std::fprintf(out_, "\n");
  open_line_ = false;
  std::fflush(out_);
}

}  // namespace gpt
