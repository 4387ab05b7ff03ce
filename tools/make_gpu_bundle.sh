#!/bin/bash
# tools/make_gpu_bundle.sh — everything the GPU checks need, for a GPU machine
# that has the CUDA toolkit and driver but no Bazel and no Debian packages.
#
#   bash tools/make_gpu_bundle.sh            # writes gpu_bundle/ (git-ignored)
#   # copy gpu_bundle/ to the GPU machine, then there:
#   bash gpu_bundle/run_all.sh               # writes gpu_bundle/results/
#
# It builds every test tagged "gpu" and every binary tagged "gpu_run" (benchmarks, the device query) for a
# generic x86-64-v3 CPU (no -march=native: the GPU host is another CPU),
# copies them with their runfiles (reference cases, corpora), GoogleTest is
# linked in statically, and Google Benchmark's shared library goes beside them.
# cuBLAS is not copied: the GPU machine's CUDA toolkit (/usr/local/cuda) has it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh

tests=$(bazel query 'attr(tags, "\bgpu\b", tests(//...))' 2>/dev/null)
benches=$(bazel query 'attr(tags, "\bgpu_run\b", kind(cc_binary, //...))' 2>/dev/null || true)
echo "GPU tests:      " $tests
echo "GPU binaries:   " $benches
bazel build --config=portable $tests $benches

out=gpu_bundle
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
for target in $tests $benches; do
  path=${target#//}
  path=bazel-bin/${path/://}
  name=$(basename "$path")
  cp "$path" "$out/bin/$name"
  if [ -d "$path.runfiles" ]; then
    cp -rL "$path.runfiles" "$out/bin/$name.runfiles"
    # cuBLAS (~570 MB) comes from the GPU machine's own toolkit instead.
    find "$out/bin/$name.runfiles" -type d -name '*@cuda*' -prune -exec rm -rf {} +
  fi
done
cp -P /usr/lib/x86_64-linux-gnu/libbenchmark.so* "$out/lib/"

{
  echo '#!/bin/bash'
  echo '# Runs every GPU test and benchmark of the bundle; results go to results/.'
  echo 'set -u'
  echo 'here=$(cd "$(dirname "$0")" && pwd)'
  echo 'export LD_LIBRARY_PATH="$here/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"  # cuBLAS from the toolkit'
  echo 'mkdir -p "$here/results"'
  echo 'gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)'
  echo 'echo "device: ${gpu:-unknown}; date: $(date -u +%Y-%m-%dT%H:%MZ)" | tee "$here/results/device.txt"'
  echo 'failed=0'
  for target in $tests; do
    name=$(basename "${target/://}")
    echo "echo \"== test $name\"; (cd \"\$here/bin/$name.runfiles/gpt_from_scratch\" 2>/dev/null || cd \"\$here/bin\"; \"\$here/bin/$name\") 2>&1 | tee \"\$here/results/$name.txt\"; [ \${PIPESTATUS[0]} -eq 0 ] || failed=1"
  done
  for target in $benches; do
    name=$(basename "${target/://}")
    echo "echo \"== run $name\"; (cd \"\$here/bin/$name.runfiles/gpt_from_scratch\" 2>/dev/null || cd \"\$here/bin\"; \"\$here/bin/$name\" --benchmark_out=\"\$here/results/$name.json\" --benchmark_out_format=json) 2>&1 | tee \"\$here/results/$name.txt\""
  done
  echo 'exit $failed'
} >"$out/run_all.sh"
chmod +x "$out/run_all.sh"
du -sh "$out"
