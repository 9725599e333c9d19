// safetensors: the file format of mnemo's weights, the same files PyTorch and
// Hugging Face read. Layout:
//   u64 little-endian N | N bytes of UTF-8 JSON header | raw little-endian data
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]}
// (byte offsets into the data section) and may hold "__metadata__": {str: str}.
// Portable: TextEncoder/TextDecoder/DataView only, no Node APIs.
//
// The reader trusts nothing in the file: the header length is checked against
// the 100 MB limit and the file size before anything is decoded; the header
// must be a UTF-8 JSON object starting with '{', and one scan before JSON.parse
// refuses duplicate keys, more than 100,000 tensors or metadata keys, arrays of
// more than 64 items and deep nesting (what would make parsing slow); every
// dtype is on the whitelist, every shape a list of safe non-negative integers
// whose byte size equals its data_offsets; and, as the format requires, the
// tensors cover the data section exactly: in order, without overlap, without
// holes, up to the last byte. The largest allocation is therefore a copy of
// the file's own bytes. Errors are HeaderError or TensorLayoutError (both
// FileFormatError), with messages that name the field and keep quoted values short.

import { FileFormatError, HeaderError, ShapeError, TensorLayoutError } from '../errors.js';

/** The element types mnemo reads and writes. */
export type SafetensorsDType = 'F32' | 'I32';

/** One tensor of a safetensors file. `data` is a fresh array, never a view of the file's bytes. */
export interface SafetensorsTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** What readSafetensors returns: tensors in header order, and the `__metadata__` strings. */
export interface SafetensorsFile {
  tensors: Map<string, SafetensorsTensor>;
  metadata: Record<string, string>;
}

/** A tensor to write: the data's length must equal the product of the shape. */
export interface SafetensorsTensorInput {
  dtype: SafetensorsDType;
  shape: readonly number[];
  data: Float32Array | Int32Array;
}

/** Header size limit, as in the reference implementation (guards against absurd allocations). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Most tensors (and most `__metadata__` keys) a header may list: past this, parsing it costs seconds. */
export const MAX_TENSORS = 100_000;

/**
 * What a header's JSON may hold: an object of tensor entries (objects) and
 * `__metadata__` (an object of strings); arrays are shapes and data_offsets.
 * (Depth 4 lets a shape like [[2]] reach the entry's own, clearer check.)
 */
const HEADER_LIMITS = { maxDepth: 4, maxKeys: MAX_TENSORS + 1, maxItems: 64 };

const METADATA_KEY = '__metadata__';
const BYTES_PER_ELEMENT = 4; // F32 and I32
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Parses a safetensors file. Throws a FileFormatError naming the field that is
 * wrong: HeaderError (length, UTF-8, JSON, keys, `__metadata__`) or
 * TensorLayoutError (a tensor's dtype, shape or data_offsets, overlaps, holes).
 */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  const layout = readSafetensorsLayout(bytes);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, t] of layout.tensors) tensors.set(name, copyTensor(t));
  return { tensors, metadata: layout.metadata };
}

/** A tensor of a checked file, not yet copied: `bytes` is a view of the file's little-endian data. */
export interface SafetensorsTensorLayout {
  dtype: SafetensorsDType;
  shape: number[];
  bytes: Uint8Array;
}

/**
 * The checks of readSafetensors without the copies: each tensor's bytes stay a
 * view into `bytes`. For a reader that copies them once, straight to their place
 * (loadModel copies them into wasm memory, which is little-endian on every host).
 */
export function readSafetensorsLayout(bytes: Uint8Array): { tensors: Map<string, SafetensorsTensorLayout>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array)) {
    throw new FileFormatError(`safetensors: expected the file's bytes as a Uint8Array, got ${describe(bytes)}`);
  }
  if (bytes.length < 8) {
    throw new HeaderError(`safetensors: the file is ${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthLow = view.getUint32(0, true);
  const lengthHigh = view.getUint32(4, true);
  const headerLength = lengthHigh * 2 ** 32 + lengthLow;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new HeaderError(`safetensors: header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (headerLength > bytes.length - 8) {
    throw new HeaderError(
      `safetensors: header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new HeaderError('safetensors: the header is not valid UTF-8');
  }
  const problem = scanJson(text, HEADER_LIMITS, { key: 'tensor name', inside: 'in the header entry of', outside: 'in the header' });
  if (problem) throw new HeaderError(`safetensors: ${problem}`);
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new HeaderError(`safetensors: the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) throw new HeaderError('safetensors: the header is not a JSON object');
  if (text.charCodeAt(0) !== 0x7b /* { */) {
    throw new HeaderError(`safetensors: the header must start with '{', it starts with ${brief(text.slice(0, 16))}`);
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = readMetadata(header[METADATA_KEY]);
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    entries.push({ name, ...readEntry(name, entry, dataLength) });
  }

  // The tensors tile the data section: sorted by offsets, each begins where the
  // previous one ended, from 0 to the end. No overlap (two names for the same
  // bytes) and no holes (room for a polyglot file). Empty tensors occupy no bytes:
  // their offsets need only lie inside the data.
  const ranges = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  let covered = 0;
  let previous: (typeof entries)[number] | undefined;
  for (const r of ranges) {
    if (r.begin < covered) {
      throw new TensorLayoutError(`safetensors: tensors ${quote(previous!.name)} (data_offsets [${previous!.begin}, ${previous!.end}]) and `
        + `${quote(r.name)} (data_offsets [${r.begin}, ${r.end}]) overlap`);
    }
    if (r.begin > covered) {
      throw new TensorLayoutError(`safetensors: bytes [${covered}, ${r.begin}) of the data belong to no tensor (a hole before `
        + `tensor ${quote(r.name)}); the format requires the tensors to cover the data without gaps`);
    }
    covered = r.end;
    previous = r;
  }
  if (covered !== dataLength) {
    throw new TensorLayoutError(`safetensors: the tensors cover ${covered} bytes of data but the file holds ${dataLength} `
      + `after the header: ${dataLength - covered} trailing bytes belong to no tensor`);
  }

  const tensors = new Map<string, SafetensorsTensorLayout>();
  for (const { name, dtype, shape, begin, end } of entries) {
    tensors.set(name, { dtype, shape, bytes: bytes.subarray(dataStart + begin, dataStart + end) });
  }
  return { tensors, metadata };
}

/** A tensor's data copied out of the file, into a fresh, 4-byte-aligned array in the host's byte order. */
export function copyTensor({ dtype, shape, bytes }: SafetensorsTensorLayout): SafetensorsTensor {
  // Not bytes.slice(): on a Node Buffer, slice() is a view that shares the file's memory.
  const raw = new Uint8Array(bytes.length);
  raw.set(bytes);
  if (!LITTLE_ENDIAN) swapBytes4(raw);
  const count = bytes.length / BYTES_PER_ELEMENT;
  const data = dtype === 'F32' ? new Float32Array(raw.buffer, 0, count) : new Int32Array(raw.buffer, 0, count);
  return { dtype, shape, data };
}

/**
 * Encodes tensors (in iteration order) and optional string metadata as a safetensors file.
 * The header is padded with spaces so that the data starts 8-byte aligned.
 */
export function writeSafetensors(
  tensors: Iterable<[string, SafetensorsTensorInput]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const parts: string[] = [];
  const metaEntries = Object.entries(metadata);
  if (metaEntries.length > 0) {
    for (const [key, value] of metaEntries) {
      if (typeof value !== 'string') {
        throw new FileFormatError(`safetensors: metadata value '${key}' is ${describe(value)}, not a string`);
      }
    }
    parts.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(Object.fromEntries(metaEntries))}`);
  }

  const names = new Set<string>();
  const list: SafetensorsTensorInput[] = [];
  let offset = 0;
  for (const [name, tensor] of tensors) {
    if (name === METADATA_KEY) throw new FileFormatError(`safetensors: '${METADATA_KEY}' cannot be a tensor name`);
    if (names.has(name)) throw new FileFormatError(`safetensors: duplicate tensor name '${name}'`);
    names.add(name);
    const { dtype, shape, data } = tensor;
    if (dtype !== 'F32' && dtype !== 'I32') {
      throw new FileFormatError(`safetensors: tensor '${name}' has dtype '${String(dtype)}'; only F32 and I32 are supported`);
    }
    const expected = dtype === 'F32' ? Float32Array : Int32Array;
    if (!(data instanceof expected)) {
      throw new FileFormatError(`safetensors: tensor '${name}' has dtype ${dtype} but its data is not a ${expected.name}`);
    }
    const count = shapeCount(shape);
    if (count === undefined || count !== data.length) {
      throw new ShapeError(`safetensors: tensor '${name}' has shape [${shape.join(', ')}] but ${data.length} elements`);
    }
    const size = data.length * BYTES_PER_ELEMENT;
    const entry = { dtype, shape: [...shape], data_offsets: [offset, offset + size] };
    parts.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    list.push(tensor);
    offset += size;
  }

  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength); // spaces: still valid JSON
  let position = 8 + headerLength;
  for (const { data } of list) {
    const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    out.set(raw, position);
    if (!LITTLE_ENDIAN) swapBytes4(out.subarray(position, position + raw.length));
    position += raw.length;
  }
  return out;
}

/** Validates one header entry against the data section; returns its dtype, shape and byte range. */
function readEntry(name: string, entry: unknown, dataLength: number):
    { dtype: SafetensorsDType; shape: number[]; begin: number; end: number } {
  const where = `safetensors: tensor ${quote(name)}`;
  if (!isObject(entry)) throw new TensorLayoutError(`${where}: the header entry is not an object (${describe(entry)})`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') throw new TensorLayoutError(`${where}: dtype is missing or not a string (${brief(dtype)})`);
  if (dtype !== 'F32' && dtype !== 'I32') {
    throw new TensorLayoutError(`${where} has dtype ${quote(dtype)}; only F32 and I32 are supported`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new TensorLayoutError(`${where}: shape ${brief(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new TensorLayoutError(`${where}: data_offsets ${brief(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw new TensorLayoutError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    throw new TensorLayoutError(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`);
  }
  const count = shapeCount(shape as number[]);
  if (count === undefined || count * BYTES_PER_ELEMENT !== end - begin) {
    throw new TensorLayoutError(`${where}: shape ${brief(shape)} of ${dtype} needs `
      + `${count === undefined ? 'too many' : count * BYTES_PER_ELEMENT} bytes, but data_offsets [${begin}, ${end}] `
      + `hold ${end - begin}`);
  }
  return { dtype, shape: [...shape] as number[], begin, end };
}

/** `__metadata__` must be an object of strings; absent means empty. */
function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new HeaderError(`safetensors: '${METADATA_KEY}' is ${describe(value)}, not an object`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new HeaderError(`safetensors: metadata value ${quote(key)} is ${describe(v)}, not a string`);
    }
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

/** Limits for scanJson: how deep values nest, how many keys an object and how many items an array may have. */
export interface JsonLimits {
  maxDepth: number;
  maxKeys: number;
  maxItems: number;
}

/**
 * One linear pass over JSON text, meant to run before JSON.parse (which keeps the
 * last of duplicate keys silently, and takes seconds and gigabytes on a 100 MB
 * header of millions of keys). Describes the first duplicate key in an object,
 * object with more than `maxKeys` keys, array with more than `maxItems` items,
 * or value nested deeper than `maxDepth`; undefined if there is none. Text that
 * is not valid JSON is left for JSON.parse to report. In messages, `words.key`
 * names a top-level key ('tensor name'), `words.inside` introduces the
 * top-level key whose value holds the problem ('in the header entry of'), and
 * `words.outside` ends a message about the top level ('in the header').
 */
export function scanJson(text: string, limits: JsonLimits,
  words = { key: 'key', inside: 'in the value of', outside: 'in the object' }): string | undefined {
  // One level per open object (its keys) or array (keys null), with the items or keys counted.
  const stack: { keys: Set<string> | null; count: number }[] = [];
  let top = ''; // the current top-level key: where a message says the problem is
  const where = () => (stack.length <= 1 ? ` ${words.outside}` : ` ${words.inside} ${quote(top)}`);
  const n = text.length;
  let backslash = text.indexOf('\\'); // the next backslash at or after i (n if none): strings without one end at the next quote
  if (backslash < 0) backslash = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // The string's end, found with indexOf (native speed: this runs on every cold start, over
      // a header whose metadata holds the tokenizer's JSON, quotes escaped): the next quote
      // that no backslash escapes.
      let j = i + 1, escaped = false;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q < 0) return undefined; // unterminated string: JSON.parse says so
        if (backslash < j) { backslash = text.indexOf('\\', j); if (backslash < 0) backslash = n; }
        if (backslash > q) { j = q; break; }
        escaped = true;
        j = backslash + 2; // past the backslash and the character it escapes
      }
      let k = j + 1;
      while (k < n && isJsonSpace(text.charCodeAt(k))) k++;
      const level = stack[stack.length - 1];
      if (level?.keys && text.charCodeAt(k) === 0x3a /* : */) {
        let key = text.slice(i + 1, j);
        if (escaped) {
          try { key = JSON.parse(text.slice(i, j + 1)) as string; } catch { return undefined; }
        }
        if (level.keys.has(key)) {
          return stack.length === 1 ? `duplicate ${words.key} ${quote(key)}${where()}` : `duplicate key ${quote(key)}${where()}`;
        }
        if (++level.count > limits.maxKeys) {
          return stack.length === 1 ? `more than ${limits.maxKeys} ${words.key}s${where()}` : `more than ${limits.maxKeys} keys${where()}`;
        }
        level.keys.add(key);
        if (stack.length === 1) top = key;
      }
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= limits.maxDepth) return `values nested more than ${limits.maxDepth} levels deep${where()}`;
      stack.push({ keys: c === 0x7b ? new Set() : null, count: 0 });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (stack.pop() === undefined) return undefined;
    } else if (c === 0x2c /* , */) {
      const level = stack[stack.length - 1];
      if (level && !level.keys && ++level.count >= limits.maxItems) return `an array of more than ${limits.maxItems} items${where()}`;
    }
  }
  return undefined;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Product of the dimensions; undefined when a dimension is invalid or the product is not a safe integer. */
function shapeCount(shape: readonly number[]): number | undefined {
  let count = 1;
  for (const d of shape) {
    if (!isCount(d)) return undefined;
    count *= d;
  }
  return Number.isSafeInteger(count) ? count : undefined;
}

/** A name for a message: quoted, and cut to 80 characters so that a hostile name cannot make a huge message. */
function quote(name: string): string {
  return `'${name.length > 80 ? `${name.slice(0, 80)}…` : name}'`;
}

/**
 * A JSON value for a message, at most about 80 characters. Walks at most a few
 * levels and elements, so a deeply nested or huge value (which JSON.stringify
 * would overflow the stack on, or copy whole) costs nothing.
 */
function brief(value: unknown, depth = 0): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'undefined';
  if (depth >= 2) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, 6).map((v) => brief(v, depth + 1));
    if (value.length > 6) items.push(`… (${value.length} items)`);
    return `[${items.join(', ')}]`;
  }
  const keys = Object.keys(value as object);
  const items = keys.slice(0, 3).map((k) => `${JSON.stringify(k.slice(0, 20))}: ${brief((value as Record<string, unknown>)[k], depth + 1)}`);
  if (keys.length > 3) items.push('…');
  return `{${items.join(', ')}}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' || typeof value === 'undefined' ? `an ${typeof value}` : `a ${typeof value}`;
}

/** Reverses every 4-byte group in place (little-endian file <-> big-endian host). */
function swapBytes4(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const b0 = b[i]!;
    const b1 = b[i + 1]!;
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = b1;
    b[i + 3] = b0;
  }
}
