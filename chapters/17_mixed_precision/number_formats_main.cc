// chapters/17_mixed_precision/number_formats_main.cc — chapter 17: the four formats side by side, as tables.
//   bazel run //chapters/17_mixed_precision:number_formats
//   bazel run //chapters/17_mixed_precision:number_formats -- --out $PWD/chapters/17_mixed_precision/results/number_formats.md
//   number_formats --check FILE     exits 1 unless FILE is what it would write
// Prints, in Markdown: each format's limits (from its bit counts); 1/3 in
// each format, bit by bit; a few numbers rounded to fp32, bf16 and fp16 (a
// tiny gradient among them); a running sum held in each format; and a weight
// updated in small steps in each. Nothing here is timed: the tables follow
// from the formats alone and are the same on every machine.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "chapters/17_mixed_precision/bf16.h"
#include "chapters/17_mixed_precision/float_formats.h"

namespace gpt {
namespace {

// printf into a std::string.
template <typename... Args>
std::string format(const char* pattern, Args... args) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, pattern, args...);
  return buffer;
}

// "1.5e-07" → "1.5e-7", "3e+38" → "3e38": exponents as a reader writes them.
std::string tidy_exponent(std::string s) {
  const size_t e = s.find('e');
  if (e == std::string::npos) return s;
  std::string exponent = s.substr(e + 1);
  const bool negative = exponent[0] == '-';
  if (exponent[0] == '-' || exponent[0] == '+') exponent = exponent.substr(1);
  while (exponent.size() > 1 && exponent[0] == '0') exponent = exponent.substr(1);
  return s.substr(0, e + 1) + (negative ? "-" : "") + exponent;
}

// A value to `digits` significant digits; ∞ and 0 spelled out.
std::string value(double x, int digits = 9) {
  if (std::isinf(x)) return x > 0 ? "∞" : "−∞";
  return tidy_exponent(format("%.*g", digits, x));
}

// 2^k, and its value: exact where 8 digits hold it, else to 4 digits.
std::string power_of_two(double x) {
  const std::string exact = format("%.8g", x);
  if (std::stod(exact) == x) return format("2^%d = ", std::ilogb(x)) + tidy_exponent(exact);
  return format("2^%d ≈ ", std::ilogb(x)) + value(x, 4);
}

// An integer with thousands separated: 10000 → "10,000".
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string relative_error(double stored, double exact) {
  if (std::isinf(stored)) return "overflow: ∞";
  if (stored == 0.0 && exact != 0.0) return "1 (flushed to 0)";
  return value(std::fabs(stored - exact) / std::fabs(exact), 3);
}

std::string formats_table() {
  std::string out =
      "<!-- table-name: formats -->\n"
      "| format | sign | exponent | fraction | stored in | largest finite | smallest normal | "
      "smallest subnormal | ε, the spacing at 1 | decimal digits |\n"
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const FloatFormat& f : kFormats) {
    const FormatLimits l = limits_of(f);
    out += format("| %s | 1 | %d | %d | %d bits | ", f.name, f.exponent_bits, f.fraction_bits,
                  f.storage_bits) +
           value(l.largest, 5) + " | " + power_of_two(l.smallest_normal) + " | " +
           power_of_two(l.smallest_subnormal) + " | " + power_of_two(l.epsilon) + " | " +
           format("%.1f", l.decimal_digits) + " |\n";
  }
  return out;
}

// The largest relative error of rounding into a format, tried on every
// float32 from 1 to 2 (the same in every binade: the spacing scales with x).
std::string worst_rounding_table() {
  std::string out =
      "<!-- table-name: worst_rounding -->\n"
      "| format | ε/2, half the spacing at 1 | the largest relative error, rounding every "
      "float32 in [1, 2) | at x = |\n"
      "|---|---:|---:|---:|\n";
  for (const FloatFormat& f : {kTf32, kFp16, kBf16}) {
    double worst = 0.0, worst_x = 1.0;
    for (float x = 1.0f; x < 2.0f; x = std::nextafter(x, 2.0f)) {
      const double error = std::fabs(round_to_format(x, f) - x) / x;
      if (error > worst) worst = error, worst_x = x;
    }
    out += std::string("| ") + f.name + " | " + power_of_two(limits_of(f).epsilon / 2) + " | " +
           value(worst, 6) + " | " + value(worst_x) + " |\n";
  }
  return out;
}

// A normal value of a format as its three fields, in binary.
struct Fields {
  int sign;
  std::string exponent, fraction;
};
Fields fields_of(double stored, const FloatFormat& f) {
  const FormatLimits l = limits_of(f);
  const int E = std::ilogb(stored);  // a normal number: 1.f × 2^E
  const double scaled = std::ldexp(std::fabs(stored), -E) - 1.0;  // 0.f, exactly
  const auto binary = [](uint64_t v, int width) {
    std::string s(width, '0');
    for (int i = 0; i < width; ++i) s[width - 1 - i] = char('0' + ((v >> i) & 1));
    return s;
  };
  return {std::signbit(stored) ? 1 : 0, binary(uint64_t(E + l.bias), f.exponent_bits),
          binary(uint64_t(std::ldexp(scaled, f.fraction_bits)), f.fraction_bits)};
}

std::string one_third_table() {
  const double x = 1.0 / 3.0;
  std::string out =
      "<!-- table-name: one_third -->\n"
      "| format | sign | exponent field | fraction field | value stored | relative error |\n"
      "|---|---|---|---|---:|---:|\n";
  for (const FloatFormat& f : kFormats) {
    const double stored = round_to_format(x, f);
    const Fields b = fields_of(stored, f);
    out += format("| %s | %d | `%s` | `%s` | ", f.name, b.sign, b.exponent.c_str(),
                  b.fraction.c_str()) +
           value(stored) + " | " + relative_error(stored, x) + " |\n";
  }
  return out;
}

// A few numbers, each as float32 holds it, then rounded from that float32 to
// bf16 and fp16 with the conversions the GPU uses (to_bf16, to_fp16_bits).
std::string rounding_table() {
  struct Row {
    const char* label;
    double x;
  };
  const Row rows[] = {
      {"0.1", 0.1},       {"1/3", 1.0 / 3.0},
      {"1000.1", 1000.1}, {"3e38", 3e38},
      {"1e-6", 1e-6},     {"6e-8", 6e-8},
      {"1e-8", 1e-8},     {"1e-8 × 65536 (a loss scale of 2^16)", 1e-8 * 65536},
  };
  std::string out =
      "<!-- table-name: rounding -->\n"
      "| x | fp32 | its relative error | bf16 | its relative error | fp16 | its relative error |\n"
      "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const Row& r : rows) {
    const float fp32 = static_cast<float>(r.x);
    const double bf16 = to_float(to_bf16(fp32));
    const double fp16 = round_to_fp16(fp32);
    out += std::string("| ") + r.label + " | " + value(fp32) + " | " + relative_error(fp32, r.x) +
           " | " + value(bf16) + " | " + relative_error(bf16, r.x) + " | " + value(fp16) +
           " | " + relative_error(fp16, r.x) + " |\n";
  }
  return out;
}

// One row of a held-sum table: `count` additions of `addend` to `start`, the
// sum held in `sum_format` and each addend stored in `addend_format`.
std::string held_row(const char* label, const FloatFormat& sum_format,
                     const FloatFormat& addend_format, double start, double addend, int count) {
  const double stored = round_to_format(static_cast<float>(addend), addend_format);
  const HeldSum held = sum_held_in(sum_format, start, std::vector<double>(count, stored));
  return std::string("| ") + label + " | " + addend_format.name + ": " + value(stored) + " | " +
         value(held.sum) + " | " +
         (held.last_change == 0 ? std::string("none") : grouped(held.last_change)) + " |\n";
}

// 1.0 + 0.001 + 0.001 + … (10,000 times; exactly 11), the running sum held
// in each format. The last row is a tensor core's way: bf16 operands, an
// fp32 sum.
std::string stagnation_table() {
  const int n = 10000;
  std::string out =
      "<!-- table-name: stagnation -->\n"
      "| running sum held in | each 0.001 stored as | after 10,000 additions to 1.0 "
      "(exactly: 11) | the last addition that changed the sum |\n"
      "|---|---|---:|---:|\n";
  out += held_row("fp32", kFp32, kFp32, 1.0, 1e-3, n);
  out += held_row("fp16", kFp16, kFp16, 1.0, 1e-3, n);
  out += held_row("bf16", kBf16, kBf16, 1.0, 1e-3, n);
  out += held_row("fp32", kFp32, kBf16, 1.0, 1e-3, n);
  return out;
}

// A weight of 1.0 moved by 1,000 updates of −0.0001 each (exactly: to 0.9),
// as AdamW moves a weight by lr · m̂/√v̂ ≈ 1e-4 of itself.
std::string updates_table() {
  const int n = 1000;
  std::string out =
      "<!-- table-name: updates -->\n"
      "| weight held in | each update stored as | after 1,000 updates of −0.0001 to 1.0 "
      "(exactly: 0.9) | the last update that changed it |\n"
      "|---|---|---:|---:|\n";
  out += held_row("fp32", kFp32, kFp32, 1.0, -1e-4, n);
  out += held_row("fp16", kFp16, kFp32, 1.0, -1e-4, n);
  out += held_row("bf16", kBf16, kFp32, 1.0, -1e-4, n);
  // The master weight in fp32; the copy the matmuls read, rounded from it.
  const HeldSum master =
      sum_held_in(kFp32, 1.0, std::vector<double>(n, static_cast<double>(-1e-4f)));
  out += "| fp32, then copied to bf16 for the matmuls | fp32: " + value(double(-1e-4f)) + " | " +
         value(round_to_bf16(static_cast<float>(master.sum))) + " | " +
         grouped(master.last_change) + " |\n";
  return out;
}

std::string report() {
  std::ostringstream out;
  out << "# Number formats: chapter 17's tables\n\n"
         "Written by `number_formats` (`number_formats_main.cc`):\n\n"
         "    bazel run //chapters/17_mixed_precision:number_formats -- "
         "--out $PWD/chapters/17_mixed_precision/results/number_formats.md\n\n"
         "Nothing here is timed or depends on the machine: every number follows from the\n"
         "formats' definitions (`float_formats.h`), and `number_formats_results_test` checks\n"
         "that this file is what the program writes.\n\n"
         "## The four formats, from their bit counts\n\n"
      << formats_table()
      << "\n## 1/3 in each format\n\n"
      << one_third_table()
      << "\n## The largest rounding error\n\n"
      << worst_rounding_table()
      << "\n## Rounding\n\n"
         "Each number as float32 holds it, then rounded from that float32 to bf16 and fp16,\n"
         "to the nearest value (ties to even). Relative errors are against the exact decimal.\n\n"
      << rounding_table()
      << "\n## A running sum held in each format\n\n"
         "Each addition is rounded once, into the sum's format.\n\n"
      << stagnation_table()
      << "\n## A weight updated in small steps\n\n"
      << updates_table();
  return out.str();
}

}  // namespace
}  // namespace gpt

int main(int argc, char** argv) {
  std::string out_path, check_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else if (arg == "--check" && i + 1 < argc) {
      check_path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: number_formats [--out FILE] [--check FILE]\n");
      return 2;
    }
  }
  const std::string report = gpt::report();
  if (!check_path.empty()) {
    std::ifstream in(check_path);
    std::stringstream have;
    have << in.rdbuf();
    if (!in || have.str() != report) {
      std::fprintf(stderr,
                   "%s is not what number_formats writes now; regenerate it:\n"
                   "  bazel run //chapters/17_mixed_precision:number_formats -- --out "
                   "$PWD/chapters/17_mixed_precision/results/number_formats.md\n"
                   "what it writes now:\n%s",
                   check_path.c_str(), report.c_str());
      return 1;
    }
    std::printf("%s is up to date\n", check_path.c_str());
    return 0;
  }
  std::fputs(report.c_str(), stdout);
  if (!out_path.empty()) {
    std::ofstream out(out_path);
    out << report;
    if (!out) {
      std::fprintf(stderr, "number_formats: cannot write %s\n", out_path.c_str());
      return 1;
    }
    std::fprintf(stderr, "wrote %s\n", out_path.c_str());
  }
  return 0;
}
