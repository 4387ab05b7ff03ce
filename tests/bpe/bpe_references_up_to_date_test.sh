#!/bin/bash
# bazel test //tests:bpe_references_up_to_date_test: the committed GPT-2 token
# ids (tests/references/15_bpe/gpt2_cases.json) are what the pinned reference
# encoders (third_party/npm, installed by tools/setup.sh) write today.
set -u
if ! command -v node >/dev/null 2>&1; then
  echo "node is not installed: run bash tools/setup.sh"
  exit 1
fi
if [ ! -f third_party/npm/node_modules/gpt-tokenizer/package.json ]; then
  echo "the npm reference packages are missing: run bash tools/setup.sh"
  exit 1
fi
exec node tests/bpe/make_bpe_references.js chapters/01_tokens/austen.txt \
  tests/references/15_bpe/gpt2_cases.json --check
