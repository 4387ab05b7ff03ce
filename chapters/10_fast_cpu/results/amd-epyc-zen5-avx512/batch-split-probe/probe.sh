#!/bin/bash
# An estimate for "each thread takes half the batch through the whole step":
# one throughput process at B = 12 on two threads, against two one-thread
# processes at B = 6 side by side (no barriers, no shared data, no gradient
# sum, but each process its own AdamW and weights). Alternated, each round
# turning the order. Usage: probe.sh THROUGHPUT ROUNDS OUT_JSONL
set -eu
bin=$1 rounds=$2 out=$3
size=(--embed_size 128 --num_layers 4 --heads 4 --ff_dim 512 --seconds 2)
: >"$out"
one() { "$bin" "${size[@]}" --mode "$1" --batch_size 12 --threads 2; }
pair() {
  "$bin" "${size[@]}" --mode "$1" --batch_size 6 --threads 1 >/tmp/probe_a.json &
  "$bin" "${size[@]}" --mode "$1" --batch_size 6 --threads 1 >/tmp/probe_b.json
  wait
  python3 -c 'import json,sys; r=[json.load(open(f)) for f in sys.argv[1:]]; print(json.dumps({"gflop_per_s": sum(x["gflop_per_s"] for x in r), "tokens_per_s": sum(x["tokens_per_s"] for x in r), "parts": r}))' /tmp/probe_a.json /tmp/probe_b.json
}
for r in $(seq 1 "$rounds"); do
  for mode in train forward; do
    if (( r % 2 )); then a=$(one $mode); b=$(pair $mode); else b=$(pair $mode); a=$(one $mode); fi
    echo "{\"round\": $r, \"mode\": \"$mode\", \"one_process_two_threads_b12\": $a, \"two_processes_one_thread_b6\": $b}" >>"$out"
    echo "round $r $mode done" >&2
  done
done
