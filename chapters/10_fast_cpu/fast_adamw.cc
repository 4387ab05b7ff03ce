// chapters/10_fast_cpu/fast_adamw.cc — chapter 09's AdamW, eight parameters per instruction.
//
// Chapter 09's loop compiles to scalar code: std::sqrt may set errno, so GCC
// keeps a call to sqrtf on a path of every iteration and will not vectorise
// the loop. The update is elementwise, and IEEE division and square root are
// correctly rounded in a vector lane as in a scalar register, so the same
// operations in the same order, eight lanes at a time, give the same bits.
// "The same operations" includes which multiply-adds the compiler fuses into
// one FMA (-ffp-contract=fast): at -O2 it fuses four in chapter 09's loop, at
// -O1 none. So the lines below are chapter 09's, on vectors of 8 floats
// (GCC's vector extensions), left to the same compiler to fuse the same way;
// FastAdamW.SameBitsAsChapter09 checks it at each optimisation level CI uses.
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "chapters/09_training/adamw.h"
#include "chapters/10_fast_cpu/fast_ops.h"

namespace gpt {

// lesson: adamw
void fast_adamw_update(float* params, const float* grads, float* m, float* v, size_t n, int t,
                       float lr, const AdamWConfig& c, float weight_decay) {
  size_t i = 0;
#if defined(__AVX2__)
  typedef float Vec8 __attribute__((vector_size(32)));  // 8 floats, one ymm register
  const auto load = [](const float* p) {
    Vec8 x;
    std::memcpy(&x, p, sizeof x);
    return x;
  };
  const float correction1 = 1.0f - std::pow(c.beta1, static_cast<float>(t));
  const float correction2 = 1.0f - std::pow(c.beta2, static_cast<float>(t));
  for (; i + 8 <= n; i += 8) {  // chapter 09's lines, on Vec8s
    const Vec8 g = load(grads + i);
    const Vec8 m8 = c.beta1 * load(m + i) + (1.0f - c.beta1) * g;
    const Vec8 v8 = c.beta2 * load(v + i) + (1.0f - c.beta2) * g * g;
    const Vec8 m_hat = m8 / correction1;
    const Vec8 v_hat = v8 / correction2;
    const Vec8 sqrt_v_hat = _mm256_sqrt_ps(v_hat);
    Vec8 p = load(params + i);
    p -= lr * (m_hat / (sqrt_v_hat + c.eps) + weight_decay * p);
    std::memcpy(params + i, &p, sizeof p);
    std::memcpy(m + i, &m8, sizeof m8);
    std::memcpy(v + i, &v8, sizeof v8);
  }
#endif
  // The last n % 8 (or, without AVX2, all of them): chapter 09's loop itself.
  adamw_update(params + i, grads + i, m + i, v + i, n - i, t, lr, c, weight_decay);
}
// end lesson

}  // namespace gpt
