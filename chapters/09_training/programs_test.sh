#!/bin/bash
# chapters/09_training/programs_test.sh — `train` and `generate`, end to end.
#
# Tiny models on tiny data, a few steps each:
#   - bad flags and bad inputs end with exit status 2 and a message naming the
#     problem, never a crash: one check per kind of mistake (flags, corpora,
#     prompts, checkpoints — missing, truncated, garbage, NaN);
#   - Ctrl-C (SIGINT) mid-run saves a checkpoint and exits 130, SIGTERM 143;
#     the interrupted run, resumed, equals an uninterrupted one bit for bit;
#   - a loss that becomes NaN stops the run (exit 1) and leaves the last good
#     checkpoint on disk;
#   - a run stopped after 3 steps and resumed to 6 writes the same losses and
#     the same checkpoint as a run of 6 steps (dropout and warmup on, so the
#     random stream and the step counter both have to continue exactly);
#   - metrics.jsonl holds one JSON object per step and per evaluation;
#   - relative paths follow BUILD_WORKING_DIRECTORY, as under `bazel run`;
#   - generate continues a prompt and refuses characters outside the vocabulary;
#   - the checkpoint records its tokenizer ("tokenizer": "char"); one without
#     the key (written before chapter 15) still loads; a checkpoint of another
#     tokenizer, or --tokenizer other than char, is refused: these programs
#     offer char only (chapter 15's offer gpt2 and BPE files).
#
# Arguments: the train binary, the generate binary.
set -uo pipefail
train="$PWD/$1" generate="$PWD/$2"  # absolute: some checks run elsewhere
tmp="$TEST_TMPDIR"
source common/testing/program_checks.sh

tiny=(--data random --vocab_size 11 --embed_size 16 --num_layers 1 --heads 2 --block_size 8
      --batch_size 2 --random_tokens 5000 --eval_batches 2 --sample_tokens 0)

# ---- help, and bad flags
"$train" --help > "$tmp/help.txt" || fail "train --help exited with $?"
grep -qF "ceil(train_tokens / (batch_size * block_size))" "$tmp/help.txt" ||
  fail "train --help does not define an epoch"
"$generate" --help > /dev/null || fail "generate --help exited with $?"

expect_error 2 "--bogus" "$train" --bogus 1
expect_error 2 "--batch_size" "$train" --batch_size abc
expect_error 2 "--batch_size: 1 required INT missing" "$train" --batch_size
expect_error 2 "--batch_size must be positive" "$train" --batch_size 0
expect_error 2 "--embed_size must be positive, got -16" "$train" --embed_size -16
expect_error 2 "--lr must be positive, got nan" "$train" --lr nan
expect_error 2 "needs about" "$train" --data random --embed_size 65536 --num_layers 64 \
  --heads 1 --vocab_size 11
expect_error 2 "heads (3) must divide embed_size (16)" "$train" --embed_size 16 --heads 3
expect_error 2 "--block_size (16) must not exceed --max_length (8)" \
  "$train" --block_size 16 --max_length 8
expect_error 2 "--dropout must be in [0, 1)" "$train" --dropout 1
# ---- bad corpora
expect_error 2 "cannot open corpus file '$tmp/no_such_file.txt'" \
  "$train" --data "$tmp/no_such_file.txt"
: > "$tmp/empty.txt"
expect_error 2 "corpus file '$tmp/empty.txt' is empty" "$train" --data "$tmp/empty.txt"
printf 'caf\xe9 au lait\n' > "$tmp/latin1.txt"
expect_error 2 "invalid UTF-8 at byte 3" "$train" --data "$tmp/latin1.txt"
expect_error 2 "is a directory, not a text file" "$train" --data "$tmp"
printf 'a short text\n' > "$tmp/short.txt"
expect_error 2 "fewer than one window" "$train" --data "$tmp/short.txt" --block_size 8
/usr/bin/python3 -c 'print("".join(chr(0x4E00 + i) for i in range(5000)) * 2)' > "$tmp/cjk.txt"  # and a newline
expect_error 2 "5001 distinct characters, more than a character model's limit of 4096" \
  "$train" --data "$tmp/cjk.txt"
expect_error 2 "--data: the path is not valid UTF-8" "$train" --data "$tmp/$(printf 'x\xff')"

# ---- bad checkpoints (the library tests try many more: checkpoint_test.cc)
expect_error 2 "--resume: safetensors file '$tmp/missing.safetensors': cannot be opened" \
  "$train" --resume "$tmp/missing.safetensors"
echo "not a checkpoint" > "$tmp/bad.safetensors"
expect_error 2 "bad.safetensors" "$train" --resume "$tmp/bad.safetensors"

# ---- a run of 6 steps, and the same run stopped at 3 and resumed
"$train" "${tiny[@]}" --dropout 0.1 --warmup_steps 2 --eval_interval 2 --max_steps 6 \
  --out "$tmp/whole" > "$tmp/whole.log" || fail "train (6 steps) exited with $?"
"$train" "${tiny[@]}" --dropout 0.1 --warmup_steps 2 --eval_interval 2 --max_steps 3 \
  --out "$tmp/parts" > "$tmp/parts1.log" || fail "train (3 steps) exited with $?"
"$train" --resume "$tmp/parts/checkpoint.safetensors" --max_steps 6 --sample_tokens 0 \
  > "$tmp/parts2.log" || fail "train --resume exited with $?"
grep -qF "at step 3" "$tmp/parts2.log" || fail "the resumed run did not start at step 3"
# The same six losses and the same weights and optimizer moments, bit for bit.
# (This needs the parameter and activation buffers to start on 64-byte
# boundaries — common/aligned_vector.h — or Eigen's vectorised sums would add
# in an order that depends on where malloc put them.)
cat > "$tmp/same_run.py" <<'EOF'
# same_run.py WHOLE PARTS N: two runs wrote the same N losses and the same
# checkpoint tensors, bit for bit.
import json, struct, sys
import numpy as np

def losses(run):
    return [json.loads(line)["loss"] for line in open(run + "/metrics.jsonl") if '"loss"' in line]

def tensors(run):
    data = open(run + "/checkpoint.safetensors", "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    body = data[8 + n:]
    return {k: np.frombuffer(body[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4")
            for k, v in header.items()}

whole, parts, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
a, b = np.array(losses(whole)), np.array(losses(parts))
assert len(a) == n and len(b) == n, (len(a), len(b), n)
assert (a == b).all(), f"losses {a} vs {b}"
ta, tb = tensors(whole), tensors(parts)
assert ta.keys() == tb.keys()
for name in ta:
    worst = np.abs(ta[name].astype(np.float64) - tb[name]).max()
    assert worst == 0, f"{name}: max difference {worst:.2e}"
print(f"resumed run = uninterrupted run: {n} losses, the last {b[-3:]}")
EOF
/usr/bin/python3 -B "$tmp/same_run.py" "$tmp/whole" "$tmp/parts" 6 ||
  fail "the resumed run differs from the uninterrupted run"

# ---- --init: a new run from a checkpoint's weights (step 0, a new optimizer);
# chapter 09's programs have no named models.
"$train" "${tiny[@]}" --init "$tmp/parts/checkpoint.safetensors" --max_steps 1 \
  --out "$tmp/from_init" > "$tmp/init.log" || fail "train --init exited with $?"
grep -qF "init    $tmp/parts/checkpoint.safetensors" "$tmp/init.log" || fail "no init line"
[[ $(metadata "$tmp/from_init/checkpoint.safetensors" step) == 1 ]] ||
  fail "the --init run did not restart at step 0"
expect_error 2 "this program has no named models" "$train" --model gpt2 --out "$tmp/x"
expect_error 2 "--init: safetensors file '$tmp/missing.safetensors': cannot be opened" \
  "$train" --init "$tmp/missing.safetensors" --out "$tmp/x"
[[ $(grep -c '"loss"' "$tmp/whole/metrics.jsonl") -eq 6 ]] || fail "expected 6 step lines"
# Steps 2 and 4 evaluate, and so does the end (step 6).
[[ $(grep -c val_loss "$tmp/whole/metrics.jsonl") -eq 3 ]] || fail "expected 3 val_loss lines"
/usr/bin/python3 -B -c '
import json, sys
for line in open(sys.argv[1]):
    entry = json.loads(line)
    assert "step" in entry and ("val_loss" in entry or {"epoch", "loss", "lr", "grad_norm",
                                                         "tokens_per_s"} <= entry.keys()), line
' "$tmp/whole/metrics.jsonl" || fail "metrics.jsonl is not JSON lines of the documented keys"
expect_error 2 "--embed_size 32 contradicts the checkpoint" \
  "$train" --resume "$tmp/whole/checkpoint.safetensors" --embed_size 32

# ---- damaged checkpoints, made from a good one
ckpt="$tmp/whole/checkpoint.safetensors"
size=$(stat -c %s "$ckpt")
head -c $((size - 1)) "$ckpt" > "$tmp/cut_data.safetensors"
expect_error 2 "outside the" "$train" --resume "$tmp/cut_data.safetensors"
head -c 100 "$ckpt" > "$tmp/cut_header.safetensors"
expect_error 2 "-byte header but only 92 bytes follow" \
  "$generate" --checkpoint "$tmp/cut_header.safetensors"
head -c 4000 /dev/urandom > "$tmp/garbage.safetensors"
expect_error 2 "garbage.safetensors" "$generate" --checkpoint "$tmp/garbage.safetensors"
/usr/bin/python3 -B - "$ckpt" "$tmp/nan.safetensors" <<'EOF'
import json, struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
(n,) = struct.unpack("<Q", data[:8])
begin = json.loads(data[8:8 + n])["blocks.0.attn.proj.weight"]["data_offsets"][0]
data[8 + n + begin + 4 * 3:8 + n + begin + 4 * 4] = struct.pack("<f", float("nan"))
open(sys.argv[2], "wb").write(data)
EOF
expect_error 2 "tensor 'blocks.0.attn.proj.weight' holds NaN at element 3" \
  "$generate" --checkpoint "$tmp/nan.safetensors"
expect_error 2 "tensor 'blocks.0.attn.proj.weight' holds NaN at element 3" \
  "$train" --resume "$tmp/nan.safetensors"
expect_error 2 "--sample_prompt: character U+00E9" \
  "$train" --resume "$ckpt" --max_steps 7 --sample_prompt "é"

/usr/bin/python3 -c '
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
assert json.loads(data[8:8 + n])["__metadata__"]["tokenizer"] == "char"' "$ckpt" ||
  fail "the checkpoint does not record its tokenizer as char"
with_metadata "$ckpt" "$tmp/old.safetensors" tokenizer -
"$generate" --checkpoint "$tmp/old.safetensors" --max_new_tokens 5 > /dev/null 2> "$tmp/err.txt" ||
  fail "a checkpoint without 'tokenizer' did not load as a character model's: $(cat "$tmp/err.txt")"
with_metadata "$ckpt" "$tmp/gpt2.safetensors" tokenizer gpt2
expect_error 2 "its tokenizer is 'gpt2', and this program offers only char" \
  "$generate" --checkpoint "$tmp/gpt2.safetensors"
expect_error 2 "its tokenizer is 'gpt2', and this program offers only char" \
  "$train" --resume "$tmp/gpt2.safetensors"
expect_error 2 "--tokenizer gpt2: this program offers only char" "$train" --tokenizer gpt2 \
  --data "$tmp/short.txt"
expect_error 2 "--tokenizer gpt2 does not apply to --data random" "$train" "${tiny[@]}" \
  --tokenizer gpt2

# ---- Ctrl-C mid-run: a checkpoint, exit 130, and a resumed run that equals an
# uninterrupted one. The run is long (200000 steps) so the signal surely comes
# mid-training, at whatever step k; then both runs go to step k + 5.
sig_flags=("${tiny[@]}" --dropout 0.1 --warmup_steps 2 --eval_interval 50 --save_interval 0)
# wait_for_steps DIR N: until DIR/metrics.jsonl holds N step lines (at most 60 s).
wait_for_steps() {
  for _ in $(seq 600); do
    [[ $(grep -c '"loss"' "$1/metrics.jsonl" 2> /dev/null) -ge $2 ]] && return 0
    sleep 0.1
  done
  return 1
}
checkpoint_step() {
  /usr/bin/python3 -c '
import json, struct, sys
data = open(sys.argv[1], "rb").read()
(n,) = struct.unpack("<Q", data[:8])
print(json.loads(data[8:8 + n])["__metadata__"]["step"])' "$1"
}
# A script's background job ignores SIGINT unless job control is on (set -m),
# and train leaves an ignored SIGINT ignored.
set -m
"$train" "${sig_flags[@]}" --max_steps 200000 --out "$tmp/interrupted" \
  > "$tmp/interrupted.log" 2> "$tmp/interrupted_err.txt" &
pid=$!
set +m
wait_for_steps "$tmp/interrupted" 3 || fail "the interrupted run wrote no steps"
kill -INT "$pid"
wait "$pid"
status=$?
[[ $status -eq 130 ]] || fail "train after SIGINT exited with $status, expected 130"
grep -qF "train: interrupted (SIGINT) at step" "$tmp/interrupted_err.txt" ||
  fail "no interruption message: $(cat "$tmp/interrupted_err.txt")"
grep -qF -- "--resume $tmp/interrupted/checkpoint.safetensors" "$tmp/interrupted_err.txt" ||
  fail "the interruption message does not say how to resume"
k=$(checkpoint_step "$tmp/interrupted/checkpoint.safetensors")
last=$(grep '"loss"' "$tmp/interrupted/metrics.jsonl" | tail -n 1 | sed -E 's/^\{"step":([0-9]+),.*/\1/')
[[ "$k" == "$last" ]] || fail "interrupted: checkpoint at step $k, last metrics step $last"
echo "SIGINT after step $k"
"$train" --resume "$tmp/interrupted/checkpoint.safetensors" --max_steps $((k + 5)) \
  --sample_tokens 0 > "$tmp/resumed.log" || fail "resuming the interrupted run exited with $?"
"$train" "${sig_flags[@]}" --max_steps $((k + 5)) --out "$tmp/straight" > "$tmp/straight.log" ||
  fail "the uninterrupted run exited with $?"
/usr/bin/python3 -B "$tmp/same_run.py" "$tmp/straight" "$tmp/interrupted" $((k + 5)) ||
  fail "interrupted + resumed differs from the uninterrupted run"

# SIGTERM: the same, with exit status 143.
"$train" "${sig_flags[@]}" --max_steps 200000 --out "$tmp/terminated" \
  > /dev/null 2> "$tmp/terminated_err.txt" &
pid=$!
wait_for_steps "$tmp/terminated" 3 || fail "the terminated run wrote no steps"
kill -TERM "$pid"
wait "$pid"
status=$?
[[ $status -eq 143 ]] || fail "train after SIGTERM exited with $status, expected 143"
grep -qF "train: stopped (SIGTERM) at step" "$tmp/terminated_err.txt" ||
  fail "no SIGTERM message: $(cat "$tmp/terminated_err.txt")"
[[ $(checkpoint_step "$tmp/terminated/checkpoint.safetensors") -ge 3 ]] ||
  fail "SIGTERM: no checkpoint of the steps taken"

# ---- a loss that becomes NaN: exit 1, and the checkpoint on disk is the last
# good one (saved every step here), not the diverged state.
expect_error 1 "training diverged. The checkpoint of step 1 (" \
  "$train" "${tiny[@]}" --lr 1e30 --save_interval 1 --max_steps 20 --out "$tmp/diverged"
grep -qF "at step 2: training diverged" "$tmp/err.txt" || fail "diverged: $(cat "$tmp/err.txt")"
/usr/bin/python3 -B - "$tmp/diverged" <<'EOF' || fail "the diverged run's checkpoint is not the last good one"
import json, struct, sys
import numpy as np
run = sys.argv[1]
lines = [json.loads(l) for l in open(run + "/metrics.jsonl") if '"loss"' in l]
assert lines[-1]["loss"] is None and lines[-1]["step"] == 2, lines[-1]
data = open(run + "/checkpoint.safetensors", "rb").read()
(n,) = struct.unpack("<Q", data[:8])
header = json.loads(data[8:8 + n])
assert header.pop("__metadata__")["step"] == "1"
for name, t in header.items():
    a = np.frombuffer(data[8 + n + t["data_offsets"][0]:8 + n + t["data_offsets"][1]], "<f4")
    assert np.isfinite(a).all(), name
EOF

# ---- relative paths under bazel run; a text file as data
mkdir -p "$tmp/wd"
for i in $(seq 1 60); do echo "line $i: the quick brown fox jumps over the lazy dog"; done \
  > "$tmp/wd/fox.txt"
(cd / && BUILD_WORKING_DIRECTORY="$tmp/wd" "$train" --data fox.txt --embed_size 16 \
  --num_layers 1 --heads 2 --block_size 8 --batch_size 2 --max_steps 4 --eval_batches 2 \
  --sample_tokens 20 --sample_prompt "the " --out rel > "$tmp/fox.log") ||
  fail "train on fox.txt exited with $?"
[[ -f "$tmp/wd/rel/checkpoint.safetensors" && -f "$tmp/wd/rel/metrics.jsonl" ]] ||
  fail "--out rel did not land in BUILD_WORKING_DIRECTORY"
grep -q "^the " "$tmp/fox.log" || fail "train printed no sample after its prompt"

# ---- generate
(cd / && BUILD_WORKING_DIRECTORY="$tmp/wd" "$generate" --checkpoint rel/checkpoint.safetensors \
  --prompt "the fox" --max_new_tokens 25 --top_k 5 > "$tmp/generated.txt" 2> "$tmp/gen_err.txt") ||
  fail "generate exited with $?: $(cat "$tmp/gen_err.txt")"
text="$(cat "$tmp/generated.txt")"
[[ "$text" == "the fox"* ]] || fail "generate's output does not start with the prompt: $text"
# The prompt plus 25 characters (a newline among them is possible: count characters).
chars=$(/usr/bin/python3 -c 'import sys; print(len(open(sys.argv[1], encoding="utf-8").read()))' \
  "$tmp/generated.txt")
[[ $chars -eq 33 ]] || fail "expected 7 + 25 characters and a newline, got $chars"
(cd "$tmp/wd" && "$generate" --checkpoint rel/checkpoint.safetensors --prompt "the fox" \
  --max_new_tokens 25 --top_k 5 2> /dev/null) | cmp -s - "$tmp/generated.txt" ||
  fail "generate with the same seed wrote a different text"
expect_error 2 "U+00E9 'é'" "$generate" --checkpoint "$tmp/wd/rel/checkpoint.safetensors" \
  --prompt "café"
expect_error 2 "--prompt must not be empty" "$generate" --prompt ""
expect_error 2 "--max_new_tokens must be in [0, 100000]" "$generate" --max_new_tokens 100001
expect_error 2 "missing.safetensors" "$generate" --checkpoint "$tmp/missing.safetensors"

finish "train and generate, end to end"
