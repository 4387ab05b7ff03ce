// common/random.h — a small, seeded, portable random number generator.
//
// The standard library's distributions may differ between compilers, so a
// seeded run could differ between machines. This generator is SplitMix64
// (Steele, Lea and Flood, 2014): 64 bits of state, one multiply-xorshift
// mix per draw, and the same sequence everywhere. Its whole state is one
// integer, which a checkpoint can store to resume a run exactly.
#pragma once

#include <cmath>
#include <cstdint>

namespace gpt {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next_u64() {
    uint64_t z = (state_ += kIncrement);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // As n calls of next_u64, their results discarded, at once: each call
  // moves the state by one constant, so n calls move it by n times that.
  void skip(uint64_t n) { state_ += n * kIncrement; }

  // Uniform in [0, 1), with the 24 bits a float can hold.
  float uniform() { return static_cast<float>(next_u64() >> 40) * (1.0f / 16777216.0f); }

  // Uniform integer in [0, n), without modulo bias. n > 0.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = next_u64();
    } while (x >= limit);
    return x % n;
  }

  // Normal(mean, std) by the Box–Muller transform (one of its two outputs).
  float normal(float mean, float std) {
    const double u1 = (static_cast<double>(next_u64() >> 11) + 1.0) * 0x1.0p-53;  // (0, 1]
    const double u2 = static_cast<double>(next_u64() >> 11) * 0x1.0p-53;          // [0, 1)
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    return mean + std * static_cast<float>(z);
  }

  uint64_t state() const { return state_; }
  void set_state(uint64_t state) { state_ = state; }

 private:
  static constexpr uint64_t kIncrement = 0x9E3779B97F4A7C15ull;  // 2^64 / the golden ratio
  uint64_t state_;
};

}  // namespace gpt
