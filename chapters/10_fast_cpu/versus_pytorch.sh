#!/bin/bash
# chapters/10_fast_cpu/versus_pytorch.sh — `bazel run` entry point of versus_pytorch.py:
# runs it with Debian's Python (which has PyTorch). BUILD passes the script's
# path first, then the paths of the binaries it drives; your flags follow.
exec /usr/bin/python3 -B "$@"
