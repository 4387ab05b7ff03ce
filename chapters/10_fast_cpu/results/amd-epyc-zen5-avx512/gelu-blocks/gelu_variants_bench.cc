#include <unsupported/Eigen/SpecialFunctions>
#include <chrono>
#include <cstdio>
#include <vector>
constexpr float kInvSqrt2 = 0.70710678118654752f;
using S = Eigen::Array<float, 16, 1>;
__attribute__((noinline)) void A(float* a_, const float* h_, long n) {
  const Eigen::Map<const Eigen::ArrayXf> h(h_, n); Eigen::Map<Eigen::ArrayXf> a(a_, n);
  a = 0.5f * h * (1.0f + (h * kInvSqrt2).erf());
}
__attribute__((noinline)) void B(float* a_, const float* h_, long n) {
  for (long i = 0; i + 64 <= n; i += 64) {
    S x0 = Eigen::Map<const S>(h_ + i), x1 = Eigen::Map<const S>(h_ + i + 16), x2 = Eigen::Map<const S>(h_ + i + 32), x3 = Eigen::Map<const S>(h_ + i + 48);
    S e0 = (x0 * kInvSqrt2).erf(), e1 = (x1 * kInvSqrt2).erf(), e2 = (x2 * kInvSqrt2).erf(), e3 = (x3 * kInvSqrt2).erf();
    Eigen::Map<S>(a_ + i) = 0.5f * x0 * (1.0f + e0);
    Eigen::Map<S>(a_ + i + 16) = 0.5f * x1 * (1.0f + e1);
    Eigen::Map<S>(a_ + i + 32) = 0.5f * x2 * (1.0f + e2);
    Eigen::Map<S>(a_ + i + 48) = 0.5f * x3 * (1.0f + e3);
  }
}
__attribute__((noinline)) void C(float* a_, const float* h_, long n) {
  for (long i = 0; i + 64 <= n; i += 64) {
    S x[4], e[4];
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) x[k] = Eigen::Map<const S>(h_ + i + 16 * k);
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) e[k] = (x[k] * kInvSqrt2).erf();
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) Eigen::Map<S>(a_ + i + 16 * k) = 0.5f * x[k] * (1.0f + e[k]);
  }
}
__attribute__((noinline)) void D(float* a_, const float* h_, long n) {
  for (long i = 0; i + 16 <= n; i += 16) {
    const S x = Eigen::Map<const S>(h_ + i);
    Eigen::Map<S>(a_ + i) = 0.5f * x * (1.0f + (x * kInvSqrt2).erf());
  }
}
template <class F> double timeit(F f) {
  double best = 1e9;
  for (int rep = 0; rep < 30; ++rep) {
    auto t0 = std::chrono::steady_clock::now(); f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}
int main() {
  const long R = 768, F = 512, n = R * F; std::vector<float> h(n), a(n);
  for (long i = 0; i < n; ++i) h[i] = (i % 1000) * 0.01f - 5.0f;
  for (auto [name, f] : {std::pair{"A", &A}, {"B", &B}, {"C", &C}, {"D", &D}, {"A", &A}, {"B", &B}})
    printf("%s %.3f  ", name, timeit([&] { for (long r = 0; r < R; ++r) f(a.data() + r * F, h.data() + r * F, F); }) / n * 1e9);
  printf("\n");
}
