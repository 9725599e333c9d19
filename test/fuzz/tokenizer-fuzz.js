// @ts-check
// The tokenizer fuzzer: seeded hostile text through WordTokenizer and
// CharTokenizer (fit, tokenize, encode, decode, toJSON → tokenizerFromJSON),
// plus malformed tokenizer JSON and bad arguments. Portable (no Node APIs):
// used by test/portable/fuzz-tokenizer.test.ts and `npm run fuzz`.
//
// The inputs: invalid UTF-8 decoded (with U+FFFD replacements), lone and
// swapped surrogates, NUL and other control characters, every kind of line
// break and white space, huge lines (up to 2 MB without a line break),
// empty input, literal '<unk>' and '</s>', and mixtures of these.
//
// Each case must either give results that satisfy the invariants below or
// throw a MnemoError (counted by class); anything else (a TypeError, a
// RangeError, a broken invariant) is a failure that names the seed and case.
//   - encode(text) equals tokenize(text) mapped through the vocabulary, and
//     every id is in [0, V);
//   - fitted without limits, nothing is unknown: decode(encode(text)) is the
//     text (char level) or its words joined by the rule (word level);
//   - the tokenizer rebuilt from its JSON text encodes the same ids.

import * as mnemo from 'mnemo';
import { mutantRng } from './mutate.js';

/** @typedef {import('./mutate.js').Rng} Rng */

const SPECIAL = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\v', '\f', '\r', '\r\n', '\u001b', '\u007f', '\u0085', '\u00a0',
  '\u2028', '\u2029', '\u200b', '\ufeff', '\ufffd', '\ud800', '\udbff', '\udc00', '\udfff', '\udc00\ud800', '\ud83d\ude00',
  'İ', 'ẞ', 'Σ', 'ﬁ', '<unk>', '</s>', ' ', '  ', 'a', 'the', 'Z', '0', '.', ','];

/** A random piece of hostile text. @param {Rng} rng @returns {string} */
function piece(rng) {
  switch (rng.int(8)) {
    case 0: return rng.pick(SPECIAL);
    case 1: { // random UTF-16 code units, surrogates included
      let s = '';
      for (let i = rng.int(12); i > 0; i--) s += String.fromCharCode(rng.chance(0.3) ? 0xd800 + rng.int(0x800) : rng.int(0x10000));
      return s;
    }
    case 2: { // random bytes decoded as UTF-8 (invalid sequences become U+FFFD)
      const b = new Uint8Array(rng.int(24));
      for (let i = 0; i < b.length; i++) b[i] = rng.chance(0.5) ? 0x80 + rng.int(0x80) : rng.int(0x80);
      return new TextDecoder().decode(b);
    }
    case 3: return String.fromCodePoint(rng.int(0x110000)); // any code point, a lone surrogate too
    case 4: return rng.pick(['the', 'cat', 'The', 'CAT', 'sat', 'on', 'mat', 'ünï', 'ΣΑΣ', '日本語', 'x'.repeat(rng.int(50))]);
    case 5: return rng.pick([' ', '\n', '\t', '\r\n', ' \n ', '\n\n\n']);
    default: return String.fromCharCode(0x20 + rng.int(0x5f));
  }
}

/** A random text: a few pieces; sometimes empty, long, or a huge line. @param {Rng} rng */
function text(rng) {
  const k = rng.int(50);
  if (k <= 2) return '';
  if (k === 3) return rng.pick(SPECIAL).repeat(rng.pick([1000, 10_000, 100_000]));
  if (k === 4 && rng.chance(0.25)) { // a huge line: one 1 MB word, or 100,000 words without a line break
    const word = piece(rng) || 'w';
    return rng.chance(0.5) ? word.repeat(Math.ceil(1_000_000 / word.length)) : `${word} `.repeat(100_000);
  }
  let s = '';
  for (let i = rng.int(60); i > 0; i--) s += piece(rng);
  return s;
}

/** Word level: tokenize()'s tokens joined as decode() joins them ('</s>' → '\n'). @param {string[]} tokens */
function expectedWordDecode(tokens) {
  const parts = [];
  let lineStart = true;
  for (const w of tokens) {
    if (w === mnemo.EOS_WORD) { parts.push('\n'); lineStart = true; } else { parts.push(lineStart ? w : ` ${w}`); lineStart = false; }
  }
  return parts.join('');
}

/**
 * @typedef {{ tried: number, ok: number, rejected: Record<string, number>, byCase: Record<string, number>,
 *   failures: { index: number, seed: number, what: string, error: string }[], seconds: number, slowestMs: number, longestInput: number }} TokenizerFuzzReport
 */

/**
 * Runs `inputs` cases seeded by `seed` (with `only`, just that case).
 * @param {{ inputs: number, seed: number, only?: number, maxFailures?: number, slowMs?: number }} options
 * @returns {TokenizerFuzzReport}
 */
export function runTokenizerFuzz(options) {
  const { inputs, seed, maxFailures = 20, slowMs = 10_000 } = options;
  /** @type {TokenizerFuzzReport} */
  const report = { tried: 0, ok: 0, rejected: {}, byCase: {}, failures: [], seconds: 0, slowestMs: 0, longestInput: 0 };
  const started = performance.now();
  const first = options.only ?? 0, last = options.only ?? inputs - 1;
  for (let index = first; index <= last && report.failures.length < maxFailures; index++) {
    // A stream of its own, apart from the model fuzzer's mutants of the same index.
    const rng = mutantRng(seed ^ 0x5bd1e995, index);
    const what = rng.pick(['word', 'word', 'char', 'char', 'json', 'arguments']);
    report.byCase[what] = (report.byCase[what] ?? 0) + 1;
    report.tried++;
    const t0 = performance.now();
    try {
      const problem = what === 'json' ? jsonCase(rng) : what === 'arguments' ? argumentCase(rng) : textCase(rng, what, report);
      if (problem) report.failures.push({ index, seed, what, error: problem });
      else report.ok++;
    } catch (e) {
      if (e instanceof mnemo.MnemoError) {
        report.rejected[e.name] = (report.rejected[e.name] ?? 0) + 1;
        if (e.message.length > 1000) report.failures.push({ index, seed, what, error: `error message of ${e.message.length} characters` });
      } else {
        report.failures.push({ index, seed, what, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) });
      }
    } finally {
      const ms = performance.now() - t0;
      report.slowestMs = Math.max(report.slowestMs, ms);
      if (ms > slowMs) report.failures.push({ index, seed, what, error: `took ${ms.toFixed(0)} ms (limit ${slowMs} ms)` });
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/**
 * Fits a tokenizer on hostile text and checks the invariants on it and on
 * another hostile text. Returns a description of a broken invariant, or undefined.
 * @param {Rng} rng @param {string} level @param {TokenizerFuzzReport} report
 */
function textCase(rng, level, report) {
  const train = text(rng), other = text(rng);
  report.longestInput = Math.max(report.longestInput, train.length, other.length);
  const lowercase = rng.chance(0.3);
  const limited = rng.chance(0.3);
  const minCount = limited ? rng.range(1, 3) : 1;
  /** @type {mnemo.Tokenizer} */
  const tok = level === 'word'
    ? mnemo.WordTokenizer.fit(train, { lowercase, minCount, ...(limited && rng.chance(0.5) ? { maxVocab: rng.range(2, 20) } : {}) })
    : mnemo.CharTokenizer.fit(train, { lowercase, minCount });
  const V = tok.vocab.size;
  for (const t of [train, other]) {
    const ids = tok.encode(t);
    const tokens = tok.tokenize(t);
    if (ids.length !== tokens.length) return `encode gave ${ids.length} ids but tokenize ${tokens.length} tokens`;
    for (let i = 0; i < ids.length; i++) {
      const id = /** @type {number} */ (ids[i]);
      if (!(id >= 0 && id < V)) return `encode: id ${id} out of [0, ${V})`;
      if (id !== tok.vocab.idOf(/** @type {string} */ (tokens[i]))) return `encode: id ${id} at ${i} is not the id of token ${JSON.stringify(tokens[i]?.slice(0, 20))}`;
    }
    const decoded = tok.decode(ids);
    if (typeof decoded !== 'string') return 'decode did not return a string';
    if (t === train && !limited) {
      // Nothing unknown: decoding gives the text back (char), or its words (word).
      const want = level === 'char' ? (lowercase ? t.toLowerCase() : t)
        : expectedWordDecode(tokens.map((w) => (w === mnemo.UNK ? mnemo.UNK : w)));
      if (decoded !== want) return `decode(encode(text)) differs from ${level === 'char' ? 'the text' : 'its words'} (length ${decoded.length} vs ${want.length})`;
    }
  }
  const again = mnemo.tokenizerFromJSON(JSON.stringify(tok.toJSON()));
  const a = tok.encode(other), b = again.encode(other);
  if (a.length !== b.length || a.some((v, i) => v !== b[i])) return 'the tokenizer rebuilt from its JSON encodes differently';
  // Random ids: decoding in-range ids works; an out-of-range or non-integer one is a TokenizerError.
  const ids = Array.from({ length: rng.int(8) }, () => rng.int(V));
  if (rng.chance(0.2)) ids.splice(rng.int(ids.length + 1), 0, rng.pick([-1, V, V + 1, 1.5, NaN, Infinity, 2 ** 31]));
  tok.decode(ids);
  return undefined;
}

/** Malformed tokenizer JSON: must be a valid tokenizer or a FileFormatError. @param {Rng} rng */
function jsonCase(rng) {
  const tokens = Array.from({ length: rng.int(6) }, () => (rng.chance(0.85) ? piece(rng) : rng.pick([null, 3, {}, [], true])));
  if (rng.chance(0.7)) tokens.push(rng.pick([mnemo.EOS_WORD, mnemo.EOS_CHAR]));
  if (rng.chance(0.6)) tokens.unshift(mnemo.UNK);
  /** @type {Record<string, unknown>} */
  const json = {
    level: rng.chance(0.9) ? rng.pick(['word', 'char']) : rng.pick(['Word', '', null, 1]),
    lowercase: rng.chance(0.9) ? rng.chance(0.5) : rng.pick(['false', 0, null]),
    vocab: rng.chance(0.9) ? { tokens, unk: rng.chance(0.8) ? rng.pick([mnemo.UNK, null, undefined]) : rng.pick(['x', 3, '</s>']) } : rng.pick([null, [], 'v']),
  };
  if (rng.chance(0.1)) delete json[rng.pick(['level', 'lowercase', 'vocab'])];
  const textForm = JSON.stringify(json);
  const input = rng.chance(0.5) ? textForm : rng.chance(0.1) ? textForm.slice(0, rng.int(textForm.length)) : json;
  try {
    const tok = mnemo.tokenizerFromJSON(input);
    tok.decode(tok.encode(text(rng)));
  } catch (e) {
    if (e instanceof mnemo.MnemoError && !(e instanceof mnemo.FileFormatError) && !(e instanceof mnemo.TokenizerError)) {
      return `tokenizerFromJSON threw ${e.name}, not a FileFormatError: ${e.message}`;
    }
    throw e;
  }
  return undefined;
}

/** Arguments of the wrong type or range: a TokenizerError (or success), never a TypeError. @param {Rng} rng */
function argumentCase(rng) {
  const odd = rng.pick([undefined, null, 3, {}, [], ['a'], new Uint8Array(3), Symbol('s'), true, 1n, 'text']);
  const tok = rng.chance(0.5) ? mnemo.WordTokenizer.fit('a b\nc\n') : mnemo.CharTokenizer.fit('abc\n');
  switch (rng.int(6)) {
    case 0: tok.encode(/** @type {any} */ (odd)); break;
    case 1: tok.decode(/** @type {any} */ (odd)); break;
    case 2: mnemo.WordTokenizer.fit(/** @type {any} */ (odd), /** @type {any} */ (rng.chance(0.5) ? { minCount: odd } : { maxVocab: odd })); break;
    case 3: mnemo.CharTokenizer.fit('abc', /** @type {any} */ ({ lowercase: odd })); break;
    case 4: mnemo.WordTokenizer.fromVocabulary(/** @type {any} */ (rng.chance(0.5) ? odd : ['</s>', odd])); break;
    default: new mnemo.Vocabulary(/** @type {any} */ (['a', 'b']), /** @type {any} */ (odd));
  }
  return undefined;
}

/** The report as a table of counts. @param {TokenizerFuzzReport} r */
export function formatTokenizerReport(r) {
  const lines = [`inputs tried: ${r.tried} in ${r.seconds.toFixed(1)} s (slowest ${r.slowestMs.toFixed(0)} ms, longest input ${r.longestInput.toLocaleString('en-US')} characters)`];
  lines.push(`  by case: ${Object.entries(r.byCase).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(`handled with valid results: ${r.ok}`);
  lines.push(`rejected with a named error: ${Object.values(r.rejected).reduce((a, b) => a + b, 0)}`);
  for (const [name, n] of Object.entries(r.rejected).sort((a, b) => b[1] - a[1])) lines.push(`  ${name.padEnd(24)} ${n}`);
  lines.push(`failures: ${r.failures.length}`);
  for (const f of r.failures) lines.push(`  seed ${f.seed} input ${f.index} (${f.what}): ${f.error.split('\n').slice(0, 4).join(' | ')}`);
  return lines.join('\n');
}
