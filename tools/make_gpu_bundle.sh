#!/bin/bash
# tools/make_gpu_bundle.sh — everything the GPU checks need, for a GPU machine
# that has the CUDA toolkit and driver but no Bazel and no Debian packages.
#
#   bash tools/make_gpu_bundle.sh            # writes gpu_bundle/ (git-ignored)
#   # copy gpu_bundle.tar.xz (or gpu_bundle/, the same unpacked) to the GPU machine, then there:
#   tar -xJf gpu_bundle.tar.xz               # or python3's tarfile, where tar has no xz
#   bash gpu_bundle/run_all.sh [RESULTS]     # writes gpu_bundle/results/ (or RESULTS)
#
# It builds, with nvcc (--config=nvcc: this machine may have no GPU), every test
# tagged "gpu", every binary tagged "gpu_run" (benchmarks, the device query) and
# every program tagged "gpu_program" (train and generate, which run_all.sh
# does not start: run them by hand, as gpu_bundle/README.txt says) for a
# generic x86-64-v3 CPU (no -march=native: the GPU host is another CPU),
# strips them, merges their runfiles (reference cases, corpora) into one data/
# tree, GoogleTest is linked in statically, and Google Benchmark's shared
# library goes beside them.
# cuBLAS is not copied: the GPU machine's CUDA toolkit (/usr/local/cuda) has it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

tests=$(bazel query 'attr(tags, "\bgpu\b", tests(//...))' 2>/dev/null)
benches=$(bazel query 'attr(tags, "\bgpu_run\b", kind(cc_binary, //...))' 2>/dev/null || true)
programs=$(bazel query 'attr(tags, "\bgpu_program\b", kind(cc_binary, //...))' 2>/dev/null || true)
echo "GPU tests:      " $tests
echo "GPU binaries:   " $benches
echo "GPU programs:   " $programs
bazel build --config=portable --config=nvcc $tests $benches $programs

out=gpu_bundle
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib" "$out/data/gpt_from_scratch"
# Binaries stripped in bin/; their data files (reference cases, corpora) merged
# once into data/gpt_from_scratch/, the runfiles root every program starts in.
for target in $tests $benches $programs; do
  path=${target#//}
  path=bazel-bin/${path/://}
  name=$(basename "$path")
  [ ! -e "$out/bin/$name" ] || { echo "two GPU programs are named $name: rename one" >&2; exit 1; }
  strip -o "$out/bin/$name" "$path"
  if [ -d "$path.runfiles/gpt_from_scratch" ]; then
    (cd "$path.runfiles/gpt_from_scratch" &&
      find -L . -type f ! -path './_solib*' ! -path "./${path#bazel-bin/}" \
        -exec cp --parents -n {} "$OLDPWD/$out/data/gpt_from_scratch/" \;)
  fi
done
# Google Benchmark, OpenMP and the C++ library from here (the GPU machine may
# lack the first and have older versions of the others); cuBLAS (~570 MB)
# comes from the GPU machine's own toolkit.
cp -P /usr/lib/x86_64-linux-gnu/libbenchmark.so* /usr/lib/x86_64-linux-gnu/libgomp.so.1* \
  /usr/lib/x86_64-linux-gnu/libstdc++.so.6* "$out/lib/"
# And every other library a bundled program links that is neither the C
# library's own nor CUDA's (ICU, which chapter 15's tokenizer links into
# train and generate, is missing on the GPU machine), by its soname.
for program in "$out"/bin/*; do
  ldd "$program" | awk '$3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r soname path; do
  case $soname in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libgcc_s.so*) ;;  # the system's
    libcuda*|libcublas*|libcudart*|libnvidia*) ;;                                      # the toolkit's
    *) [ -e "$out/lib/$soname" ] || cp -L "$path" "$out/lib/$soname" ;;
  esac
done
# Chapter 17's side-by-side with PyTorch: a script, not a binary (so after the
# libraries' ldd), that drives bin/bf16_training_bench and then the GPU
# machine's own python3 and PyTorch on pytorch_bf16_training.py.
if [ -e "$out/bin/bf16_training_bench" ]; then
  install -m 755 chapters/17_mixed_precision/versus_pytorch_gpu.sh "$out/bin/versus_pytorch_gpu"
  install -D -m 755 chapters/17_mixed_precision/pytorch_bf16_training.py \
    "$out/data/gpt_from_scratch/chapters/17_mixed_precision/pytorch_bf16_training.py"
fi

cat >"$out/run_all.sh" <<'RUN'
#!/bin/bash
# Runs every GPU test, then every GPU benchmark, then the tests against the
# untouched exercises (which must FAIL on a GPU). Each program's output goes to
# RESULTS/<name>.txt (benchmarks also <name>.json); summary.txt says what passed.
#   bash run_all.sh [RESULTS]        RESULTS defaults to results/ beside this script
# GPU_BUNDLE_ONLY='name|name2' runs only those programs; GPU_BUNDLE_LIMIT_S
# caps each program's seconds (default 300); GPU_BUNDLE_AFTER_EACH is a
# command run after each program (to copy results out as they come, say).
# summary.txt is appended to, one headed section per call, so that calls
# with GPU_BUNDLE_ONLY can add to an earlier run's results.
set -u
here=$(cd "$(dirname "$0")" && pwd)
results=$(mkdir -p "${1:-$here/results}" && cd "${1:-$here/results}" && pwd)
if [ -n "${GPU_BUNDLE_ONLY:-}" ]; then
  [[ x =~ ^($GPU_BUNDLE_ONLY)$ ]]
  [ $? -ne 2 ] || { echo "GPU_BUNDLE_ONLY is not a valid regular expression: $GPU_BUNDLE_ONLY" >&2; exit 2; }
fi
export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export GOMP_SPINCOUNT=${GOMP_SPINCOUNT:-3000000}  # chapter 10's engine (spin_waiting.h); saves its restart
export TEST_TMPDIR=${TEST_TMPDIR:-$(mktemp -d)}    # what `bazel test` gives a test
limit=${GPU_BUNDLE_LIMIT_S:-300}                  # seconds per program at most
gpu=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
{
  echo "device: ${gpu:-unknown}"
  echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
  echo "cuda: $(ls -d /usr/local/cuda/lib64/libcublas.so.* 2>/dev/null | head -n 1)"
} | tee "$results/device.txt"
echo "== run_all.sh, $(date -u +%Y-%m-%dT%H:%MZ)${GPU_BUNDLE_ONLY:+, only $GPU_BUNDLE_ONLY}" >>"$results/summary.txt"
failed=0
run() {  # run KIND NAME [ARGS...]: KIND is test, bench or exercise
  local kind=$1 name=$2; shift 2
  [[ -z "${GPU_BUNDLE_ONLY:-}" || $name =~ ^($GPU_BUNDLE_ONLY)$ ]] || return 0
  local start=$SECONDS
  echo "== $kind $name"
  (cd "$here/data/gpt_from_scratch" && timeout -k 10 "$limit" "$here/bin/$name" "$@") >"$results/$name.txt" 2>&1
  local rc=$?
  tail -n 25 "$results/$name.txt"
  local verdict=ok
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "$kind $name: TIMED OUT after $limit s (GPU_BUNDLE_LIMIT_S)" | tee -a "$results/summary.txt"
    failed=1
    [ -z "${GPU_BUNDLE_AFTER_EACH:-}" ] || eval "$GPU_BUNDLE_AFTER_EACH"
    return 0
  fi
  case $kind in
    test) [ $rc -eq 0 ] || { verdict="FAILED (exit $rc)"; failed=1; } ;;
    bench) [ $rc -eq 0 ] || { verdict="FAILED (exit $rc)"; failed=1; } ;;
    exercise) if grep -q 'GPU test needs a GPU' "$results/$name.txt"; then
                verdict="PROVED NOTHING: the GPU tests could not run here (no usable GPU)"; failed=1
              elif [ $rc -eq 1 ] && grep -q '\[  FAILED  \]' "$results/$name.txt"; then
                verdict="fails on the untouched exercise, as it must"
              else verdict="DID NOT FAIL on the untouched exercise (exit $rc)"; failed=1; fi ;;
  esac
  echo "$kind $name: $verdict, $((SECONDS - start)) s" | tee -a "$results/summary.txt"
  [ -z "${GPU_BUNDLE_AFTER_EACH:-}" ] || eval "$GPU_BUNDLE_AFTER_EACH"
}
RUN
for target in $tests; do
  echo "run test $(basename "${target/://}")" >>"$out/run_all.sh"
done
for target in $benches; do
  name=$(basename "${target/://}")
  case $name in
    *_on_exercise) ;;
    # On its own, chapter 17's training step also times version 4's products
    # (on an sm_90 GPU); versus_pytorch_gpu below runs it without them.
    bf16_training_bench) echo "run bench $name --wgmma --benchmark_out=\"\$results/$name.json\" --benchmark_out_format=json" >>"$out/run_all.sh" ;;
    *_bench) echo "run bench $name --benchmark_out=\"\$results/$name.json\" --benchmark_out_format=json" >>"$out/run_all.sh" ;;
    *) echo "run bench $name" >>"$out/run_all.sh" ;;
  esac
done
# Ours against PyTorch in bf16 (chapter 17's versus_pytorch_gpu.sh): writes
# RESULTS/versus_pytorch.md and .json, and its raw outputs beside them.
if [ -e "$out/bin/versus_pytorch_gpu" ]; then
  echo 'run bench versus_pytorch_gpu --bench "$here/bin/bf16_training_bench" --pytorch chapters/17_mixed_precision/pytorch_bf16_training.py --out "$results"' >>"$out/run_all.sh"
fi
for target in $benches; do
  name=$(basename "${target/://}")
  case $name in *_on_exercise) echo "run exercise $name" >>"$out/run_all.sh" ;; esac
done
echo 'exit $failed' >>"$out/run_all.sh"
chmod +x "$out/run_all.sh"
cat >"$out/README.txt" <<'README'
gpu_bundle: the course's GPU tests, benchmarks and programs, built with nvcc.
  bash run_all.sh [RESULTS]     every test, every benchmark, every exercise check
  (versus_pytorch_gpu, chapter 17's bf16 step against PyTorch's, needs python3 with PyTorch)
The programs (train, generate) start where their data is:
  cd data/gpt_from_scratch && LD_LIBRARY_PATH=../../lib:/usr/local/cuda/lib64 \
    ../../bin/train --device cuda --data chapters/01_tokens/austen.txt --epochs 10 --out /tmp/seed
README
# One compressed file to carry: the tree is ~450 MB, mostly the CUDA kernels'
# machine code in every statically linked binary; packed, ~47 MB.
tar -cJf gpu_bundle.tar.xz "$out"
du -sh "$out" gpu_bundle.tar.xz
