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

import { FileFormatError, ShapeError } from '../errors.js';
import { normalizeConfig, parameterShapes, RNNLanguageModel, type LMConfig, type LMOptions } from '../lm/model.js';
import { tokenizerFromJSON, type Tokenizer } from '../lm/tokenizer.js';
import type { Runtime } from '../runtime.js';
import { readSafetensors, writeSafetensors, type SafetensorsTensor, type SafetensorsTensorInput } from './safetensors.js';

/** The value of `__metadata__.format` this version writes and reads. */
export const MODEL_FORMAT = 'mnemo-lm/1';

/** Metadata keys mnemo writes itself; `extra` may not use them. */
const RESERVED = ['format', 'config', 'tokenizer'];

/** Prefix of the caller's own tensors in a model file. */
export const EXTRA_TENSOR_PREFIX = 'extra.';

/** What loadModel returns. */
export interface LoadedModel {
  model: RNNLanguageModel;
  tokenizer: Tokenizer;
  /** The model's config as stored. */
  config: LMConfig;
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
export function saveModel(model: RNNLanguageModel, tokenizer: Tokenizer, extra: Record<string, string> = {},
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
 * and metadata) into a new model on `rt`. Throws FileFormatError naming what
 * is wrong: the format, a config field, the tokenizer, a missing, unexpected
 * or mis-shaped tensor, a dtype, a non-finite value, or a vocabulary size that
 * differs from the embedding's rows.
 */
export function loadModel(rt: Runtime, bytes: Uint8Array): LoadedModel {
  const file = readSafetensors(bytes);
  const { metadata } = file;
  const where = 'model file';
  if (metadata.format !== MODEL_FORMAT) {
    throw new FileFormatError(metadata.format === undefined
      ? `${where}: __metadata__.format is missing (not a mnemo language model file?); expected '${MODEL_FORMAT}'`
      : `${where}: __metadata__.format is '${metadata.format}', this version reads '${MODEL_FORMAT}'`);
  }
  const config = readConfig(metadata.config);
  let tokenizer: Tokenizer;
  if (metadata.tokenizer === undefined) throw new FileFormatError(`${where}: __metadata__.tokenizer is missing`);
  try {
    tokenizer = tokenizerFromJSON(metadata.tokenizer);
  } catch (e) {
    throw new FileFormatError(`${where}: __metadata__.tokenizer is invalid: ${(e as Error).message}`);
  }

  // Names, dtypes, shapes and values against the config, before anything is allocated.
  const expected = parameterShapes(config);
  const expectedNames = new Set(expected.map(([n]) => n));
  const extraTensors = new Map<string, SafetensorsTensor>();
  let tiedCopy: SafetensorsTensor | undefined;
  for (const [name, t] of file.tensors) {
    if (name.startsWith(EXTRA_TENSOR_PREFIX)) { extraTensors.set(name, t); continue; }
    if (config.tieWeights && name === 'decoder.weight') { tiedCopy = t; continue; }
    if (!expectedNames.has(name)) {
      throw new FileFormatError(`${where}: unexpected tensor '${name}' for a ${config.numLayers}-layer ${config.cell} model`
        + `${config.tieWeights ? ' with tied weights' : ''} (config)`);
    }
  }
  for (const [name, shape] of expected) {
    const t = file.tensors.get(name);
    if (!t) throw new FileFormatError(`${where}: tensor '${name}' is missing (expected shape [${shape.join(', ')}] from the config)`);
    checkTensor(name, t, shape, config);
  }
  const [, encoderShape] = expected[0]!;
  if (tokenizer.vocab.size !== config.vocabSize) {
    throw new FileFormatError(`${where}: the tokenizer's vocabulary has ${tokenizer.vocab.size} tokens but encoder.weight has `
      + `${encoderShape[0]} rows (config.vocabSize = ${config.vocabSize})`);
  }
  if (tiedCopy) {
    checkTensor('decoder.weight', tiedCopy, encoderShape, config);
    const enc = file.tensors.get('encoder.weight')!.data;
    if (!tiedCopy.data.every((v, i) => Object.is(v, enc[i]))) {
      throw new FileFormatError(`${where}: config.tieWeights is true but tensor 'decoder.weight' differs from 'encoder.weight'`);
    }
  }

  const model = new RNNLanguageModel(rt, config);
  try {
    for (const [name, p] of model.namedParameters()) {
      const t = file.tensors.get(name);
      if (!t) throw new FileFormatError(`${where}: tensor '${name}' is missing`); // parameterShapes and the model disagree: a bug
      if (t.shape.join() !== p.value.shape.join()) {
        throw new FileFormatError(`${where}: tensor '${name}' has shape [${t.shape.join(', ')}], the model's is [${p.value.shape.join(', ')}]`);
      }
      p.value.data.set(t.data);
    }
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model, tokenizer, config, metadata, extraTensors };
}

function checkTensor(name: string, t: SafetensorsTensor, shape: number[], config: LMConfig): void {
  const where = `model file: tensor '${name}'`;
  if (t.dtype !== 'F32') throw new FileFormatError(`${where} has dtype ${t.dtype}, expected F32`);
  if (t.shape.join() !== shape.join()) {
    throw new FileFormatError(`${where} has shape [${t.shape.join(', ')}], but the config (vocabSize ${config.vocabSize}, `
      + `embeddingDim ${config.embeddingDim}, hiddenSize ${config.hiddenSize}, cell ${config.cell}) needs [${shape.join(', ')}]`);
  }
  const data = t.data;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!)) throw new FileFormatError(`${where} holds a non-finite value (${data[i]}) at element ${i}`);
  }
}

function readConfig(text: string | undefined): LMConfig {
  const where = 'model file: __metadata__.config';
  if (text === undefined) throw new FileFormatError(`${where} is missing`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(`${where} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FileFormatError(`${where} is not a JSON object`);
  const o = json as Record<string, unknown>;
  for (const key of ['vocabSize', 'embeddingDim', 'hiddenSize', 'numLayers', 'cell'] as const) {
    if (o[key] === undefined) throw new FileFormatError(`${where}.${key} is missing`);
  }
  try {
    return normalizeConfig(o as unknown as LMOptions);
  } catch (e) {
    // normalizeConfig's messages name the field ("RNNLanguageModel: hiddenSize must be …").
    throw new FileFormatError(`${where}: ${(e as Error).message.replace(/^RNNLanguageModel: /, '')}`);
  }
}
