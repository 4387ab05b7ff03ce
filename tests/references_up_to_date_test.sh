#!/bin/bash
# Recomputes every reference case with the PyTorch reference model and fails if
# a committed file differs (see make_references.py --check for the tolerance).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 HOME="${TEST_TMPDIR:-/tmp}"
exec /usr/bin/python3 -B tests/make_references.py --check
