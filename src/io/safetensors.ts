// safetensors: the file format of mnemo's weights, the same files PyTorch and
// Hugging Face read. Layout:
//   u64 little-endian N | N bytes of UTF-8 JSON header | raw little-endian data
// The header maps each tensor name to {dtype, shape, data_offsets: [begin, end]}
// (byte offsets into the data section) and may hold "__metadata__": {str: str}.
// Portable: TextEncoder/TextDecoder/DataView only, no Node APIs.

import { FileFormatError, ShapeError } from '../errors.js';

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

const METADATA_KEY = '__metadata__';
const BYTES_PER_ELEMENT = 4; // F32 and I32
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses a safetensors file. Throws FileFormatError naming the field that is wrong. */
export function readSafetensors(bytes: Uint8Array): SafetensorsFile {
  if (bytes.length < 8) {
    throw new FileFormatError(`safetensors: the file is ${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthLow = view.getUint32(0, true);
  const lengthHigh = view.getUint32(4, true);
  const headerLength = lengthHigh * 2 ** 32 + lengthLow;
  if (headerLength > MAX_HEADER_BYTES) {
    throw new FileFormatError(`safetensors: header length ${headerLength} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (headerLength > bytes.length - 8) {
    throw new FileFormatError(
      `safetensors: header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new FileFormatError('safetensors: the header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(`safetensors: the header is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(header)) throw new FileFormatError('safetensors: the header is not a JSON object');
  const duplicate = findDuplicateKey(text);
  if (duplicate) throw new FileFormatError(`safetensors: ${duplicate}`);

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata = readMetadata(header[METADATA_KEY]);
  const entries: { name: string; dtype: SafetensorsDType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    entries.push({ name, ...readEntry(name, entry, dataLength) });
  }

  // No two tensors may share bytes (empty tensors occupy none).
  const ranges = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < ranges.length; i++) {
    const a = ranges[i - 1]!;
    const b = ranges[i]!;
    if (b.begin < a.end) {
      throw new FileFormatError(`safetensors: tensors '${a.name}' (data_offsets [${a.begin}, ${a.end}]) and `
        + `'${b.name}' (data_offsets [${b.begin}, ${b.end}]) overlap`);
    }
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const { name, dtype, shape, begin, end } of entries) {
    // slice() copies into a fresh, 4-byte-aligned buffer whatever the source alignment.
    const raw = bytes.slice(dataStart + begin, dataStart + end);
    if (!LITTLE_ENDIAN) swapBytes4(raw);
    const count = (end - begin) / BYTES_PER_ELEMENT;
    const data = dtype === 'F32' ? new Float32Array(raw.buffer, 0, count) : new Int32Array(raw.buffer, 0, count);
    tensors.set(name, { dtype, shape, data });
  }
  return { tensors, metadata };
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
  const where = `safetensors: tensor '${name}'`;
  if (!isObject(entry)) throw new FileFormatError(`${where}: the header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== 'string') throw new FileFormatError(`${where}: dtype is missing or not a string`);
  if (dtype !== 'F32' && dtype !== 'I32') {
    throw new FileFormatError(`${where} has dtype '${dtype}'; only F32 and I32 are supported`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new FileFormatError(`${where}: shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new FileFormatError(`${where}: data_offsets ${JSON.stringify(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw new FileFormatError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    throw new FileFormatError(`${where}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`);
  }
  const count = shapeCount(shape as number[]);
  if (count === undefined || count * BYTES_PER_ELEMENT !== end - begin) {
    throw new FileFormatError(`${where}: shape [${shape.join(', ')}] of ${dtype} needs `
      + `${count === undefined ? 'too many' : count * BYTES_PER_ELEMENT} bytes, but data_offsets [${begin}, ${end}] `
      + `hold ${end - begin}`);
  }
  return { dtype, shape: [...shape] as number[], begin, end };
}

/** `__metadata__` must be an object of strings; absent means empty. */
function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) throw new FileFormatError(`safetensors: '${METADATA_KEY}' is ${describe(value)}, not an object`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      throw new FileFormatError(`safetensors: metadata value '${key}' is ${describe(v)}, not a string`);
    }
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

/**
 * JSON.parse keeps the last of duplicate keys silently; safetensors forbids them. Scans the
 * (already valid) JSON text and describes the first duplicate key of any object, if any.
 */
function findDuplicateKey(text: string): string | undefined {
  const stack: (Set<string> | null)[] = []; // one entry per open object ({}: keys seen) or array (null)
  let tensor = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      let k = j + 1;
      while (isJsonSpace(text.charCodeAt(k))) k++;
      const keys = stack[stack.length - 1];
      if (keys && text.charCodeAt(k) === 0x3a /* : */) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (keys.has(key)) {
          return stack.length === 1 ? `duplicate tensor name '${key}' in the header`
            : `duplicate key '${key}' in the header entry of '${tensor}'`;
        }
        keys.add(key);
        if (stack.length === 1) tensor = key;
      }
      i = j;
    } else if (c === 0x7b /* { */) stack.push(new Set());
    else if (c === 0x5b /* [ */) stack.push(null);
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
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
