#!/bin/bash
# tools/fuzz/run_fuzzers.sh — builds the fuzz targets with clang's libFuzzer and runs each.
#
#   bash tools/fuzz/run_fuzzers.sh [SECONDS] [TARGET...]
#
# SECONDS (default 60) is each target's running time; TARGETs are among
# safetensors, corpus, flags, bpe_vocab (default: all four, one after the other).
# No Bazel: clang++ compiles the project's own sources (the same files Bazel
# builds) with -fsanitize=fuzzer,address,undefined. Everything it writes goes
# to $FUZZ_OUT (default /tmp/gpt-fuzz): the binaries, each target's growing
# corpus (started from the committed seeds in tools/fuzz/seeds/TARGET/), the
# logs, and any crashing input (crash-*, leak-*, timeout-*, oom-*).
# Exits 1 if a target found a crash. A finding belongs in seeds/TARGET/ once
# fixed: the Bazel tests //tools/fuzz:* replay every seed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(safetensors corpus flags bpe_vocab)
out="${FUZZ_OUT:-/tmp/gpt-fuzz}"
mkdir -p "$out"

# Each target's sources: the fuzz target and the project files it exercises.
declare -A sources=(
  [safetensors]="tools/fuzz/safetensors_fuzz.cc common/safetensors.cc
    chapters/09_training/checkpoint.cc chapters/07_gpt/config.cc chapters/07_gpt/parameters.cc
    chapters/07_gpt/model.cc chapters/02_embeddings/sinusoidal.cc chapters/01_tokens/utf8.cc
    chapters/01_tokens/char_tokenizer.cc chapters/01_tokens/encode_decode.cc"
  [corpus]="tools/fuzz/corpus_fuzz.cc chapters/09_training/training_data.cc
    chapters/09_training/metrics.cc chapters/01_tokens/corpus.cc chapters/01_tokens/utf8.cc
    chapters/01_tokens/char_tokenizer.cc chapters/01_tokens/encode_decode.cc"
  [flags]="tools/fuzz/flags_fuzz.cc chapters/09_training/train_options.cc
    chapters/07_gpt/config.cc chapters/07_gpt/sampling.cc chapters/07_gpt/sampling_distribution.cc
    chapters/01_tokens/utf8.cc"
  [bpe_vocab]="tools/fuzz/bpe_vocab_fuzz.cc chapters/15_bpe/bpe.cc chapters/15_bpe/bpe_file.cc
    chapters/15_bpe/byte_alphabet.cc chapters/15_bpe/char_classes.cc
    chapters/15_bpe/gpt2_vocabulary.cc chapters/15_bpe/merge_by_rank.cc
    chapters/15_bpe/merge_lines.cc chapters/15_bpe/pair_table.cc chapters/15_bpe/pretokenizer.cc
    chapters/01_tokens/corpus.cc chapters/01_tokens/utf8.cc"
)
# Libraries a target links besides the C++ runtime (chapter 15's character classes are ICU's).
declare -A libraries=(
  [bpe_vocab]="-licuuc -licudata"
)

status=0
for t in "${targets[@]}"; do
  if [ -z "${sources[$t]:-}" ]; then
    echo "run_fuzzers: unknown target '$t' (safetensors, corpus, flags, bpe_vocab)" >&2
    exit 2
  fi
  echo "== $t: building"
  # -I tools/fuzz/runfiles_stub: corpus.cc's runfiles include (see that header).
  # shellcheck disable=SC2086
  clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I. -I/usr/include/eigen3 -Itools/fuzz/runfiles_stub ${sources[$t]} \
    ${libraries[$t]:-} -o "$out/${t}_fuzz" || exit 1
  mkdir -p "$out/corpus/$t"
  dict=()
  [ -f "tools/fuzz/$t.dict" ] && dict=(-dict="tools/fuzz/$t.dict")
  echo "== $t: fuzzing for ${seconds}s (log: $out/$t.log)"
  # One process (no -jobs/-workers: the course's machine has two cores).
  # -timeout: an input that takes 10 s is a finding too.
  ASAN_OPTIONS=detect_leaks=1 "$out/${t}_fuzz" "$out/corpus/$t" "tools/fuzz/seeds/$t" \
    "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/$t-" > "$out/$t.log" 2>&1
  rc=$?
  # "#123456 DONE cov: 1234 ft: 2345 corp: 345/67Kb ..." and "Done 123456 runs in 60 second(s)"
  grep -E '^#[0-9]+.*(DONE|cov:)' "$out/$t.log" | tail -n 1
  grep -E '^Done [0-9]+ runs' "$out/$t.log" | tail -n 1
  if [ $rc -ne 0 ]; then
    echo "== $t: FOUND A PROBLEM (exit $rc); see $out/$t.log and $out/$t-*"
    grep -E 'ERROR|FUZZ_CHECK|Test unit written' "$out/$t.log" | head -n 5
    status=1
  else
    echo "== $t: no crash; corpus $(ls "$out/corpus/$t" | wc -l) inputs"
  fi
done
exit $status
