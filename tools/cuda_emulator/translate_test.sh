#!/bin/bash
# tools/cuda_emulator/translate_test.sh — what translate.py rewrites, and what it refuses.
set -uo pipefail
translate=tools/cuda_emulator/translate.py
dir=${TEST_TMPDIR:-$(mktemp -d)}
failed=0
fail() { echo "FAIL: $*"; failed=1; }

cat >"$dir/ok.cu" <<'CU'
// a comment with kernel<<<1, 1>>>() is left alone
__global__ void k(float* x) {
  extern __shared__ __align__(16) float buffer[];  // (n)
  buffer[threadIdx.x] = x[0];
}
template <int N>
__global__ void __launch_bounds__(N * 2, 1)
    tiled(float* x, const char* s) {
  __shared__ float a[N][N + 1], b[4],
      *c;  // a comment
  __shared__ __align__(16) Pair<int, float> pairs[f(1, 2)];
  if (x) {
    __shared__ float scalar;
  }
}
void run(float* x, int n) {
  k<<<n, 32, 4 * 32>>>(x);
  ns::tiled<64, (2 > 1)>
      <<<dim3(n, 2), 128>>>(x, "<<<not a launch>>>");
  auto kernel = ns::tiled<8, true>;
  kernel<<<1, 1>>>(x);
}
CU
/usr/bin/python3 "$translate" "$dir/ok.cu" "$dir/ok.cc" || fail "ok.cu did not translate"
out=$(cat "$dir/ok.cc")
grep -qF '#line 1 "'"$dir/ok.cu"'"' <<<"$out" || fail "no #line directive: $out"
grep -qF '// a comment with kernel<<<1, 1>>>() is left alone' <<<"$out" ||
  fail "a comment was rewritten"
grep -qF 'float* const buffer = ::gpt_emu::dynamic_shared<float>();  // (n)' <<<"$out" ||
  fail "extern __shared__ not rewritten: $out"
grep -qF '    tiled(float* x, const char* s) { ::gpt_emu::check_launch_bounds((N * 2), ' \
  <<<"$out" ||
  fail "__launch_bounds__ not checked: $out"
grep -qF '  static float a[N][N + 1], b[4],' <<<"$out" || fail "__shared__ not made static: $out"
grep -qF '      *c; GPT_EMU_SHARED(a); GPT_EMU_SHARED(b); GPT_EMU_SHARED(c);  // a comment' \
  <<<"$out" || fail "three __shared__ variables over two lines: $out"
grep -qF '  static __align__(16) Pair<int, float> pairs[f(1, 2)]; GPT_EMU_SHARED(pairs);' \
  <<<"$out" ||
  fail "aligned __shared__ array of a template type: $out"
grep -qF '    static float scalar; GPT_EMU_SHARED(scalar);' <<<"$out" ||
  fail "__shared__ scalar in a nested block: $out"
grep -qF '::gpt_emu::launch(k, "k", __FILE__, __LINE__, n, 32, 4 * 32)(x);' <<<"$out" ||
  fail "simple launch: $out"
grep -qF ', "ns::tiled<64, (2 > 1)>", __FILE__, __LINE__, dim3(n, 2), 128)' <<<"$out" ||
  fail "template launch over two lines: $out"
grep -qF '(x, "<<<not a launch>>>");' <<<"$out" || fail "a string literal was rewritten: $out"
grep -qF \
  '::gpt_emu::launch(kernel, "kernel = ns::tiled<8, true>", __FILE__, __LINE__, 1, 1)(x);' \
  <<<"$out" || fail "launch through a local variable: $out"
[ "$(wc -l <"$dir/ok.cu")" -eq "$(($(wc -l <"$dir/ok.cc") - 1))" ] ||
  fail "lines were added or lost"

expect_error() {  # expect_error NAME MESSAGE: the file $dir/NAME.cu must be refused with MESSAGE
  if /usr/bin/python3 "$translate" "$dir/$1.cu" "$dir/$1.cc" 2>"$dir/$1.err"; then
    fail "$1.cu translated, but should not"
  elif ! grep -qF "$2" "$dir/$1.err"; then
    fail "$1.cu: expected '$2', got: $(cat "$dir/$1.err")"
  fi
}
error="error: gpt_emu translate.py:"
printf 'void f() {\n  k<<<1, 1>>>;\n}\n' >"$dir/no_args.cu"
expect_error no_args "no_args.cu:2: $error a launch's >>> must be followed by its (arguments)"
printf 'void f() {\n  k<<<1, 1(x);\n}\n' >"$dir/unclosed.cu"
expect_error unclosed "unclosed.cu:2: $error a <<< without its >>>"
printf 'void f() {\n  (get())<<<1, 1>>>(x);\n}\n' >"$dir/expression.cu"
expect_error expression "expression.cu:2: $error cannot read the kernel before <<<"
printf '__global__ void k() {\n  extern __shared__ float a[4];\n}\n' >"$dir/sized.cu"
expect_error sized "sized.cu:2: $error an extern __shared__ declaration"
printf 'namespace n {\n__shared__ float a[4];\n}\n' >"$dir/namespace.cu"
expect_error namespace "namespace.cu:2: $error a __shared__ variable declared in a namespace"
printf '__global__ void k() {\n  __shared__ float a = 1.0f;\n}\n' >"$dir/initialized.cu"
expect_error initialized "initialized.cu:2: $error a __shared__ declaration with an initializer"
printf '#define TILE(n) __shared__ float n[32]\n' >"$dir/macro.cu"
expect_error macro "macro.cu:1: $error __shared__ in a preprocessor directive"
printf '__global__ void k() {\n  __shared__ float (*p)[4];\n}\n' >"$dir/declarator.cu"
expect_error declarator "declarator.cu:2: $error cannot read the variable a __shared__ declaration"

[ $failed -eq 0 ] && echo "PASS"
exit $failed
