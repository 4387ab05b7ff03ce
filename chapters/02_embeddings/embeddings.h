// chapters/02_embeddings/embeddings.h — token ids become vectors.
//
// Chapter 01 turned text into ids; a network needs vectors. Two tables do it:
//   wte (V, C): one learned row per token: what the token is;
//   a position table (P, C): one row per position: where it is.
// The embedding of token id at position t is wte[id] + positions[t]. Without
// the position row, "dog bites man" and "man bites dog" would look the same
// to attention (chapter 03), which sees a set of vectors, not a sequence.
//
// The position table is either learned (wpe, trained like wte, as in GPT-2) or
// fixed sinusoids (the original transformer; sinusoidal.h). The forward pass
// does not care which: it adds row t.
//
// Sizes: B batch, T time (sequence length), C channels (embed_size),
// V vocabulary size, P max_length (T <= P).
#pragma once

#include <cstdint>

namespace gpt {

// out[b, t, :] = wte[tokens[b, t], :]. Throws std::out_of_range on an id
// outside [0, V).
void token_embedding_forward(float* out,             // (B, T, C)
                             const int32_t* tokens,  // (B, T)
                             const float* wte,       // (V, C)
                             int B, int T, int C, int V);

// out[b, t, :] = wte[tokens[b, t], :] + positions[t, :], for t < T <= P.
void embedding_forward(float* out,             // (B, T, C)
                       const int32_t* tokens,  // (B, T)
                       const float* wte,       // (V, C)
                       const float* positions, // (P, C), learned wpe or sinusoidal
                       int B, int T, int C, int V);

}  // namespace gpt
