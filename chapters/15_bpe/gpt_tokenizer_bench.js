// chapters/15_bpe/gpt_tokenizer_bench.js — gpt-tokenizer (GPT-2's r50k_base) encoding a file.
//
//   node chapters/15_bpe/gpt_tokenizer_bench.js AUSTEN_TXT [--runs N] [--expect TOKENS]
//
// versus_gpt_tokenizer.py runs this beside bpe_bench; by hand it needs
// tools/setup.sh's third_party/npm/node_modules. Prints one JSON object.
// The same three timings as bpe_bench's BM_Gpt2AustenFirstRun, BM_Gpt2Austen
// and BM_Gpt2AustenWarm:
//   first_ms  the process's first encode, after loading the vocabulary
//             (require, timed apart as load_ms): JIT and merge cache cold;
//   cold_ms   N encodes, each after clearMergeCache(): the JIT warm, the
//             cache empty (ours: a fresh BpeEncoder each time);
//   warm_ms   N encodes after one untimed warm-up, the cache kept (ours: one
//             BpeEncoder, used on the text before).
// Times are wall-clock (process.hrtime; cpu_ms: process.cpuUsage, all of the
// process's threads), the ids are checked every run: the
// same count and FNV-1a checksum each time (and --expect's count, if given).
"use strict";
const fs = require("fs");
const path = require("path");

function usage(message) {
  if (message) console.error(`gpt_tokenizer_bench: ${message}`);
  console.error("usage: node gpt_tokenizer_bench.js TEXT_FILE [--runs N] [--expect TOKENS]");
  process.exit(2);
}

const args = process.argv.slice(2);
let file = null, runs = 5, expect = null;
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--runs") runs = Number(args[++i]);
  else if (args[i] === "--expect") expect = Number(args[++i]);
  else if (args[i].startsWith("--")) usage(`unknown flag ${args[i]}`);
  else if (file === null) file = args[i];
  else usage("one text file only");
}
if (file === null) usage("no text file");
if (!(Number.isInteger(runs) && runs >= 1)) usage("--runs needs a whole number >= 1");

// The package as tests/bpe/make_bpe_references.js loads it: this file's
// directory is chapters/15_bpe/ in the workspace and in Bazel's runfiles alike.
const npm = path.join(__dirname, "..", "..", "third_party", "npm", "node_modules");
const packageJson = JSON.parse(
    fs.readFileSync(path.join(npm, "gpt-tokenizer", "package.json"), "utf8"));

const text = fs.readFileSync(file, "utf8");
const bytes = Buffer.byteLength(text, "utf8");
const options = { disallowedSpecial: new Set() };  // <|endoftext|> as ordinary text, as ours

function fnv1a(ids) {  // over the ids' little-endian bytes, as the reference file
  let h = 0x811c9dc5;
  for (const id of ids) {
    for (let k = 0; k < 4; ++k) {
      h ^= (id >>> (8 * k)) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

function ms(start) { return Number(process.hrtime.bigint() - start) / 1e6; }

let loadStart = process.hrtime.bigint();
const gpt2 = require(path.join(npm, "gpt-tokenizer", "cjs", "encoding", "r50k_base"));
const loadMs = ms(loadStart);

let tokens = null, checksum = null;
function check(ids, what) {
  const sum = fnv1a(ids);
  if (tokens === null) {
    tokens = ids.length;
    checksum = sum;
  } else if (ids.length !== tokens || sum !== checksum) {
    console.error(`gpt_tokenizer_bench: ${what} gave ${ids.length} tokens (checksum ${sum}), ` +
                  `the first run ${tokens} (checksum ${checksum})`);
    process.exit(1);
  }
  if (expect !== null && ids.length !== expect) {
    console.error(`gpt_tokenizer_bench: ${what} gave ${ids.length} tokens, expected ${expect}`);
    process.exit(1);
  }
}

// Wall-clock ms, and the CPU ms of the whole process (its GC and compiler threads too).
const cpuMs = [];
function timed(what, record = true) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const ids = gpt2.encode(text, options);
  const took = ms(start);
  const used = process.cpuUsage(cpu);
  if (record) cpuMs.push((used.user + used.system) / 1e3);
  check(ids, what);
  return took;
}

const firstMs = timed("the first run");
const coldMs = [];
for (let r = 0; r < runs; ++r) {
  gpt2.clearMergeCache();
  coldMs.push(timed(`cold run ${r + 1}`));
}
gpt2.clearMergeCache();
timed("the warm-up", false);
const warmMs = [];
for (let r = 0; r < runs; ++r) warmMs.push(timed(`warm run ${r + 1}`));

console.log(JSON.stringify({
  encoder: `gpt-tokenizer ${packageJson.version} (r50k_base)`,
  node: process.version,
  v8: process.versions.v8,
  file: path.basename(file),
  bytes,
  tokens,
  fnv1a_of_ids: checksum,
  load_ms: loadMs,
  first_ms: firstMs,
  cold_ms: coldMs,
  warm_ms: warmMs,
  cpu_ms: { first: cpuMs[0], cold: cpuMs.slice(1, 1 + runs), warm: cpuMs.slice(1 + runs) },
}));
