// chapters/16_gpt2/evaluate_program.h — how well does a model predict a text?
//
//   bazel run //:evaluate -- --checkpoint gpt2/model.safetensors --data austen
//
// Cuts the text's tokens into windows of T + 1 (each window predicts its last
// T tokens from the ones before), one window after the other, and averages
// the cross-entropy over every predicted token:
//
//   loss        nats per token, the training programs' validation loss
//   perplexity  e^loss: "as unsure as a uniform choice among this many tokens"
//   bits/byte   loss · tokens / (bytes · ln 2): comparable across tokenizers
//
// A token at the start of a window sees no context before it, so a longer
// --block_size scores lower; GPT-2 was trained on windows of 1,024 tokens.
// Like the other programs, returns 0, 1 on failure, 2 for bad flags or inputs.
#pragma once

#include "chapters/09_training/programs.h"

namespace gpt {

int evaluate_program(int argc, char** argv, const Devices& devices, const Tokenizers& tokenizers,
                     const ModelSources& models);

}  // namespace gpt
