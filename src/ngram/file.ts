// n-gram model files: safetensors (src/io/safetensors.ts), the family of
// mnemo's model files. Portable: bytes in, bytes out.
//
//   __metadata__  format: 'mnemo-ngram/1'
//                 config: JSON of NgramConfig (order, smoothing and its parameters)
//                 tokenizer: JSON of the tokenizer (TokenizerJSON)
//   tensors (I32, 1-D), N = config.order, V = the vocabulary size:
//     counts.1             (V + 1)        unigram counts by id; the last is `<s>` (0)
//     words.n, counts.n    (size_n)       n = 2..N: last word and count of each n-gram
//     first.n              (size_n + 1)   n = 1..N−1: the children of entry i of order n
//                                         are entries first.n[i] .. first.n[i+1]−1 of order n+1
// (the trie of trie.ts: size_1 = V + 1; within a parent, words strictly increase).
// Smoothing tables are not stored: they are computed from the counts on load.

import { FileFormatError } from '../errors.js';
import { readSafetensors, writeSafetensors, type SafetensorsTensor, type SafetensorsTensorInput } from '../io/safetensors.js';
import { tokenizerFromJSON, type Tokenizer } from '../lm/tokenizer.js';
import type { NgramConfig } from './model.js';
import { NgramTrie } from './trie.js';

/** The value of `__metadata__.format` this version writes and reads. */
export const NGRAM_FORMAT = 'mnemo-ngram/1';

/** Encodes a counted trie, its tokenizer and config (see the file comment). */
export function writeNgramFile(trie: NgramTrie, tokenizer: Tokenizer, config: NgramConfig): Uint8Array {
  const N = trie.order, counts = trie.counts!;
  const tensors: [string, SafetensorsTensorInput][] = [];
  const add = (name: string, data: Int32Array) => tensors.push([name, { dtype: 'I32', shape: [data.length], data }]);
  add('counts.1', counts[1]!);
  for (let n = 2; n <= N; n++) {
    add(`words.${n}`, trie.words[n]!);
    add(`counts.${n}`, counts[n]!);
  }
  for (let n = 1; n < N; n++) add(`first.${n}`, trie.first[n]!);
  return writeSafetensors(tensors, {
    format: NGRAM_FORMAT,
    config: JSON.stringify(config),
    tokenizer: JSON.stringify(tokenizer.toJSON()),
  });
}

/**
 * Reads a file of writeNgramFile and validates it whole before anything uses
 * it: the format, the tokenizer, every tensor's presence, dtype and length,
 * the child ranges (from 0, non-decreasing, ending at the next order's size),
 * words in [0, V) and strictly increasing within a parent, counts ≥ 1
 * (unigrams ≥ 0, `<s>` 0), and every n-gram's suffix stored. The config is
 * returned as stored (the caller validates it). Throws FileFormatError.
 */
export function readNgramFile(bytes: Uint8Array): { trie: NgramTrie; tokenizer: Tokenizer; config: NgramConfig } {
  const file = readSafetensors(bytes);
  const { metadata } = file;
  const where = 'ngram model file';
  if (metadata.format !== NGRAM_FORMAT) {
    throw new FileFormatError(metadata.format === undefined
      ? `${where}: __metadata__.format is missing (not a mnemo n-gram model file?); expected '${NGRAM_FORMAT}'`
      : `${where}: __metadata__.format is '${metadata.format.slice(0, 40)}', this version reads '${NGRAM_FORMAT}'`);
  }
  let config: NgramConfig;
  try {
    config = JSON.parse(metadata.config ?? '') as NgramConfig;
  } catch {
    throw new FileFormatError(`${where}: __metadata__.config is missing or not JSON`);
  }
  if (typeof config !== 'object' || config === null) throw new FileFormatError(`${where}: __metadata__.config is not an object`);
  const N = config.order;
  if (typeof N !== 'number' || !Number.isInteger(N) || N < 1 || N > 64) {
    throw new FileFormatError(`${where}: config.order must be an integer in [1, 64], got ${JSON.stringify(N)}`);
  }
  if (metadata.tokenizer === undefined) throw new FileFormatError(`${where}: __metadata__.tokenizer is missing`);
  let tokenizer: Tokenizer;
  try {
    tokenizer = tokenizerFromJSON(metadata.tokenizer);
  } catch (e) {
    throw new FileFormatError(`${where}: __metadata__.tokenizer is invalid: ${(e as Error).message}`);
  }
  const V = tokenizer.vocab.size;

  const expected = new Set<string>(['counts.1']);
  for (let n = 2; n <= N; n++) { expected.add(`words.${n}`); expected.add(`counts.${n}`); }
  for (let n = 1; n < N; n++) expected.add(`first.${n}`);
  for (const name of file.tensors.keys()) {
    if (!expected.has(name)) throw new FileFormatError(`${where}: unexpected tensor '${name.slice(0, 40)}' for an order-${N} model`);
  }
  const get = (name: string, length?: number): Int32Array => {
    const t: SafetensorsTensor | undefined = file.tensors.get(name);
    if (!t) throw new FileFormatError(`${where}: tensor '${name}' is missing`);
    if (t.dtype !== 'I32' || t.shape.length !== 1) {
      throw new FileFormatError(`${where}: tensor '${name}' must be a 1-D I32 tensor, got ${t.dtype} of shape [${t.shape.join(', ')}]`);
    }
    if (length !== undefined && t.data.length !== length) {
      throw new FileFormatError(`${where}: tensor '${name}' has ${t.data.length} elements, expected ${length}`);
    }
    return t.data as Int32Array;
  };

  const counts: Int32Array[] = [new Int32Array(0), get('counts.1', V + 1)];
  const c1 = counts[1]!;
  for (let w = 0; w < V; w++) if (c1[w]! < 0) throw new FileFormatError(`${where}: counts.1[${w}] is negative (${c1[w]})`);
  if (c1[V] !== 0) throw new FileFormatError(`${where}: counts.1[${V}] (the count of <s>) must be 0, got ${c1[V]}`);
  const words: Int32Array[] = [new Int32Array(0), new Int32Array(0)];
  const first: Int32Array[] = [new Int32Array(0)];
  let parents = V + 1;
  for (let n = 2; n <= N; n++) {
    const w = get(`words.${n}`);
    const size = w.length;
    const c = get(`counts.${n}`, size);
    const f = get(`first.${n - 1}`, parents + 1);
    if (f[0] !== 0 || f[parents] !== size) {
      throw new FileFormatError(`${where}: first.${n - 1} must run from 0 to ${size} (the size of order ${n}), got ${f[0]} … ${f[parents]}`);
    }
    for (let p = 0; p < parents; p++) {
      const lo = f[p]!, hi = f[p + 1]!;
      if (hi < lo) throw new FileFormatError(`${where}: first.${n - 1}[${p + 1}] = ${hi} is less than first.${n - 1}[${p}] = ${lo}`);
      for (let e = lo; e < hi; e++) {
        const x = w[e]!;
        if (x < 0 || x >= V) throw new FileFormatError(`${where}: words.${n}[${e}] = ${x} is not a word id in [0, ${V})`);
        if (e > lo && x <= w[e - 1]!) throw new FileFormatError(`${where}: words.${n}[${e}] = ${x} does not increase within its parent (n-grams must be sorted and unique)`);
        if (c[e]! < 1) throw new FileFormatError(`${where}: counts.${n}[${e}] = ${c[e]} must be at least 1`);
      }
    }
    words.push(w);
    counts.push(c);
    first.push(f);
    parents = size;
  }
  const trie = new NgramTrie(N, V, words, first, counts);
  trie.suffixLinks(); // throws FileFormatError if an n-gram's suffix is missing
  return { trie, tokenizer, config };
}
