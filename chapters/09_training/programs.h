// chapters/09_training/programs.h — the train and generate programs, as functions.
//
// Each chapter that adds a device builds its own `train` and `generate`
// binaries from these: a main() is one line naming the devices it offers
// and, from chapter 15 on, the tokenizers (text_tokenizer.h; chapter 09's
// own offer char only). Both return the process's exit status: 0 done, 1
// failure, 2 bad flags or inputs, 128 + signal when SIGINT/SIGTERM stopped
// training (after saving).
#pragma once

#include "chapters/09_training/device.h"
#include "chapters/09_training/text_tokenizer.h"

namespace gpt {

int train_program(int argc, char** argv, const Devices& devices,
                  const Tokenizers& tokenizers = char_tokenizers());
int generate_program(int argc, char** argv, const Devices& devices,
                     const Tokenizers& tokenizers = char_tokenizers());

}  // namespace gpt
