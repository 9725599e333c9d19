// @ts-check
// Seeded mutations of safetensors files, for the model-file fuzzer
// (test/fuzz/model-fuzz.js). Portable: no Node APIs.
//
// Every mutant is made from its own generator, seeded by (seed, index), so
// mutant i of a run can be remade alone: mutantRng(seed, i).
//
// Byte-level operators know nothing of the format (bit flips, byte sets,
// truncation, extension, insertion, deletion, splices of two files); the
// structural ones parse the original file's header and change one thing in it
// (a dtype, a shape, data_offsets, a tensor name, a metadata value, a config
// field, the tokenizer) or lie about a size (the 8-byte header length), so that
// the mutant gets past the outer checks and exercises the inner ones.

/** A small, fast, seeded generator (splitmix32). */
export class Rng {
  /** @param {number} seed */
  constructor(seed) {
    this.s = seed >>> 0;
  }

  /** A uniform 32-bit unsigned integer. */
  u32() {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** A uniform float in [0, 1). */
  next() {
    return this.u32() / 2 ** 32;
  }

  /** A uniform integer in [0, n) (n ≥ 1). @param {number} n */
  int(n) {
    return Math.floor(this.next() * n);
  }

  /** A uniform integer in [lo, hi]. @param {number} lo @param {number} hi */
  range(lo, hi) {
    return lo + this.int(hi - lo + 1);
  }

  /** One element of a non-empty array. @template T @param {readonly T[]} a @returns {T} */
  pick(a) {
    return /** @type {T} */ (a[this.int(a.length)]);
  }

  /** True with probability p. @param {number} p */
  chance(p) {
    return this.next() < p;
  }
}

/** The generator of mutant `index` of the run seeded `seed`. @param {number} seed @param {number} index */
export function mutantRng(seed, index) {
  const r = new Rng((seed >>> 0) ^ Math.imul(index + 1, 0x9e3779b1));
  r.u32();
  return new Rng(r.u32() ^ index);
}

/**
 * A parsed safetensors file: the header object (in key order) and the data
 * section, plus where the data starts. Only for files that parse.
 * @typedef {{ header: Record<string, any>, data: Uint8Array, headerLength: number }} Parsed
 */

/** @param {Uint8Array} bytes @returns {Parsed} */
export function parseFile(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  return { header, data: bytes.slice(8 + headerLength), headerLength };
}

/**
 * A safetensors file from a header (object or JSON text) and data bytes.
 * `pad`: pad the header with spaces to a multiple of 8 (as writers do);
 * `length`: the value to write as the header length (default: the true one).
 * @param {unknown} header @param {Uint8Array} data @param {{ pad?: boolean, length?: number }} [options]
 */
export function buildFile(header, data, options = {}) {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const n = options.pad === false ? json.length : Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length);
  out.fill(0x20, 8, 8 + n);
  out.set(json, 8);
  out.set(data, 8 + n);
  writeU64(out, options.length ?? n);
  return out;
}

/** Writes `value` (up to 2^64 − 1, as a double) as the little-endian u64 at the start. @param {Uint8Array} bytes @param {number} value */
function writeU64(bytes, value) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = Math.min(0xffffffff, Math.floor(value / 2 ** 32));
  view.setUint32(0, value >= 2 ** 64 ? 0xffffffff : (value - high * 2 ** 32) >>> 0, true);
  view.setUint32(4, high, true);
}

// ---------------------------------------------------------------------------
// Interesting values.

const BYTES = [0x00, 0xff, 0x7f, 0x80, 0x20, 0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x39, 0x2d, 0x65, 0x2e,
  0xc0, 0xed, 0xf4, 0xfe];
/** Numbers a lying header might hold where a size or offset goes. */
const NUMBERS = [0, 1, -1, 2, 3, 4, 7, 8, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 4,
  2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e9, 1e15, 1e308, -(2 ** 31), 0.5, 1.5, 4.000001, -0];
/** JSON values that are not what a field wants. */
/** An array nested 50,000 deep, as JSON text (JSON.stringify of the value would overflow the stack). */
const DEEP = '['.repeat(50_000) + ']'.repeat(50_000);
const ODD_VALUES = [null, true, false, '', '3', 'F32', [], {}, [1], { a: 1 }, 'NaN', '1e9', -0.0, '\u0000', '\ud800'];
const DTYPES = ['F32', 'I32', 'F16', 'BF16', 'F64', 'I64', 'U8', 'I8', 'BOOL', 'f32', 'F32 ', 'F8_E4M3', ''];
const CONFIG_FIELDS = ['vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell', 'dropout', 'embeddingDropout',
  'outputDropout', 'tieWeights', 'seed', 'model', 'contextSize', 'directConnections', 'hiddenDropout'];
const CELLS = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu', 'LSTM', 'transformer', ''];
/** Float32 values written into tensor data: specials, huge, tiny. */
const FLOATS = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e30, 1e-45, -0, 0, 65504, 1e6, -1e6];
/** Strings to put where a token goes: empty, white space, control characters, lone surrogates, NUL, long. */
const TOKENS = ['', ' ', 'a b', '\n', '\t', '\u0000', '\ud800', '\udc00', '\ud83d\ude00', 'ab', '<unk>', '</s>', '\u200b',
  '\u0085', '\u2028', 'x'.repeat(1000), '\r'];

/** @param {Rng} rng @returns {unknown} */
function oddValue(rng) {
  return rng.chance(0.5) ? rng.pick(NUMBERS) : rng.pick(ODD_VALUES);
}

// ---------------------------------------------------------------------------
// Byte-level operators. Each returns the mutant and a short description.

/** @typedef {{ bytes: Uint8Array, op: string }} Mutant */
/** @typedef {(rng: Rng, file: Uint8Array, other: Uint8Array) => Mutant} Operator */

/** A byte position, biased towards the header (the first 8 + N bytes) where most checks live. @param {Rng} rng @param {Uint8Array} b */
function position(rng, b) {
  if (b.length === 0) return 0;
  const headerEnd = Math.min(b.length, 8 + storedLength(b));
  return rng.chance(0.6) ? rng.int(headerEnd) : rng.int(b.length);
}

/** The header length a file states (its low 32 bits; 0 when the file is too short to state one). @param {Uint8Array} b */
function storedLength(b) {
  return b.length < 8 ? 0 : new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
}

/** @type {Operator} */
function bitFlips(rng, file) {
  const b = file.slice();
  const n = rng.pick([1, 1, 1, 2, 4, 8, 32]);
  for (let i = 0; i < n; i++) {
    const p = position(rng, b);
    b[p] ^= 1 << rng.int(8);
  }
  return { bytes: b, op: `flip ${n} bit(s)` };
}

/** @type {Operator} */
function byteSets(rng, file) {
  const b = file.slice();
  const n = rng.pick([1, 1, 2, 3, 8]);
  for (let i = 0; i < n; i++) b[position(rng, b)] = rng.chance(0.7) ? rng.pick(BYTES) : rng.int(256);
  return { bytes: b, op: `set ${n} byte(s)` };
}

/** @type {Operator} */
function truncate(rng, file) {
  const n = rng.pick([0, 1, 7, 8, 9, position(rng, file), rng.int(file.length), file.length - 1, file.length - 4]);
  const at = Math.max(0, Math.min(file.length, n));
  return { bytes: file.slice(0, at), op: `truncate to ${at} bytes` };
}

/** @type {Operator} */
function extend(rng, file) {
  const n = rng.pick([1, 3, 4, 8, 64, 4096]);
  const b = new Uint8Array(file.length + n);
  b.set(file);
  const fill = rng.int(3);
  for (let i = file.length; i < b.length; i++) b[i] = fill === 0 ? 0 : fill === 1 ? 0x20 : rng.int(256);
  return { bytes: b, op: `extend by ${n} byte(s) (${['zeros', 'spaces', 'random'][fill]})` };
}

/** @type {Operator} */
function insertOrDelete(rng, file) {
  const at = position(rng, file);
  const n = rng.pick([1, 2, 4, 8, 16]);
  if (rng.chance(0.5)) {
    const b = new Uint8Array(file.length + n);
    b.set(file.subarray(0, at));
    for (let i = 0; i < n; i++) b[at + i] = rng.chance(0.5) ? rng.pick(BYTES) : rng.int(256);
    b.set(file.subarray(at), at + n);
    return { bytes: b, op: `insert ${n} byte(s) at ${at}` };
  }
  const k = Math.min(n, file.length - at);
  const b = new Uint8Array(file.length - k);
  b.set(file.subarray(0, at));
  b.set(file.subarray(at + k), at);
  return { bytes: b, op: `delete ${k} byte(s) at ${at}` };
}

/** @type {Operator} */
function splice(rng, file, other) {
  if (rng.chance(0.4)) {
    // One file's header with the other's data: every size may disagree.
    const a = parseFile(file), o = parseFile(other);
    return { bytes: buildFile(a.header, o.data), op: 'splice: header of one file, data of another' };
  }
  const cutA = rng.int(file.length + 1), cutB = rng.int(other.length + 1);
  const b = new Uint8Array(cutA + other.length - cutB);
  b.set(file.subarray(0, cutA));
  b.set(other.subarray(cutB), cutA);
  return { bytes: b, op: `splice: first ${cutA} bytes of one file + another from byte ${cutB}` };
}

/** @type {Operator} */
function sizeLie(rng, file) {
  const b = new Uint8Array(Math.max(8, file.length));
  b.set(file);
  const true_ = storedLength(file);
  const value = rng.pick([0, 1, 2, true_ - 1, true_ + 1, true_ + 8, b.length - 8, b.length - 7, b.length, 2 ** 32 + true_,
    2 ** 53, 2 ** 64 - 1, 100_000_000, 100_000_001, rng.int(2 ** 32), rng.u32() * 2 ** 32]);
  writeU64(b, Math.max(0, value));
  return { bytes: b, op: `header length set to ${value}` };
}

// ---------------------------------------------------------------------------
// Structural operators: parse, change one thing, rebuild.

/** @param {Rng} rng @param {Record<string, any>} header */
function tensorNames(rng, header) {
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  return { names, name: names.length ? rng.pick(names) : 'none' };
}

/** @type {Operator} */
function headerEdit(rng, file) {
  const { header, data } = parseFile(file);
  const { names, name } = tensorNames(rng, header);
  const entry = header[name];
  let op;
  switch (rng.int(12)) {
    case 0: entry.dtype = rng.chance(0.8) ? rng.pick(DTYPES) : oddValue(rng); op = `dtype of '${name}' → ${JSON.stringify(entry.dtype)}`; break;
    case 1: { // one dimension changed
      const d = entry.shape.length ? rng.int(entry.shape.length) : 0;
      entry.shape[d] = rng.chance(0.5) ? rng.pick(NUMBERS) : entry.shape[d] + rng.pick([-1, 1, 2]);
      op = `shape of '${name}' → ${JSON.stringify(entry.shape)}`; break;
    }
    case 2: { // a dimension added or removed, or the shape transposed, or replaced
      const k = rng.int(4);
      if (k === 0) entry.shape.push(rng.pick([1, 1, 2, 0]));
      else if (k === 1) entry.shape.pop();
      else if (k === 2) entry.shape.reverse();
      else entry.shape = oddValue(rng);
      op = `shape of '${name}' → ${JSON.stringify(entry.shape)}`; break;
    }
    case 3: { // one offset changed
      const i = rng.int(2);
      const o = entry.data_offsets;
      o[i] = rng.chance(0.5) ? rng.pick(NUMBERS) : o[i] + rng.pick([-4, -1, 1, 4, 8]);
      op = `data_offsets of '${name}' → ${JSON.stringify(o)}`; break;
    }
    case 4: { // offsets swapped between two tensors, or shifted together
      const other = header[rng.pick(names)];
      if (rng.chance(0.5)) [entry.data_offsets, other.data_offsets] = [other.data_offsets, entry.data_offsets];
      else entry.data_offsets = entry.data_offsets.map((/** @type {number} */ x) => x + 4);
      op = `data_offsets of '${name}' swapped or shifted`; break;
    }
    case 5: entry.data_offsets = rng.chance(0.5) ? oddValue(rng) : [...entry.data_offsets, 0]; op = `data_offsets of '${name}' → ${JSON.stringify(entry.data_offsets)}`; break;
    case 6: delete header[name]; op = `tensor '${name}' removed`; break;
    case 7: { // renamed
      const to = rng.pick(['encoder.weight', 'decoder.weight', 'decoder.bias', 'rnn.weight_ih_l1', 'rnn.weight_hh_l9', 'extra.x',
        'encoder.weight ', '', '__proto__', 'constructor', 'x'.repeat(5000), name + '\u0000']);
      const out = /** @type {Record<string, any>} */ ({});
      for (const [k, v] of Object.entries(header)) out[k === name ? to : k] = v;
      return { bytes: buildFile(out, data), op: `tensor '${name}' renamed to ${JSON.stringify(to.slice(0, 40))}` };
    }
    case 8: { // an entry added
      const n = rng.pick([0, 1, 3]);
      header[rng.pick(['extra.more', 'unexpected', 'rnn.bias_ih_l7', 'decoder.weight'])] =
        { dtype: 'F32', shape: [n], data_offsets: [data.length, data.length + 4 * n] };
      const grown = new Uint8Array(data.length + 4 * n);
      grown.set(data);
      return { bytes: buildFile(header, grown), op: `tensor added (${n} elements)` };
    }
    case 9: header[name] = oddValue(rng); op = `entry of '${name}' → ${JSON.stringify(header[name])}`; break;
    case 10: delete entry[rng.pick(['dtype', 'shape', 'data_offsets'])]; op = `a field of '${name}' removed`; break;
    default: { // the whole header replaced or made odd
      const k = rng.chance(0.9) ? rng.int(5) : rng.range(5, 7);
      const many = (/** @type {(i: number) => string} */ f) => Array.from({ length: 100_002 }, (_, i) => f(i)).join(',');
      const text = k === 0 ? JSON.stringify(oddValue(rng))
        : k === 1 ? '['.repeat(100_000) + ']'.repeat(100_000)
          : k === 2 ? JSON.stringify(header).replace(/"shape":\[[^\]]*\]/, `"shape":${DEEP}`)
            : k === 3 ? ` \n${JSON.stringify(header)}`
              : k === 4 ? JSON.stringify(header).replace(/^\{/, `{${JSON.stringify(name)}:${JSON.stringify(entry)},`) // duplicate key
                : k === 5 ? JSON.stringify(header).replace(/^\{/, `{"__metadata__":{${many((i) => `"k${i}":""`)}},`)
                  : k === 6 ? JSON.stringify(header).replace(/^\{/, `{${many((i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`)},`)
                    : JSON.stringify(header).replace(/"shape":\[[^\]]*\]/, `"shape":[${'1,'.repeat(100_000)}1]`);
      return {
        bytes: buildFile(text, data, { pad: rng.chance(0.5) }),
        op: `header text: ${['odd value', 'deep array', 'deep shape', 'leading white space', 'duplicate key',
          '100,002 metadata keys', '100,002 more tensors', 'a shape of 100,001 dimensions'][k]}`,
      };
    }
  }
  return { bytes: buildFile(header, data, { pad: rng.chance(0.8) }), op };
}

/** @type {Operator} */
function metadataEdit(rng, file) {
  const { header, data } = parseFile(file);
  const meta = header.__metadata__ ?? (header.__metadata__ = {});
  let op;
  const k = rng.int(10);
  if (k <= 3) { // a config field
    const config = JSON.parse(meta.config);
    const field = rng.pick(CONFIG_FIELDS);
    const v = rng.int(4);
    config[field] = v === 0 ? oddValue(rng)
      : v === 1 ? (field === 'cell' ? rng.pick(CELLS) : rng.pick([1e9, 2 ** 31 - 1, 2 ** 31, 0, -1, 100000, 1.5]))
        : v === 2 ? (typeof config[field] === 'number' ? config[field] + rng.pick([-1, 1, 2]) : !config[field])
          : undefined;
    if (rng.chance(0.1)) config.numLayers = rng.pick([1e6, 2 ** 31 - 1, 1e9, 100000]);
    meta.config = JSON.stringify(config);
    if (rng.chance(0.05)) meta.config = meta.config.replace(/\}$/, `,${JSON.stringify(field)}:${rng.chance(0.5) ? DEEP : `"${'x'.repeat(100_000)}"`}}`);
    op = `config.${field} → ${JSON.stringify(config[field])}`;
  } else if (k <= 6) { // the tokenizer
    const tok = JSON.parse(meta.tokenizer);
    // Word level writes its tokens as one string of words separated by spaces: mutate them as a list, then
    // write them back as a string (mostly) or as the list form older files have.
    const asString = typeof tok.vocab?.tokens === 'string';
    const tokens = asString ? tok.vocab.tokens.split(' ') : tok.vocab.tokens;
    const t = rng.chance(0.98) ? rng.int(9) : 9;
    if (t === 0) tokens.push(rng.pick(TOKENS));
    else if (t === 1) tokens.pop();
    else if (t === 2) tokens[rng.int(tokens.length)] = rng.pick(TOKENS);
    else if (t === 3) tokens[rng.int(tokens.length)] = oddValue(rng);
    else if (t === 4) tokens.push(tokens[rng.int(tokens.length)]);
    else if (t === 5) tok.vocab.unk = rng.chance(0.5) ? rng.pick(TOKENS) : oddValue(rng);
    else if (t === 6) tok.level = rng.chance(0.5) ? (tok.level === 'word' ? 'char' : 'word') : oddValue(rng);
    else if (t === 7) tok.lowercase = rng.chance(0.5) ? !tok.lowercase : oddValue(rng);
    else if (t === 8) tok[rng.pick(['vocab', 'level', 'lowercase'])] = undefined;
    else for (let i = 0; i < 200_000; i++) tokens.push(`w${i}`); // far more tokens than config.vocabSize
    if (asString && tok.vocab) tok.vocab.tokens = t !== 3 && rng.chance(0.8) ? tokens.join(' ') : tokens;
    meta.tokenizer = rng.chance(0.05) ? JSON.stringify(tok).slice(0, -1) : JSON.stringify(tok);
    op = `tokenizer: ${['token added', 'last token removed', 'a token replaced by a string', 'a token replaced by a non-string',
      'a token duplicated', 'unk changed', 'level changed', 'lowercase changed', 'a field removed', '200,000 tokens added'][t]}`;
  } else if (k === 7) {
    const key = rng.pick(['format', 'config', 'tokenizer', 'note']);
    meta[key] = rng.chance(0.5) ? oddValue(rng) : rng.pick(['mnemo-lm/2', 'mnemo-lm/1', '', '{}', '[]', 'null', '{"vocabSize":3}']);
    op = `metadata '${key}' → ${JSON.stringify(meta[key])}`;
  } else if (k === 8) {
    delete meta[rng.pick(['format', 'config', 'tokenizer'])];
    op = 'a metadata key removed';
  } else {
    header.__metadata__ = oddValue(rng);
    op = `__metadata__ → ${JSON.stringify(header.__metadata__)}`;
  }
  return { bytes: buildFile(header, data), op };
}

/** @type {Operator} */
function dataEdit(rng, file) {
  const { header, data, headerLength } = parseFile(file);
  const { name } = tensorNames(rng, header);
  const [begin, end] = header[name].data_offsets;
  const b = file.slice();
  const count = (end - begin) / 4;
  const n = rng.pick([1, 1, 2, count]);
  const view = new DataView(b.buffer);
  const value = rng.pick(FLOATS);
  for (let i = 0; i < n && count > 0; i++) view.setFloat32(8 + headerLength + begin + 4 * rng.int(count), value, true);
  void data;
  return { bytes: b, op: `${n} element(s) of '${name}' set to ${value}` };
}

/** The operators and their weights. @type {readonly [string, Operator, number][]} */
const OPERATORS = [
  ['bitFlips', bitFlips, 6], ['byteSets', byteSets, 4], ['truncate', truncate, 2], ['extend', extend, 1],
  ['insertOrDelete', insertOrDelete, 2], ['splice', splice, 2], ['sizeLie', sizeLie, 2],
  ['headerEdit', headerEdit, 5], ['metadataEdit', metadataEdit, 5], ['dataEdit', dataEdit, 3],
];
const TOTAL_WEIGHT = OPERATORS.reduce((s, [, , w]) => s + w, 0);

/**
 * Mutant from `file` (and `other`, for splices): one operator, or with
 * probability 0.15 two or three in a row (a byte-level one after a structural
 * one). Structural operators need a file that parses, so they run first.
 * @param {Rng} rng @param {Uint8Array} file @param {Uint8Array} other @returns {Mutant}
 */
export function mutate(rng, file, other) {
  const steps = rng.chance(0.15) ? rng.range(2, 3) : 1;
  let bytes = file;
  const ops = [];
  for (let s = 0; s < steps; s++) {
    let r = rng.int(TOTAL_WEIGHT);
    let chosen = /** @type {[string, Operator, number]} */ (OPERATORS[0]);
    for (const o of OPERATORS) {
      if (r < o[2]) { chosen = o; break; }
      r -= o[2];
    }
    // Structural operators parse their input: only the original qualifies.
    if (s > 0 && ['headerEdit', 'metadataEdit', 'dataEdit', 'splice'].includes(chosen[0])) chosen = /** @type {[string, Operator, number]} */ (OPERATORS[0]);
    const m = chosen[1](rng, bytes, other);
    bytes = m.bytes;
    ops.push(`${chosen[0]}: ${m.op}`);
  }
  return { bytes, op: ops.join('; then ') };
}
