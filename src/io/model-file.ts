// Language-model files: safetensors with PyTorch's names and layouts, so the
// tensors load into torch's word_language_model RNNModel (or nn.Embedding +
// nn.LSTM/GRU/RNN + nn.Linear) with load_state_dict. Portable: bytes in, bytes out.
//
//   tensors       F32, the model's state_dict in order: encoder.weight,
//                 rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
//                 rnn.bias_hh_l0, … decoder.weight, decoder.bias. With tied
//                 weights `decoder.weight` is not written: it is encoder.weight
//                 (safetensors cannot hold two names for one tensor; torch's
//                 state_dict would list both, so a loader sets
//                 decoder.weight = encoder.weight, as scripts/check-model-file.py does).
//                 A file that does hold decoder.weight for a tied model is
//                 accepted when it equals encoder.weight.
//                 Tensors named `extra.*` are the caller's (e.g. optimizer state
//                 in a checkpoint): saved and returned as they are.
//   __metadata__  format: 'mnemo-lm/1'
//                 config: JSON of the model config (LMConfig)
//                 tokenizer: JSON of the tokenizer (TokenizerJSON)
//                 plus the caller's `extra` strings.
//
// A fixed-window model (WindowLanguageModel) is stored the same way: its config
// has `model: 'window'` and its tensors are encoder.weight, hidden.weight,
// hidden.bias, decoder.weight (unless tied), decoder.bias, direct.weight (with
// direct connections). A config without `model` is a recurrent model's.

import {
  FileFormatError, MetadataError, ShapeError, TensorMismatchError, WeightValueError,
} from '../errors.js';
import type { LanguageModel } from '../lm/language-model.js';
import { normalizeConfig, parameterShapes, RNNLanguageModel, type LMConfig, type LMOptions } from '../lm/model.js';
import {
  isWindowConfig, normalizeWindowConfig, windowParameterShapes, WindowLanguageModel, type WindowLMConfig, type WindowLMOptions,
} from '../lm/window-model.js';
import { tokenizerFromJSON, vocabularySlots, type Tokenizer } from '../lm/tokenizer.js';
import type { Runtime } from '../runtime.js';
import {
  copyTensor, readSafetensorsLayout, scanJson, writeSafetensors, type SafetensorsTensor, type SafetensorsTensorInput,
  type SafetensorsTensorLayout,
} from './safetensors.js';
import { withoutInit } from '../nn/init.js';

/** The value of `__metadata__.format` this version writes and reads. */
export const MODEL_FORMAT = 'mnemo-lm/1';

/** Metadata keys mnemo writes itself; `extra` may not use them. */
const RESERVED = ['format', 'config', 'tokenizer'];

/** Prefix of the caller's own tensors in a model file. */
export const EXTRA_TENSOR_PREFIX = 'extra.';

/** What loadModel returns. */
export interface LoadedModel {
  model: RNNLanguageModel | WindowLanguageModel;
  tokenizer: Tokenizer;
  /** The model's config as stored. */
  config: LMConfig | WindowLMConfig;
  /** Every `__metadata__` string: format, config, tokenizer and the extra ones. */
  metadata: Record<string, string>;
  /** The `extra.*` tensors, by full name. */
  extraTensors: Map<string, SafetensorsTensor>;
}

/**
 * Encodes `model` and `tokenizer` as a safetensors model file (see the file
 * comment). `extra` adds metadata strings (not 'format', 'config' or
 * 'tokenizer'); `extraTensors` adds tensors whose names start with 'extra.'.
 */
export function saveModel(model: LanguageModel, tokenizer: Tokenizer, extra: Record<string, string> = {},
  extraTensors: Iterable<[string, SafetensorsTensorInput]> = []): Uint8Array {
  const V = model.config.vocabSize;
  if (tokenizer.vocab.size !== V) {
    throw new ShapeError(`saveModel: the tokenizer has ${tokenizer.vocab.size} tokens but the model's vocabulary is ${V}`);
  }
  for (const key of Object.keys(extra)) {
    if (RESERVED.includes(key)) throw new FileFormatError(`saveModel: extra metadata may not use the reserved key '${key}'`);
  }
  const tensors: [string, SafetensorsTensorInput][] = model.namedParameters()
    .map(([name, p]) => [name, { dtype: 'F32', shape: p.value.shape, data: p.value.toArray() }]);
  for (const [name, t] of extraTensors) {
    if (!name.startsWith(EXTRA_TENSOR_PREFIX)) {
      throw new FileFormatError(`saveModel: extra tensor '${name}' must have a name starting with '${EXTRA_TENSOR_PREFIX}'`);
    }
    tensors.push([name, t]);
  }
  return writeSafetensors(tensors, {
    format: MODEL_FORMAT,
    config: JSON.stringify(model.config),
    tokenizer: JSON.stringify(tokenizer.toJSON()),
    ...extra,
  });
}

/**
 * Reads a model file written by saveModel (or by PyTorch with the same names
 * and metadata) into a new model on `rt`. Throws a FileFormatError naming what
 * is wrong: the safetensors header or layout (HeaderError, TensorLayoutError,
 * from readSafetensors); the format, a config field or the tokenizer
 * (MetadataError); a missing, unexpected or mis-shaped tensor, a dtype, or a
 * vocabulary size that differs from the embedding's rows (TensorMismatchError);
 * a non-finite weight (WeightValueError). Names, shapes and sizes are checked
 * against the file before the model is allocated, so a lying config cannot make
 * a large allocation: the model's size is that of tensors the file really holds.
 * The weights are copied once, from the file straight into wasm memory, and
 * checked there for NaN and infinities (the model is freed if one is found).
 * `bytes` may be any Uint8Array (a Node Buffer too); it is copied, never kept.
 */
export function loadModel(rt: Runtime, bytes: Uint8Array): LoadedModel {
  const file = readSafetensorsLayout(bytes);
  const { metadata } = file;
  const where = 'model file';
  if (metadata.format !== MODEL_FORMAT) {
    throw new MetadataError(metadata.format === undefined
      ? `${where}: __metadata__.format is missing (not a mnemo language model file?); expected '${MODEL_FORMAT}'`
      : `${where}: __metadata__.format is ${quote(metadata.format)}, this version reads '${MODEL_FORMAT}'`);
  }
  const config = readConfig(metadata.config);
  if (metadata.tokenizer === undefined) throw new MetadataError(`${where}: __metadata__.tokenizer is missing`);

  // Names, dtypes, shapes and values against the config, before anything is allocated.
  // A lying numLayers (say 2^31 − 1) would make a list of 2^33 expected tensors: with more
  // layers than the file has tensors (each layer has 4), the file cannot match.
  if (!isWindowConfig(config) && config.numLayers > file.tensors.size) {
    throw new TensorMismatchError(`${where}: __metadata__.config.numLayers is ${config.numLayers}, which needs `
      + `${4 * config.numLayers} recurrent tensors, but the file holds ${file.tensors.size} tensors in all`);
  }
  const expected = isWindowConfig(config) ? windowParameterShapes(config) : parameterShapes(config);
  const expectedNames = new Set(expected.map(([n]) => n));
  const extraTensors = new Map<string, SafetensorsTensor>();
  let tiedCopy: SafetensorsTensorLayout | undefined;
  for (const [name, t] of file.tensors) {
    if (name.startsWith(EXTRA_TENSOR_PREFIX)) { extraTensors.set(name, copyTensor(t)); continue; }
    if (config.tieWeights && name === 'decoder.weight') { tiedCopy = t; continue; }
    if (!expectedNames.has(name)) {
      throw new TensorMismatchError(`${where}: unexpected tensor ${quote(name)} for a ${isWindowConfig(config)
        ? `window model${config.directConnections ? ' with direct connections' : ''}` : `${config.numLayers}-layer ${config.cell} model`}`
        + `${config.tieWeights ? ' with tied weights' : ''} (config)`);
    }
  }
  for (const [name, shape] of expected) {
    const t = file.tensors.get(name);
    if (!t) throw new TensorMismatchError(`${where}: tensor '${name}' is missing (expected shape [${shape.join(', ')}] from the config)`);
    checkTensor(name, t, shape, config);
  }
  const [, encoderShape] = expected[0]!;
  // The tokenizer last: its size is bounded by the vocabSize that encoder.weight has confirmed.
  const tokenizer = readTokenizer(rt, metadata.tokenizer, config.vocabSize);
  if (tokenizer.vocab.size !== config.vocabSize) {
    throw new TensorMismatchError(`${where}: the tokenizer's vocabulary has ${tokenizer.vocab.size} tokens but encoder.weight has `
      + `${encoderShape[0]} rows (config.vocabSize = ${config.vocabSize})`);
  }
  if (tiedCopy) {
    checkTensor('decoder.weight', tiedCopy, encoderShape, config);
    // Bit for bit (the encoder's values are checked for NaN and infinities below).
    if (!sameBytes(tiedCopy.bytes, file.tensors.get('encoder.weight')!.bytes)) {
      throw new WeightValueError(`${where}: config.tieWeights is true but tensor 'decoder.weight' differs from 'encoder.weight'`);
    }
  }

  // Every weight is overwritten below: skip drawing the initial ones.
  const model = withoutInit(() => isWindowConfig(config) ? new WindowLanguageModel(rt, config) : new RNNLanguageModel(rt, config));
  try {
    const memory = new Uint8Array(rt.memory.buffer); // no allocation from here on: the view stays valid
    for (const [name, p] of model.namedParameters()) {
      const t = file.tensors.get(name);
      if (!t) throw new TensorMismatchError(`${where}: tensor '${name}' is missing`); // parameterShapes and the model disagree: a bug
      if (t.shape.join() !== p.value.shape.join()) {
        throw new TensorMismatchError(`${where}: tensor '${name}' has shape [${t.shape.join(', ')}], the model's is [${p.value.shape.join(', ')}]`);
      }
      memory.set(t.bytes, p.value.offset); // wasm memory is little-endian, as the file is, on any host
      const i = rt.kernels.first_nonfinite(p.value.offset, p.value.size); // one SIMD pass
      if (i >= 0) throw new WeightValueError(`${where}: tensor '${name}' holds a non-finite value (${p.value.data[i]}) at element ${i}`);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer, config, metadata, extraTensors };
}

/** Checks a tensor's dtype and shape against the config (its values are checked once copied). */
function checkTensor(name: string, t: SafetensorsTensorLayout, shape: number[], config: LMConfig | WindowLMConfig): void {
  const where = `model file: tensor '${name}'`;
  if (t.dtype !== 'F32') throw new TensorMismatchError(`${where} has dtype ${t.dtype}, expected F32`);
  if (t.shape.join() !== shape.join()) {
    throw new TensorMismatchError(`${where} has shape ${shapeText(t.shape)}, but the config (vocabSize ${config.vocabSize}, `
      + `embeddingDim ${config.embeddingDim}, hiddenSize ${config.hiddenSize}, `
      + `${isWindowConfig(config) ? `contextSize ${config.contextSize}` : `cell ${config.cell}`}) needs [${shape.join(', ')}]`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The tokenizer of a model file. Its JSON is scanned before it is parsed: at most
 * `vocabSize` tokens (a number the tensors have confirmed), small objects, no
 * duplicate keys; so a hostile 100 MB vocabulary costs a scan, not a parse. The
 * word form (one string of words) is split into at most vocabSize + 1 words, so
 * it cannot make more tokens than that either.
 */
function readTokenizer(rt: Runtime, text: string, vocabSize: number): Tokenizer {
  const where = 'model file: __metadata__.tokenizer';
  const problem = scanJson(text, { maxDepth: 3, maxKeys: 16, maxItems: vocabSize },
    { key: 'key', inside: 'in the value of', outside: 'at the top level' });
  if (problem) throw new MetadataError(`${where} is invalid: ${problem} (config.vocabSize is ${vocabSize})`);
  try {
    const json = JSON.parse(text) as unknown;
    const vocab = typeof json === 'object' && json !== null ? (json as { vocab?: unknown }).vocab : undefined;
    const tokens = typeof vocab === 'object' && vocab !== null ? (vocab as { tokens?: unknown }).tokens : undefined;
    let index: Int32Array | undefined;
    if (typeof tokens === 'string' && (json as { level?: unknown }).level === 'word') {
      const words = tokens.split(' ', vocabSize + 1);
      (vocab as { tokens: unknown }).tokens = words;
      if (words.length === vocabSize) index = wordIndex(rt, tokens, vocabSize);
    }
    return tokenizerFromJSON(json, index);
  } catch (e) {
    throw new MetadataError(`${where} is invalid: ${(e as Error).message}`);
  }
}

/**
 * The Vocabulary's hash table over `n` space-separated words, built by the
 * vocab_index kernel (the same table the Vocabulary would build in JavaScript,
 * about 10 times faster on a cold start), or undefined when the words are not
 * all ASCII or two are the same: the Vocabulary then builds it, and names the
 * duplicate.
 */
function wordIndex(rt: Runtime, words: string, n: number): Int32Array | undefined {
  const nslots = vocabularySlots(n);
  // Scratch: the words' bytes, their starts, the table. No room (a small maxMemory): the JavaScript path needs none.
  const blocks: number[] = [];
  try {
    blocks.push(rt.arena.alloc(words.length));
    blocks.push(rt.arena.alloc(4 * (n + 1)));
    blocks.push(rt.arena.allocZeroed(4 * nslots));
  } catch {
    for (const b of blocks) rt.arena.release(b);
    return undefined;
  }
  const [text, starts, slots] = blocks as [number, number, number];
  try {
    // encode, then copy (encodeInto refuses a shared memory's view, as with threads in a browser).
    const bytes = new TextEncoder().encode(words);
    if (bytes.length !== words.length) return undefined; // not ASCII
    new Uint8Array(rt.memory.buffer, text, bytes.length).set(bytes);
    if (rt.kernels.vocab_index(text, words.length, slots, nslots, starts) !== n) return undefined;
    return new Int32Array(rt.memory.buffer, slots, nslots).slice();
  } finally {
    for (const b of blocks) rt.arena.release(b);
  }
}

/** Longest `__metadata__.config` read: a config is a dozen short fields. */
const MAX_CONFIG_CHARS = 65_536;

function readConfig(text: string | undefined): LMConfig | WindowLMConfig {
  const where = 'model file: __metadata__.config';
  if (text === undefined) throw new MetadataError(`${where} is missing`);
  if (text.length > MAX_CONFIG_CHARS) {
    throw new MetadataError(`${where} is ${text.length} characters long; a config is at most ${MAX_CONFIG_CHARS}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new MetadataError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MetadataError(`${where} is not a JSON object`);
  const o = json as Record<string, unknown>;
  // Every config value is a number, a boolean or a short string: anything else is named
  // here, before a message quotes it (a deeply nested or huge value must not reach JSON.stringify).
  for (const [key, value] of Object.entries(o)) {
    if (value !== null && typeof value === 'object') {
      throw new MetadataError(`${where}.${key.slice(0, 40)} is ${Array.isArray(value) ? 'an array' : 'an object'}, `
        + 'expected a number, a boolean or a string');
    }
    if (typeof value === 'string' && value.length > 100) {
      throw new MetadataError(`${where}.${key.slice(0, 40)} is a string of ${value.length} characters, longer than any valid value`);
    }
  }
  if (o.model !== undefined) return readWindowConfig(o);
  for (const key of ['vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell'] as const) {
    if (o[key] === undefined) throw new MetadataError(`${where}.${key} is missing`);
  }
  try {
    return normalizeConfig(o as unknown as LMOptions);
  } catch (e) {
    // normalizeConfig's messages name the field ("RNNLanguageModel: hiddenSize must be …").
    throw new MetadataError(`${where}: ${(e as Error).message.replace(/^RNNLanguageModel: /, '')}`);
  }
}

/** The config of a fixed-window model (`model: 'window'`; any other `model` is an error naming it). */
function readWindowConfig(o: Record<string, unknown>): WindowLMConfig {
  const where = 'model file: __metadata__.config';
  if (o.model !== 'window') throw new MetadataError(`${where}.model is ${JSON.stringify(o.model)}; this version reads 'window' (or no model: a recurrent model)`);
  for (const key of ['vocabSize', 'contextSize', 'embeddingDim', 'hiddenSize'] as const) {
    if (o[key] === undefined) throw new MetadataError(`${where}.${key} is missing`);
  }
  try {
    return normalizeWindowConfig(o as unknown as WindowLMOptions);
  } catch (e) {
    throw new MetadataError(`${where}: ${(e as Error).message.replace(/^WindowLanguageModel: /, '')}`);
  }
}

/** A name for a message: quoted, and cut to 80 characters so that a hostile name cannot make a huge message. */
function quote(name: string): string {
  return `'${name.length > 80 ? `${name.slice(0, 80)}…` : name}'`;
}

/** A shape for a message: `[2, 3]`, or its first dimensions and its rank when it is long. */
function shapeText(shape: readonly number[]): string {
  return shape.length > 8 ? `[${shape.slice(0, 8).join(', ')}, … (${shape.length} dimensions)]` : `[${shape.join(', ')}]`;
}
