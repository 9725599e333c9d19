// RNNLanguageModel: PyTorch's word_language_model (examples/word_language_model,
// RNNModel) on mnemo's layers:
//
//   ids (T, B) → encoder (Embedding) → dropout → rnn (LSTM | GRU | RNN, L layers,
//   dropout between layers) → dropout → decoder (Linear) → logits (T·B, V)
//
// Parameter names and layouts are that model's state_dict: `encoder.weight`
// (V, E), `rnn.weight_ih_l0` (G·H, E), `rnn.weight_hh_l0` (G·H, H),
// `rnn.bias_ih_l0`, `rnn.bias_hh_l0`, … `decoder.weight` (V, H), `decoder.bias`
// (V), with G = 4 (LSTM, gates i f g o), 3 (GRU, r z n), 1 (RNN).
//
// Weight tying (Press & Wolf 2017; Inan et al. 2017): decoder.weight IS
// encoder.weight, one Parameter. parameters() lists it once, as `encoder.weight`;
// backward adds the gradients of both uses into its one grad.

import { MnemoError, ShapeError } from '../errors.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { initSkipped, nextDefaultSeed } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { CrossEntropyLoss } from '../nn/loss.js';
import { Module } from '../nn/module.js';
import { GRU, LSTM, RNN, type RecurrentBase } from '../nn/recurrent.js';
import { Random } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';

/** The recurrent cell: PyTorch's RNNModel rnn_type names, lower-cased. */
export type LMCell = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';

/** The cells, for validation and help texts. */
export const LM_CELLS: readonly LMCell[] = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'];

/** Options of RNNLanguageModel. */
export interface LMOptions {
  /** V: number of tokens (rows of encoder.weight, outputs of the decoder). */
  vocabSize: number;
  /** E: size of the token vectors. */
  embeddingDim: number;
  /** H: size of the recurrent state. */
  hiddenSize: number;
  /** L: stacked recurrent layers (default 1). */
  numLayers?: number;
  /** Default 'lstm'. */
  cell?: LMCell;
  /** Dropout on the outputs of every recurrent layer but the last, in training (default 0). */
  dropout?: number;
  /** Dropout on the embeddings, in training (default 0). */
  embeddingDropout?: number;
  /** Dropout on the last recurrent layer's output, before the decoder, in training (default 0). */
  outputDropout?: number;
  /** decoder.weight = encoder.weight (default false); needs embeddingDim === hiddenSize. */
  tieWeights?: boolean;
  /** Seed of the initialisation and of every dropout mask (default: the next seed of a fixed sequence). */
  seed?: number;
}

/** The complete configuration: plain JSON, enough to rebuild the model (the model file stores it). */
export interface LMConfig {
  vocabSize: number;
  embeddingDim: number;
  hiddenSize: number;
  numLayers: number;
  cell: LMCell;
  dropout: number;
  embeddingDropout: number;
  outputDropout: number;
  tieWeights: boolean;
  seed: number;
}

/** Recurrent state: h, and c for LSTM, each (numLayers, B, H). */
export interface LMState {
  h: Tensor;
  c?: Tensor;
}

/** What forward returns. */
export interface LMOutput {
  /** (T·B, V), row t·B + b: the scores of the token after ids[t, b]. A model buffer. */
  logits: Tensor;
  /** The state after the window's last step: the rnn's buffers (see forward). */
  state: LMState;
}

/** The positions of the dropout masks, to save with a checkpoint and restore on resume. */
export interface LMDropoutState {
  embedding: number;
  rnn: number;
  output: number;
}

/** Initialisation range of the encoder and (untied) decoder weights, as word_language_model's init_weights. */
export const INIT_RANGE = 0.1;

/**
 * Embedding → RNN/LSTM/GRU × L → Linear, as PyTorch's word_language_model RNNModel.
 *
 * Initialisation as that example: encoder.weight and decoder.weight ~ U(±0.1),
 * decoder.bias = 0; the recurrent weights PyTorch's default U(±1/√H). All drawn
 * from `seed`, so two models built with one seed are identical.
 *
 * Buffers: forward returns tensors owned by the model's layers, valid until the
 * next forward (the next backward for gradients); copy what you keep.
 */
export class RNNLanguageModel extends Module {
  readonly config: Readonly<LMConfig>;
  readonly encoder: Embedding;
  readonly rnn: RecurrentBase;
  readonly decoder: Linear;
  private readonly embeddingDrop: Dropout;
  private readonly outputDrop: Dropout;
  private readonly lossFn: CrossEntropyLoss;
  private window: { t: number; b: number } | null = null;

  constructor(runtime: Runtime, options: LMOptions) {
    super(runtime);
    const config = normalizeConfig(options);
    this.config = Object.freeze(config);
    const { vocabSize: V, embeddingDim: E, hiddenSize: H, numLayers: L, cell } = config;
    const rng = new Random(config.seed);
    const seeds = { encoder: rng.nextUint32(), rnn: rng.nextUint32(), decoder: rng.nextUint32(),
      embeddingDrop: rng.nextUint32(), outputDrop: rng.nextUint32() };
    // A construction that fails halfway (OutOfMemoryError) frees what it allocated.
    const built = runtime.track();
    try {
      this.encoder = this.addModule('encoder', new Embedding(runtime, { numEmbeddings: V, embeddingDim: E, seed: seeds.encoder }));
      const rnnOptions = { inputSize: E, hiddenSize: H, numLayers: L, dropout: config.dropout, seed: seeds.rnn };
      this.rnn = this.addModule('rnn', cell === 'lstm' ? new LSTM(runtime, rnnOptions)
        : cell === 'gru' ? new GRU(runtime, rnnOptions)
          : new RNN(runtime, { ...rnnOptions, nonlinearity: cell === 'rnn_relu' ? 'relu' : 'tanh' }));
      this.decoder = this.addModule('decoder', new Linear(runtime, {
        inFeatures: H, outFeatures: V, seed: seeds.decoder,
        ...(config.tieWeights ? { weight: this.encoder.weight } : {}),
      }));
      this.embeddingDrop = this.addModule('embeddingDrop', new Dropout(runtime, { p: config.embeddingDropout, seed: seeds.embeddingDrop }));
      this.outputDrop = this.addModule('outputDrop', new Dropout(runtime, { p: config.outputDropout, seed: seeds.outputDrop }));
      this.lossFn = this.addModule('loss', new CrossEntropyLoss(runtime));
    } catch (e) {
      built.end(false);
      throw e;
    }
    built.end(true);
    // word_language_model's init_weights.
    const init = new Random(rng.nextUint32());
    if (!initSkipped()) {
      init.fillUniform(this.encoder.weight.value.data, -INIT_RANGE, INIT_RANGE);
      if (!config.tieWeights) init.fillUniform(this.decoder.weight.value.data, -INIT_RANGE, INIT_RANGE);
    }
    this.decoder.bias!.value.data.fill(0);
  }

  /** Number of trainable scalars (a tied weight counts once). */
  get numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  /**
   * ids (T, B) int32 → logits (T·B, V) and the state after step T−1.
   *
   * `state` (each (numLayers, B, H); zeros when omitted) is copied before
   * anything is written, so the caller may pass any tensors, including the
   * `state` a previous forward returned. The returned state tensors are the
   * rnn's own buffers, overwritten by the next forward (and reallocated when
   * B changes): pass them straight back as the next window's state, or keep a
   * copy with detachState(). States are values: no gradient ever flows from
   * one forward to an earlier one, so carrying a state between windows is
   * truncated BPTT with nothing to detach.
   */
  forward(ids: Tensor<'int32'>, state?: LMState): LMOutput {
    const { output, state: next } = this.forwardHidden(ids, state);
    const [t, b, h] = output.shape as [number, number, number];
    return { logits: this.decode(output.view([t * b, h])), state: next };
  }

  /**
   * The part of forward before the decoder: ids (T, B) → the last layer's
   * output (T, B, H) after the output dropout, and the state. Used by the
   * predictor, which decodes only when asked for a distribution.
   */
  forwardHidden(ids: Tensor<'int32'>, state?: LMState): { output: Tensor; state: LMState } {
    const rt = this.runtime;
    rt.check(ids, 'RNNLanguageModel.forward: ids', 'int32');
    if (ids.shape.length !== 2 || ids.size === 0) {
      throw new ShapeError(`RNNLanguageModel.forward: ids must be a non-empty (T, B) int32 tensor, got [${ids.shape.join(', ')}]`);
    }
    if (state && (this.config.cell === 'lstm') !== (state.c !== undefined)) {
      throw new ShapeError(`RNNLanguageModel.forward: state.c must be given ${this.config.cell === 'lstm' ? 'for' : 'only for'} an LSTM (cell = ${this.config.cell})`);
    }
    const [t, b] = ids.shape as [number, number];
    this.window = null;
    const x = this.embeddingDrop.forward(this.encoder.forward(ids));
    const r = this.rnn.forward(x, state);
    const output = this.outputDrop.forward(r.output);
    this.window = { t, b };
    return { output, state: r.c ? { h: r.h, c: r.c } : { h: r.h } };
  }

  /** The decoder: hidden (N, H) → logits (N, V) (a model buffer). */
  decode(hidden: Tensor): Tensor {
    return this.decoder.forward(hidden);
  }

  /**
   * Backpropagation through the last forward's window: given dL/dlogits (T·B, V),
   * accumulates the gradients of every parameter (zeroGrad() clears them). No
   * gradient flows into the initial state's origin (truncated BPTT).
   */
  backward(dlogits: Tensor): void {
    const w = this.window;
    if (!w) throw new MnemoError('RNNLanguageModel.backward: call forward first');
    const H = this.config.hiddenSize;
    const dy = this.decoder.backward(dlogits); // (T·B, H)
    const dOut = this.outputDrop.backward(dy.view([w.t, w.b, H]));
    const dx = this.rnn.backward(dOut).input; // (T, B, E)
    this.encoder.backward(this.embeddingDrop.backward(dx));
  }

  /**
   * One training step's forward and backward: the mean cross-entropy of
   * `targets` (T·B, int32, row t·B + b = the token after ids[t, b]; −100 is
   * ignored) under forward(ids, state), and its gradients accumulated into the
   * parameters. The logits buffer is overwritten by the gradient. Returns the
   * loss and the state after the window (as forward).
   */
  lossAndBackward(ids: Tensor<'int32'>, targets: Tensor<'int32'>, state?: LMState): { loss: number; state: LMState } {
    const { logits, state: next } = this.forward(ids, state);
    const loss = this.lossFn.forward(logits, targets);
    this.backward(this.lossFn.backward(1, { inPlace: true }));
    return { loss, state: next };
  }

  /** A zero state for batch size `batch`: new tensors the caller owns (dispose them when done). */
  initState(batch: number): LMState {
    if (!Number.isInteger(batch) || batch < 1) throw new ShapeError(`RNNLanguageModel.initState: batch must be a positive integer, got ${batch}`);
    const shape = [this.config.numLayers, batch, this.config.hiddenSize];
    const rt = this.runtime;
    return this.config.cell === 'lstm' ? { h: rt.zeros(shape), c: rt.zeros(shape) } : { h: rt.zeros(shape) };
  }

  /**
   * A copy of `state` that the caller owns: into `into` when given (same shapes,
   * no allocation; returns `into`), else into new tensors. Use it to keep a state
   * across forward calls with other batch sizes (evaluation, prediction), which
   * reallocate the rnn's buffers.
   */
  detachState(state: LMState, into?: LMState): LMState {
    const out = into ?? this.initState(state.h.shape[1]!);
    copyInto(state.h, out.h, 'h');
    if (state.c || out.c) {
      if (!state.c || !out.c) throw new ShapeError('RNNLanguageModel.detachState: one state has c and the other not');
      copyInto(state.c, out.c, 'c');
    }
    return out;
  }

  /** Where the dropout masks are: save with a checkpoint, restore with setDropoutState() for a bit-exact resume. */
  getDropoutState(): LMDropoutState {
    return { embedding: this.embeddingDrop.counter, rnn: this.rnn.dropoutCounter, output: this.outputDrop.counter };
  }

  /** Restores getDropoutState(). */
  setDropoutState(s: LMDropoutState): void {
    for (const [k, v] of Object.entries(s)) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ShapeError(`setDropoutState: ${k} must be a u32, got ${v}`);
    }
    this.embeddingDrop.counter = s.embedding;
    this.rnn.dropoutCounter = s.rnn;
    this.outputDrop.counter = s.output;
  }
}



function copyInto(src: Tensor, dst: Tensor, what: string): void {
  if (src.shape.join() !== dst.shape.join()) {
    throw new ShapeError(`RNNLanguageModel.detachState: ${what} is [${src.shape.join(', ')}] but the target is [${dst.shape.join(', ')}]`);
  }
  if (src.offset !== dst.offset) dst.data.set(src.data);
}

/**
 * Fills in the defaults and validates `options`; throws ShapeError (sizes) or
 * MnemoError (other options) naming the option. Used by the constructor and by
 * loadModel on the config of a file.
 */
export function normalizeConfig(options: LMOptions): LMConfig {
  if (typeof options !== 'object' || options === null) throw new MnemoError('RNNLanguageModel: options must be an object');
  const int = (v: unknown, name: string): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 2 ** 31 - 1) {
      throw new ShapeError(`RNNLanguageModel: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const prob = (v: unknown, name: string): number => {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new MnemoError(`RNNLanguageModel: ${name} must be a number in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  const cell = options.cell ?? 'lstm';
  if (!LM_CELLS.includes(cell)) {
    throw new MnemoError(`RNNLanguageModel: cell must be one of ${LM_CELLS.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(cell)}`);
  }
  const tieWeights = options.tieWeights ?? false;
  if (typeof tieWeights !== 'boolean') throw new MnemoError(`RNNLanguageModel: tieWeights must be a boolean, got ${JSON.stringify(tieWeights)}`);
  const config: LMConfig = {
    vocabSize: int(options.vocabSize, 'vocabSize'),
    embeddingDim: int(options.embeddingDim, 'embeddingDim'),
    hiddenSize: int(options.hiddenSize, 'hiddenSize'),
    numLayers: int(options.numLayers ?? 1, 'numLayers'),
    cell,
    dropout: prob(options.dropout, 'dropout'),
    embeddingDropout: prob(options.embeddingDropout, 'embeddingDropout'),
    outputDropout: prob(options.outputDropout, 'outputDropout'),
    tieWeights,
    seed: 0,
  };
  if (tieWeights && config.embeddingDim !== config.hiddenSize) {
    throw new ShapeError(`RNNLanguageModel: tieWeights needs embeddingDim === hiddenSize, got ${config.embeddingDim} and ${config.hiddenSize}`);
  }
  const seed = options.seed ?? nextDefaultSeed();
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < -(2 ** 31) || seed > 0xffffffff) {
    throw new MnemoError(`RNNLanguageModel: seed must be a 32-bit integer, got ${JSON.stringify(seed)}`);
  }
  config.seed = seed >>> 0;
  return config;
}

/**
 * The state_dict names and shapes of a model with this config, in order, as
 * torch's RNNModel (encoder, rnn, decoder) lists them. With tieWeights,
 * `decoder.weight` is left out: it is `encoder.weight`.
 */
export function parameterShapes(config: LMConfig): [string, number[]][] {
  const { vocabSize: V, embeddingDim: E, hiddenSize: H, numLayers: L, cell, tieWeights } = config;
  const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * H;
  const out: [string, number[]][] = [['encoder.weight', [V, E]]];
  for (let l = 0; l < L; l++) {
    out.push([`rnn.weight_ih_l${l}`, [G, l === 0 ? E : H]], [`rnn.weight_hh_l${l}`, [G, H]],
      [`rnn.bias_ih_l${l}`, [G]], [`rnn.bias_hh_l${l}`, [G]]);
  }
  if (!tieWeights) out.push(['decoder.weight', [V, H]]);
  out.push(['decoder.bias', [V]]);
  return out;
}
