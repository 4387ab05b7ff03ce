#!/bin/bash
# chapters/10_fast_cpu/python_script.sh — `bazel run` entry point of this chapter's
# measuring scripts (versus_pytorch.py, profile_shares.py): runs one with
# Debian's Python (which has PyTorch). BUILD passes the script's path first,
# then the paths of the binaries it drives; your flags follow.
exec /usr/bin/python3 -B "$@"
