// WindowLanguageModel: the fixed-window neural language model of Bengio,
// Ducharme, Vincent & Jauvin (2003), "A Neural Probabilistic Language Model".
// The next token is predicted from the previous C = n − 1 tokens:
//
//   x = [e(w_{t−C+1}), …, e(w_t)]             concatenated embeddings   (N, C·m)
//   h = tanh(x·hidden.weightᵀ + hidden.bias)                             (N, H)
//   logits = h·decoder.weightᵀ + decoder.bias [+ x·direct.weightᵀ]       (N, V)
//
// with dropout on x and on h in training (not in the paper), and the optional
// direct input-to-output connections of the paper (`direct`, no bias). In
// PyTorch terms: nn.Embedding(V, m), nn.Linear(C·m, H), nn.Linear(H, V) and
// nn.Linear(C·m, V, bias=False), with those state_dict names: `encoder.weight`
// (V, m), `hidden.weight` (H, C·m), `hidden.bias` (H), `decoder.weight` (V, H),
// `decoder.bias` (V), `direct.weight` (V, C·m). With tieWeights (needs m = H),
// decoder.weight IS encoder.weight, as in RNNLanguageModel.
//
// It has RNNLanguageModel's interface (LanguageModel), so the same Trainer,
// perplexity() and Predictor run it. Its "state" is the history: the last C
// token ids each stream has read, so BPTT windows of (T, B) tokens, carried
// from window to window, give every position its full C-token context, and the
// context crosses line breaks exactly as the recurrent model's state does (the
// n-gram baselines instead restart at each line). The state is `h` (1, B, C),
// float32, oldest token first, holding id + 1, with 0 for "no token yet"
// (exact: vocabSize ≤ 2^24). A position without a token yet (at the start of
// a stream) takes the stream's first token: from the zero state, reading the
// end-of-line token gives the context '</s> … </s>', which is how the n-gram
// models pad a line start with `<s>`.
//
// Initialisation: encoder.weight ~ U(±0.1) (as word_language_model),
// hidden.weight and .bias PyTorch's nn.Linear default U(±1/√(C·m)),
// decoder.weight U(±1/√H) (or the encoder's when tied), decoder.bias = 0,
// direct.weight = 0 (the model starts as the plain tanh network).

import { MnemoError, ShapeError } from '../errors.js';
import { Dropout } from '../nn/dropout.js';
import { Embedding } from '../nn/embedding.js';
import { initSkipped, nextDefaultSeed } from '../nn/init.js';
import { Linear } from '../nn/linear.js';
import { CrossEntropyLoss } from '../nn/loss.js';
import { Module } from '../nn/module.js';
import { Random } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import type { LanguageModel } from './language-model.js';
import { INIT_RANGE, type LMState } from './model.js';

/** Options of WindowLanguageModel. */
export interface WindowLMOptions {
  /** V: number of tokens. */
  vocabSize: number;
  /** C = n − 1: how many previous tokens the model sees (n is the order, as in an n-gram model). */
  contextSize: number;
  /** m: size of each token's vector. */
  embeddingDim: number;
  /** H: size of the tanh hidden layer. */
  hiddenSize: number;
  /** Direct connections from the concatenated embeddings to the output (Bengio et al.; default false). */
  directConnections?: boolean;
  /** Dropout on the concatenated embeddings, in training (default 0). */
  embeddingDropout?: number;
  /** Dropout on the tanh hidden layer's output, in training (default 0). */
  hiddenDropout?: number;
  /** decoder.weight = encoder.weight (default false); needs embeddingDim === hiddenSize. */
  tieWeights?: boolean;
  /** Seed of the initialisation and of every dropout mask (default: the next seed of a fixed sequence). */
  seed?: number;
  /** 'window', as the model file stores it (optional here). */
  model?: 'window';
}

/** The complete configuration: plain JSON, enough to rebuild the model. `model: 'window'` tells model files apart. */
export interface WindowLMConfig {
  model: 'window';
  vocabSize: number;
  contextSize: number;
  embeddingDim: number;
  hiddenSize: number;
  directConnections: boolean;
  embeddingDropout: number;
  hiddenDropout: number;
  tieWeights: boolean;
  seed: number;
}

/** The positions of the dropout masks (see Trainer.checkpoint). */
export interface WindowLMDropoutState {
  embedding: number;
  hidden: number;
}

/** The largest vocabulary: token ids + 1 must be exact in float32 (the state). */
const MAX_VOCAB = 2 ** 24;
/** The largest context, a sanity bound (the paper used n ≤ 5). */
const MAX_CONTEXT = 256;

/** What forward kept for backward. */
interface Kept { n: number; x: Tensor; a: Tensor; h: Tensor }

/** The fixed-window neural language model (Bengio et al. 2003); see the file comment. */
export class WindowLanguageModel extends Module implements LanguageModel {
  readonly config: Readonly<WindowLMConfig>;
  readonly encoder: Embedding;
  /** The tanh layer: weight (H, C·m), bias (H). */
  readonly hidden: Linear;
  /** Holds decoder.weight (V, H) and decoder.bias (V); the model runs the products itself (see decode). */
  readonly decoder: Linear;
  /** Holds direct.weight (V, C·m), or null without direct connections. */
  readonly direct: Linear | null;
  private readonly embeddingDrop: Dropout;
  private readonly hiddenDrop: Dropout;
  private readonly lossFn: CrossEntropyLoss;
  private kept: Kept | null = null;

  constructor(runtime: Runtime, options: WindowLMOptions) {
    super(runtime);
    const config = normalizeWindowConfig(options);
    this.config = Object.freeze(config);
    const { vocabSize: V, contextSize: C, embeddingDim: m, hiddenSize: H } = config;
    const rng = new Random(config.seed);
    const seeds = { encoder: rng.nextUint32(), hidden: rng.nextUint32(), decoder: rng.nextUint32(), direct: rng.nextUint32(),
      embeddingDrop: rng.nextUint32(), hiddenDrop: rng.nextUint32(), init: rng.nextUint32() };
    // A construction that fails halfway (OutOfMemoryError) frees what it allocated.
    const built = runtime.track();
    try {
      this.encoder = this.addModule('encoder', new Embedding(runtime, { numEmbeddings: V, embeddingDim: m, seed: seeds.encoder }));
      this.hidden = this.addModule('hidden', new Linear(runtime, { inFeatures: C * m, outFeatures: H, seed: seeds.hidden }));
      this.decoder = this.addModule('decoder', new Linear(runtime, {
        inFeatures: H, outFeatures: V, seed: seeds.decoder, ...(config.tieWeights ? { weight: this.encoder.weight } : {}),
      }));
      this.direct = config.directConnections
        ? this.addModule('direct', new Linear(runtime, { inFeatures: C * m, outFeatures: V, bias: false, seed: seeds.direct }))
        : null;
      this.embeddingDrop = this.addModule('embeddingDrop', new Dropout(runtime, { p: config.embeddingDropout, seed: seeds.embeddingDrop }));
      this.hiddenDrop = this.addModule('hiddenDrop', new Dropout(runtime, { p: config.hiddenDropout, seed: seeds.hiddenDrop }));
      this.lossFn = this.addModule('loss', new CrossEntropyLoss(runtime));
    } catch (e) {
      built.end(false);
      throw e;
    }
    built.end(true);
    if (!initSkipped()) new Random(seeds.init).fillUniform(this.encoder.weight.value.data, -INIT_RANGE, INIT_RANGE);
    this.decoder.bias!.value.data.fill(0);
    this.direct?.weight.value.data.fill(0);
  }

  /** Number of trainable scalars (a tied weight counts once). */
  get numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.value.size, 0);
  }

  /** F: width of forwardHidden's output, the decoder's input: H, plus C·m with direct connections. */
  get featureSize(): number {
    const c = this.config;
    return c.hiddenSize + (c.directConnections ? c.contextSize * c.embeddingDim : 0);
  }

  /**
   * ids (T, B) int32 → logits (T·B, V) (row t·B + b: the scores of the token
   * after ids[t, b]) and the state after the window: the last C tokens of each
   * stream (a model buffer; pass it back as the next window's state, or copy it
   * with detachState). `state` (1, B, C) is read before anything is written;
   * omitted, it is the zero state (no history).
   */
  forward(ids: Tensor<'int32'>, state?: LMState): { logits: Tensor; state: LMState } {
    const { x, h, state: next } = this.run(ids, state);
    const c = this.config;
    return { logits: this.logits(h, c.hiddenSize, x, c.contextSize * c.embeddingDim, h.shape[0]!), state: next };
  }

  /**
   * The part of forward before the output layer: ids (T, B) → features (T, B, F)
   * (a model buffer): the hidden layer's output after dropout, followed, with
   * direct connections, by the concatenated embeddings. decode() maps them to
   * logits. Used by the Predictor, which decodes only when asked for a distribution.
   */
  forwardHidden(ids: Tensor<'int32'>, state?: LMState): { output: Tensor; state: LMState } {
    const { x, h, state: next } = this.run(ids, state);
    const [T, B] = ids.shape as [number, number];
    const c = this.config, H = c.hiddenSize;
    if (!c.directConnections) return { output: h.view([T, B, H]), state: next };
    const D = c.contextSize * c.embeddingDim, F = H + D, N = T * B;
    const features = this.buffer('features', [T, B, F]);
    const fv = features.data, hv = h.data, xv = x.data;
    for (let r = 0; r < N; r++) {
      fv.set(hv.subarray(r * H, (r + 1) * H), r * F);
      fv.set(xv.subarray(r * D, (r + 1) * D), r * F + H);
    }
    return { output: features, state: next };
  }

  /** The output layer: features (N, F) from forwardHidden → logits (N, V) (a model buffer). */
  decode(hidden: Tensor): Tensor {
    this.runtime.check(hidden, 'WindowLanguageModel.decode: hidden');
    const F = this.featureSize;
    if (hidden.shape.length !== 2 || hidden.shape[1] !== F) {
      throw new ShapeError(`WindowLanguageModel.decode: hidden must have shape [N, ${F}] (featureSize), got [${hidden.shape.join(', ')}]`);
    }
    return this.logits(hidden, F, hidden, F, hidden.shape[0]!, this.config.hiddenSize);
  }

  /**
   * Backpropagation through the last forward: given dL/dlogits (T·B, V),
   * accumulates the gradients of every parameter (zeroGrad() clears them).
   * Nothing flows into the state (token ids).
   */
  backward(dlogits: Tensor): void {
    const kept = this.kept;
    if (!kept) throw new MnemoError('WindowLanguageModel.backward: call forward first');
    const rt = this.runtime, k = rt.kernels, c = this.config;
    const { n: N, x, a, h } = kept;
    const V = c.vocabSize, H = c.hiddenSize, D = c.contextSize * c.embeddingDim;
    rt.check(dlogits, 'WindowLanguageModel.backward: dlogits');
    if (dlogits.shape.length !== 2 || dlogits.shape[0] !== N || dlogits.shape[1] !== V) {
      throw new ShapeError(`WindowLanguageModel.backward: dlogits must have shape [${N}, ${V}], got [${dlogits.shape.join(', ')}]`);
    }
    const dl = dlogits.offset, work = rt.gemmWork;
    const Wdec = this.decoder.weight, bdec = this.decoder.bias!;
    // Output layer: dh (N, H) = dl·Wdec; dWdec += dlᵀ·h; dbdec += Σ rows dl; dWdir += dlᵀ·x.
    const dh = this.buffer('gradHidden', [N, H]);
    k.gemm_nn(N, H, V, 1, dl, V, Wdec.value.offset, H, 0, dh.offset, H, work);
    k.gemm_tn(V, H, N, 1, dl, V, h.offset, H, 1, Wdec.grad.offset, H, work);
    k.bias_grad_rows(dl, V, bdec.grad.offset, N, V);
    if (this.direct) k.gemm_tn(V, D, N, 1, dl, V, x.offset, D, 1, this.direct.weight.grad.offset, D, work);
    // Hidden layer: through the dropout, then tanh' = 1 − a² (a: the tanh output, kept in place).
    const da = this.hiddenDrop.backward(dh);
    k.tanh_backward(a.offset, da.offset, da.offset, N * H);
    const dx = this.hidden.backward(da); // (N, D)
    if (this.direct) k.gemm_nn(N, D, V, 1, dl, V, this.direct.weight.value.offset, D, 1, dx.offset, D, work);
    this.encoder.backward(this.embeddingDrop.backward(dx).view([N, c.contextSize, c.embeddingDim]));
  }

  /**
   * One training step's forward and backward: the mean cross-entropy of
   * `targets` (T·B, int32; −100 is ignored) under forward(ids, state), its
   * gradients accumulated into the parameters. Returns the loss and the state.
   */
  lossAndBackward(ids: Tensor<'int32'>, targets: Tensor<'int32'>, state?: LMState): { loss: number; state: LMState } {
    const { logits, state: next } = this.forward(ids, state);
    const loss = this.lossFn.forward(logits, targets);
    this.backward(this.lossFn.backward(1, { inPlace: true }));
    return { loss, state: next };
  }

  /** The zero state (no history) for `batch` streams: h (1, batch, C), new tensors the caller owns. */
  initState(batch: number): LMState {
    if (!Number.isInteger(batch) || batch < 1) throw new ShapeError(`WindowLanguageModel.initState: batch must be a positive integer, got ${batch}`);
    return { h: this.runtime.zeros([1, batch, this.config.contextSize]) };
  }

  /** A copy of `state` the caller owns: into `into` when given (same shape), else into new tensors. */
  detachState(state: LMState, into?: LMState): LMState {
    this.checkState(state, state.h.shape[1]!, 'detachState: state');
    const out = into ?? this.initState(state.h.shape[1]!);
    if (out.h.shape.join() !== state.h.shape.join()) {
      throw new ShapeError(`WindowLanguageModel.detachState: state.h is [${state.h.shape.join(', ')}] but the target is [${out.h.shape.join(', ')}]`);
    }
    if (out.h.offset !== state.h.offset) out.h.data.set(state.h.data);
    return out;
  }

  /** Where the dropout masks are: save with a checkpoint, restore with setDropoutState(). */
  getDropoutState(): WindowLMDropoutState {
    return { embedding: this.embeddingDrop.counter, hidden: this.hiddenDrop.counter };
  }

  /** Restores getDropoutState(). */
  setDropoutState(s: WindowLMDropoutState): void {
    for (const key of ['embedding', 'hidden'] as const) {
      const v = s[key];
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ShapeError(`setDropoutState: ${key} must be a u32, got ${v}`);
    }
    this.embeddingDrop.counter = s.embedding;
    this.hiddenDrop.counter = s.hidden;
  }

  // -------------------------------------------------------------------------

  private checkState(state: LMState, batch: number, what: string): void {
    const C = this.config.contextSize;
    this.runtime.check(state.h, `WindowLanguageModel.${what}.h`);
    if (state.c !== undefined) throw new ShapeError(`WindowLanguageModel.${what}: a window model's state has no c`);
    const s = state.h.shape;
    if (s.length !== 3 || s[0] !== 1 || s[1] !== batch || s[2] !== C) {
      throw new ShapeError(`WindowLanguageModel.${what}.h must have shape [1, ${batch}, ${C}] (1, batch, contextSize), got [${s.join(', ')}]`);
    }
  }

  /** The shared forward: the contexts, the embeddings x (N, C·m) and the hidden layer h (N, H), and the next state. */
  private run(ids: Tensor<'int32'>, state: LMState | undefined): { x: Tensor; h: Tensor; state: LMState } {
    const rt = this.runtime, c = this.config, C = c.contextSize, V = c.vocabSize;
    rt.check(ids, 'WindowLanguageModel.forward: ids', 'int32');
    if (ids.shape.length !== 2 || ids.size === 0) {
      throw new ShapeError(`WindowLanguageModel.forward: ids must be a non-empty (T, B) int32 tensor, got [${ids.shape.join(', ')}]`);
    }
    const [T, B] = ids.shape as [number, number];
    const N = T * B;
    this.kept = null;
    // The history, read before anything is written (the caller may pass our own state buffer).
    let hist: Float32Array;
    if (state) {
      this.checkState(state, B, 'forward: state');
      hist = state.h.toArray();
      for (let i = 0; i < hist.length; i++) {
        const v = hist[i]!;
        if (!Number.isInteger(v) || v < 0 || v > V) {
          throw new ShapeError(`WindowLanguageModel.forward: state.h[${i}] = ${v} is not a token id + 1 in [0, ${V}] (0 = no token)`);
        }
      }
    } else hist = new Float32Array(B * C);
    const idv = ids.data;
    for (let i = 0; i < N; i++) {
      const id = idv[i]!;
      if (id < 0 || id >= V) throw new ShapeError(`WindowLanguageModel.forward: token id ${id} at index ${i} is out of range [0, ${V})`);
    }
    // Contexts (N, C), oldest first: position p of stream b is ids[p, b] for p ≥ 0, the history for p < 0.
    const ctx = this.buffer('context', [N, C], 'int32');
    const cv = ctx.data;
    for (let b = 0; b < B; b++) {
      let first = idv[b]!; // a missing token takes the stream's first one
      for (let j = 0; j < C; j++) if (hist[b * C + j]! > 0) { first = hist[b * C + j]! - 1; break; }
      for (let t = 0; t < T; t++) {
        const row = (t * B + b) * C;
        for (let j = 0; j < C; j++) {
          const p = t - (C - 1) + j;
          const h = p >= 0 ? idv[p * B + b]! + 1 : hist[b * C + C + p]!;
          cv[row + j] = h > 0 ? h - 1 : first;
        }
      }
    }
    const next = this.buffer('state', [1, B, C]);
    const nv = next.data;
    for (let b = 0; b < B; b++) {
      for (let j = 0; j < C; j++) {
        const p = T - C + j;
        nv[b * C + j] = p >= 0 ? idv[p * B + b]! + 1 : hist[b * C + C + p]!;
      }
    }
    const D = C * c.embeddingDim;
    const x = this.embeddingDrop.forward(this.encoder.forward(ctx).view([N, D]));
    const a = this.hidden.forward(x); // (N, H), then tanh in place
    rt.kernels.vec_tanh(a.offset, a.offset, a.size);
    const h = this.hiddenDrop.forward(a);
    this.kept = { n: N, x, a, h };
    return { x, h, state: { h: next } };
  }

  /**
   * logits (N, V) = h·Wdecᵀ + bdec [+ x·Wdirᵀ], reading h (N, H) with row stride
   * ldh and x (N, C·m) with row stride ldx (x starting `xOffset` floats into its tensor).
   */
  private logits(h: Tensor, ldh: number, x: Tensor, ldx: number, N: number, xOffset = 0): Tensor {
    const rt = this.runtime, k = rt.kernels, c = this.config;
    const V = c.vocabSize, H = c.hiddenSize, D = c.contextSize * c.embeddingDim;
    const out = this.buffer('logits', [N, V]);
    k.gemm_nt(N, V, H, 1, h.offset, ldh, this.decoder.weight.value.offset, H, 0, out.offset, V, rt.gemmWork);
    k.bias_add_rows(out.offset, V, this.decoder.bias!.value.offset, N, V);
    if (this.direct) {
      k.gemm_nt(N, V, D, 1, x.offset + 4 * xOffset, ldx, this.direct.weight.value.offset, D, 1, out.offset, V, rt.gemmWork);
    }
    return out;
  }
}

/**
 * Fills in the defaults and validates `options`; throws ShapeError (sizes) or
 * MnemoError (other options) naming the option. Used by the constructor and by
 * loadModel on the config of a file.
 */
export function normalizeWindowConfig(options: WindowLMOptions): WindowLMConfig {
  const who = 'WindowLanguageModel';
  if (typeof options !== 'object' || options === null) throw new MnemoError(`${who}: options must be an object`);
  const int = (v: unknown, name: string, max = 2 ** 31 - 1): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new ShapeError(`${who}: ${name} must be an integer in [1, ${max}], got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const prob = (v: unknown, name: string): number => {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new MnemoError(`${who}: ${name} must be a number in [0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (v: unknown, name: string): boolean => {
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw new MnemoError(`${who}: ${name} must be a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  if (options.model !== undefined && options.model !== 'window') {
    throw new MnemoError(`${who}: model must be 'window', got ${JSON.stringify(options.model)}`);
  }
  const config: WindowLMConfig = {
    model: 'window',
    vocabSize: int(options.vocabSize, 'vocabSize', MAX_VOCAB),
    contextSize: int(options.contextSize, 'contextSize', MAX_CONTEXT),
    embeddingDim: int(options.embeddingDim, 'embeddingDim'),
    hiddenSize: int(options.hiddenSize, 'hiddenSize'),
    directConnections: bool(options.directConnections, 'directConnections'),
    embeddingDropout: prob(options.embeddingDropout, 'embeddingDropout'),
    hiddenDropout: prob(options.hiddenDropout, 'hiddenDropout'),
    tieWeights: bool(options.tieWeights, 'tieWeights'),
    seed: 0,
  };
  if (config.tieWeights && config.embeddingDim !== config.hiddenSize) {
    throw new ShapeError(`${who}: tieWeights needs embeddingDim === hiddenSize, got ${config.embeddingDim} and ${config.hiddenSize}`);
  }
  if (config.contextSize * config.embeddingDim > 2 ** 31 - 1) {
    throw new ShapeError(`${who}: contextSize × embeddingDim = ${config.contextSize * config.embeddingDim} is too large`);
  }
  const seed = options.seed ?? nextDefaultSeed();
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < -(2 ** 31) || seed > 0xffffffff) {
    throw new MnemoError(`${who}: seed must be a 32-bit integer, got ${JSON.stringify(seed)}`);
  }
  config.seed = seed >>> 0;
  return config;
}

/** The state_dict names and shapes of a window model with this config, in order (decoder.weight left out when tied). */
export function windowParameterShapes(config: WindowLMConfig): [string, number[]][] {
  const { vocabSize: V, contextSize: C, embeddingDim: m, hiddenSize: H } = config;
  const out: [string, number[]][] = [['encoder.weight', [V, m]], ['hidden.weight', [H, C * m]], ['hidden.bias', [H]]];
  if (!config.tieWeights) out.push(['decoder.weight', [V, H]]);
  out.push(['decoder.bias', [V]]);
  if (config.directConnections) out.push(['direct.weight', [V, C * m]]);
  return out;
}

/** True if a model config (e.g. parsed from a model file) is a window model's: `model: 'window'`. */
export function isWindowConfig(config: unknown): config is WindowLMConfig {
  return typeof config === 'object' && config !== null && (config as { model?: unknown }).model === 'window';
}
