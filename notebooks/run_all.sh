#!/bin/bash
# notebooks/run_all.sh — executes every notebook headless, the way CI does.
#
#   bash notebooks/run_all.sh                  # every notebooks/*.ipynb
#   bash notebooks/run_all.sh attention        # only the ones named
#
# Each notebook runs top to bottom in a fresh Python kernel (Debian's
# jupyter-nbconvert, /usr/bin/python3), with at most CELL_TIMEOUT seconds (600
# by default) per cell. The executed copies go to notebooks/.runs/executed/;
# the notebooks themselves are left as they are. A notebook fails if a cell
# raises or times out, or if it saved no PNG figure in notebooks/figures/. The
# notebooks share one small training run (notebooks/.runs/austen-small/,
# about a minute on 2 cores), trained by whichever notebook needs it first.
# Prints each notebook's run time; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh || exit 1

timeout=${CELL_TIMEOUT:-600}
export PYDEVD_DISABLE_FILE_VALIDATION=1  # quiets the kernel debugger's start-up warning
out=notebooks/.runs/executed
mkdir -p "$out" notebooks/figures
if [ $# -gt 0 ]; then
  notebooks=()
  for name in "$@"; do notebooks+=("notebooks/${name%.ipynb}.ipynb"); done
else
  notebooks=(notebooks/*.ipynb)
fi

# Build every program once, up front, so the first notebook's time is its own.
bazel build //chapters/09_training:train //chapters/09_training:generate //tools/export:all || exit 1
export NOTEBOOKS_PROGRAMS_BUILT=1  # course.build() need not ask Bazel again

failed=() report=()
all_started=$(date +%s)
for notebook in "${notebooks[@]}"; do
  name=$(basename "$notebook" .ipynb)
  stamp=$(mktemp)
  started=$(date +%s)
  echo "== $name"
  /usr/bin/python3 -m nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout="$timeout" --ExecutePreprocessor.kernel_name=python3 \
    --output-dir "$out" --output "$name" "$notebook"
  status=$?
  seconds=$(( $(date +%s) - started ))
  figures=$(find notebooks/figures -name "${name}_*.png" -newer "$stamp" | wc -l)
  rm -f "$stamp"
  result="ok"
  if [ "$status" -ne 0 ]; then
    result="FAILED (a cell raised or timed out; see above)"
  elif [ "$figures" -eq 0 ]; then
    result="FAILED (saved no figure in notebooks/figures/)"
  fi
  [ "$result" = ok ] || failed+=("$name")
  report+=("$(printf '%-24s %4d s  %2d figures  %s' "$name" "$seconds" "$figures" "$result")")
done

echo "notebooks: run times"
printf '  %s\n' "${report[@]}"
echo "notebooks: $(( ${#notebooks[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed, $(( $(date +%s) - all_started )) s in all"
[ ${#failed[@]} -eq 0 ]
