#!/bin/bash
# tools/run_benchmarks.sh — every chapter's benchmark, one command, results as JSON.
#
#   bash tools/run_benchmarks.sh                      # all *_bench targets, full timing
#   bash tools/run_benchmarks.sh --quick              # short runs (CI): noisier numbers
#   bash tools/run_benchmarks.sh attention            # only targets whose label matches a regex
#   bash tools/run_benchmarks.sh --quick 08 -- --benchmark_filter=Forward
#                                                     # flags after -- go to every benchmark
#   bash tools/run_benchmarks.sh --machine            # print this machine's name and exit
#
# The benchmarks are the cc_binary targets of chapters/ whose name ends in
# _bench (Google Benchmark programs). Each writes <dir>/<name>.json
# (--benchmark_out_format=json); <dir> defaults to results/<machine>, named
# after the CPU model, the number of cores and the GPU if there is one, e.g.
# results/amd-epyc-2-cores/, and <dir>/<name>.md, the same as a Markdown table
# (tools/bench_table.py) for the lessons to quote. Beside them, machine.json says where and when:
# the CPU, cores, GPU (or null), date, git commit and the timing mode.
# Benchmarks tagged gpu_run need a GPU and are skipped where nvidia-smi finds
# none. A benchmark that fails is reported and the others still run; the exit
# status is then 1.
set -uo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }

quick=0 out="" pattern="" print_machine=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="${2:?--out needs a directory}"; shift ;;
    --out=*) out="${1#--out=}" ;;
    --machine) print_machine=1 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "run_benchmarks: unknown flag $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$pattern" ] || { echo "run_benchmarks: one target pattern only" >&2; exit 2; }
       pattern="$1" ;;
  esac
  shift
done

# --- Which machine: CPU model, cores, GPU -------------------------------------------------
slug() {
  tr '[:upper:]' '[:lower:]' | sed -E 's/\((r|tm)\)//g; s/ cpu / /g; s/[^a-z0-9]+/-/g; s/^-+//; s/-+$//'
}
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed -E 's/^model name[[:space:]]*:[[:space:]]*//')
cpu=${cpu:-unknown cpu}
cores=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # nproc obeys OMP_NUM_THREADS
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1 || true)
machine="$(slug <<<"$cpu")-${cores}-cores"
[ -n "$gpu" ] && machine="$machine-$(slug <<<"$gpu")"
if [ "$print_machine" -eq 1 ]; then
  echo "$machine"
  exit 0
fi
out=${out:-results/$machine}

bash tools/setup.sh || exit 1

# --- Which benchmarks --------------------------------------------------------------------
all=$(bazel query 'filter("_bench$", kind(cc_binary, //chapters/...))' 2>/dev/null | sort)
gpu_only=$(bazel query 'attr(tags, "\bgpu_run\b", filter("_bench$", kind(cc_binary, //chapters/...)))' \
  2>/dev/null | sort)
targets=() skipped=()
for t in $all; do
  if [ -n "$pattern" ] && ! grep -qE -- "$pattern" <<<"$t"; then continue; fi
  if grep -qxF -- "$t" <<<"$gpu_only" && [ -z "$gpu" ]; then
    skipped+=("$t")
    continue
  fi
  targets+=("$t")
done
for t in "${skipped[@]}"; do echo "run_benchmarks: skipping $t (tagged gpu_run; no GPU here)"; done
if [ ${#targets[@]} -eq 0 ]; then
  echo "run_benchmarks: no benchmark matches '${pattern}'" >&2
  exit 2
fi
bazel build "${targets[@]}" || exit 1

flags=(--benchmark_out_format=json)
[ "$quick" -eq 1 ] && flags+=(--benchmark_min_time=0.05)
flags+=("${extra[@]}")

mkdir -p "$out" || exit 1
out_abs=$(cd "$out" && pwd)
# A full run replaces the directory's results, so none is left from a benchmark that is gone.
[ -z "$pattern" ] && rm -f "$out"/*.json "$out"/*_bench.md
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && commit="$commit+local-changes"

failed=()
for t in "${targets[@]}"; do
  name=${t##*:}
  binary="$PWD/bazel-bin/${t#//}"
  binary=${binary/://}
  echo "== $t -> $out/$name.json"
  # Run where `bazel run` would: in the binary's runfiles (the corpora live there).
  dir="$binary.runfiles/gpt_from_scratch"
  [ -d "$dir" ] || dir="$PWD"
  if ! (cd "$dir" && "$binary" "${flags[@]}" --benchmark_out="$out_abs/$name.json"); then
    failed+=("$t")
  fi
done

python3 - "$out/machine.json" "$machine" "$cpu" "$cores" "$gpu" "$started" "$commit" "$quick" \
  "${extra[*]:-}" "${targets[*]}" <<'EOF'
import json, sys
path, machine, cpu, cores, gpu, date, commit, quick, extra, targets = sys.argv[1:]
info = {"machine": machine, "cpu": cpu, "cores": int(cores), "gpu": gpu or None,
        "date": date, "commit": commit,
        "mode": "quick (--benchmark_min_time=0.05)" if quick == "1" else "full (default timing)",
        "extra_flags": extra or None, "targets": targets.split()}
with open(path, "w") as f:
    json.dump(info, f, indent=2)
    f.write("\n")
EOF
# Beside each JSON file, its Markdown table: what the lessons quote (tools/bench_table.py).
for json in "$out"/*_bench.json; do
  [ -e "$json" ] && /usr/bin/python3 tools/bench_table.py "$json" >"${json%.json}.md"
done
echo "run_benchmarks: results in $out/ (machine.json describes the machine; <name>.md, each JSON file as a table)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "run_benchmarks: FAILED: ${failed[*]}" >&2
  exit 1
fi
