// chapters/08_backward/residual_backward.h — the gradient of a sum.
//
// Forward (chapter 06): out = a + b. Each input reaches the output with slope
// 1, so each receives dout unchanged: the residual stream carries the gradient
// from the loss to the first block without passing through any layer.
//
// Convention (every backward in chapter 08): ADDS into da and db. That is what
// makes a stream with branches work: x feeds both the sub-layer and the sum,
// and its gradient is the sum of the two paths' gradients.
#pragma once

#include <cstdint>

namespace gpt {

// da += dout, db += dout. da and db must not alias each other (a + a would
// need 2 · dout) nor dout.
void residual_backward(float* da,          // (N), accumulated
                       float* db,          // (N), accumulated
                       const float* dout,  // (N)
                       int64_t N);

}  // namespace gpt
