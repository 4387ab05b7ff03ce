// chapters/08_backward/heads_backward.h — gradients of split_heads and merge_heads.
//
// Splitting and merging heads only move numbers around (chapter 04). The
// backward of a move is the move in reverse: the gradient of split_heads is a
// merge of the three head gradients into the (B, T, 3C) layout, and the
// gradient of merge_heads is a split of dout into heads.
//
// Convention (every backward in chapter 08): ADDS into its gradient outputs.
#pragma once

namespace gpt {

// dqkv[b, t, 0C + h*hs + i] += dq[b, h, t, i], likewise dk (1C) and dv (2C).
// Throws std::invalid_argument when H does not divide C.
void split_heads_backward(float* dqkv,       // (B, T, 3C), accumulated
                          const float* dq,   // (B, H, T, hs)
                          const float* dk,   // (B, H, T, hs)
                          const float* dv,   // (B, H, T, hs)
                          int B, int T, int C, int H);

// dheads[b, h, t, i] += dout[b, t, h*hs + i].
// Throws std::invalid_argument when H does not divide C.
void merge_heads_backward(float* dheads,      // (B, H, T, hs), accumulated
                          const float* dout,  // (B, T, C)
                          int B, int T, int C, int H);

}  // namespace gpt
