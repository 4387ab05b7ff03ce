#!/bin/bash
# notebooks/run_all.sh — executes every notebook headless, the way CI does.
#
#   bash notebooks/run_all.sh                  # diagrams.py and every notebooks/*.ipynb
#   bash notebooks/run_all.sh attention        # only the ones named
#   bash notebooks/run_all.sh diagrams         # only notebooks/diagrams.py
#
# First, notebooks/diagrams.py draws the explanatory diagrams (a few seconds,
# no programs to build); it counts as one more entry, named "diagrams", which
# fails if the script raises or does not rewrite every diagram_*.png it lists.
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
diagrams=0 notebooks=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    case "$name" in
      diagrams | diagrams.py | notebooks/diagrams.py) diagrams=1 ;;
      *) notebooks+=("notebooks/${name%.ipynb}.ipynb") ;;
    esac
  done
else
  diagrams=1
  notebooks=(notebooks/*.ipynb)
fi

# Build every program once, up front, so the first notebook's time is its own.
if [ ${#notebooks[@]} -gt 0 ]; then
  bazel build //chapters/09_training:train //chapters/09_training:generate //tools/export:all \
    //chapters/15_bpe:tokenize //chapters/16_gpt2:train //chapters/16_gpt2:generate \
    //chapters/16_gpt2:evaluate || exit 1
fi
export NOTEBOOKS_PROGRAMS_BUILT=1  # course.build() need not ask Bazel again

failed=() report=()
all_started=$(date +%s)
record() {  # record NAME SECONDS FIGURES RESULT
  [ "$4" = ok ] || failed+=("$1")
  report+=("$(printf '%-24s %4d s  %2d figures  %s' "$1" "$2" "$3" "$4")")
}

# run_entry NAME PATTERN WANTED WHAT_FAILS COMMAND...: runs COMMAND, then
# counts the figures matching notebooks/figures/PATTERN that it rewrote; it
# must rewrite WANTED of them (a number), or at least one (WANTED "some").
run_entry() {
  local name="$1" pattern="$2" wanted="$3" what_fails="$4"
  shift 4
  local stamp started status seconds figures result=ok
  stamp=$(mktemp)
  started=$(date +%s)
  echo "== $name"
  "$@"
  status=$?
  seconds=$(( $(date +%s) - started ))
  figures=$(find notebooks/figures -name "$pattern" -newer "$stamp" | wc -l)
  rm -f "$stamp"
  if [ "$status" -ne 0 ]; then
    result="FAILED ($what_fails; see above)"
  elif [ "$wanted" = some ] && [ "$figures" -eq 0 ]; then
    result="FAILED (saved no figure in notebooks/figures/)"
  elif [ "$wanted" != some ] && [ "$figures" -ne "$wanted" ]; then
    result="FAILED (rewrote $figures of its $wanted $pattern files)"
  fi
  record "$name" "$seconds" "$figures" "$result"
}

if [ "$diagrams" -eq 1 ]; then
  run_entry diagrams "diagram_*.png" "$(/usr/bin/python3 notebooks/diagrams.py --list | wc -l)" \
    "diagrams.py exited with an error" /usr/bin/python3 notebooks/diagrams.py
fi

for notebook in "${notebooks[@]}"; do
  name=$(basename "$notebook" .ipynb)
  run_entry "$name" "${name}_*.png" some "a cell raised or timed out" \
    /usr/bin/python3 -m nbconvert --to notebook --execute \
    --ExecutePreprocessor.timeout="$timeout" --ExecutePreprocessor.kernel_name=python3 \
    --output-dir "$out" --output "$name" "$notebook"
done

echo "notebooks: run times"
printf '  %s\n' "${report[@]}"
echo "notebooks: $(( ${#report[@]} - ${#failed[@]} )) passed, ${#failed[@]} failed, $(( $(date +%s) - all_started )) s in all"
[ ${#failed[@]} -eq 0 ]
