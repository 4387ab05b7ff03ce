#!/bin/bash
# notebooks/make_figures.sh — regenerates every figure in notebooks/figures/.
#
#   bash notebooks/make_figures.sh
#
# Two steps: notebooks/diagrams.py draws the explanatory diagrams
# (diagram_*.png, a few seconds), then notebooks/run_all.sh executes every
# notebook, which draws the rest (<notebook>_*.png; it builds the programs and
# trains the small shared model, a few minutes on 2 cores). run_all.sh is
# given the notebooks by name so that it does not draw the diagrams a second
# time. Prints run_all.sh's summary; exits 1 if either step failed.
set -uo pipefail
cd "$(dirname "$0")/.."

echo "== diagrams"
/usr/bin/python3 notebooks/diagrams.py
diagrams=$?

names=()
for notebook in notebooks/*.ipynb; do names+=("$(basename "$notebook" .ipynb)"); done
bash notebooks/run_all.sh "${names[@]}"
notebooks=$?

if [ "$diagrams" -ne 0 ]; then
  echo "make_figures: notebooks/diagrams.py FAILED (exit $diagrams; see above)"
fi
[ "$diagrams" -eq 0 ] && [ "$notebooks" -eq 0 ]
