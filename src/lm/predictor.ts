// A stateful next-token predictor over a trained language model (RNNLanguageModel,
// WindowLanguageModel): feed tokens one at a time (O(1) each: one T = 1, B = 1
// step of the recurrent layers or the window's hidden layer, no vocabulary-sized work), ask for the next-token distribution when needed
// (the decoder, one gemv over V×H, and a log-softmax), and sample text.
//
// The start context, as in perplexity(): a zero state that has read the end-
// of-line token (the tokenizer's eos: '</s>' or '\n'). reset() puts the
// predictor there; everything fed afterwards is the context.

import { MnemoError, NonFiniteOutputError, ShapeError } from '../errors.js';
import { Random } from '../random.js';
import type { Tensor } from '../tensor.js';
import type { LanguageModel } from './language-model.js';
import type { LMState } from './model.js';
import { encodeContext, type Tokenizer } from './tokenizer.js';

/** One candidate next token. */
export interface Prediction {
  token: string;
  id: number;
  /** p(token | context), over the whole vocabulary. */
  prob: number;
}

/** Options of predictNext(). */
export interface PredictOptions {
  /** How many candidates, most probable first (default 10). */
  topK?: number;
  /** Only tokens that start with this string (completing a partly typed word); probabilities are not renormalised. */
  prefix?: string;
}

/** Options of predictNextText(). */
export interface PredictTextOptions extends PredictOptions {
  /**
   * Word level: when the text does not end in white space, treat its last word
   * as unfinished: it is not fed, and it becomes the `prefix` (default false).
   */
  partial?: boolean;
}

/** Options of generate(). */
export interface GenerateOptions {
  /** Tokens to generate (default 50). */
  maxTokens?: number;
  /** Sampling temperature > 0 (default 1): p ∝ p_model^(1/temperature). */
  temperature?: number;
  /** Sample only among the k most probable tokens (default: all). */
  topK?: number;
  /** Nucleus sampling: only the smallest set of most probable tokens whose mass reaches topP, 0 < topP ≤ 1 (default 1). */
  topP?: number;
  /** Seed of the sampling (default 0): the same seed, model and prompt give the same text. */
  seed?: number;
  /** Stop after the first end-of-line token (default false). */
  stopAtEos?: boolean;
}

/** Snapshots kept for rewinding predictNextText() by a few tokens (an edited last word). */
const REWIND = 32;
/**
 * Ids kept as they are: at most 2·KEEP, then the oldest are folded into a hash
 * of the prefix, so a predictor fed for days holds bounded memory.
 */
const KEEP = 16384;

interface Snapshot { h: Float32Array; c?: Float32Array; top: Float32Array }

/**
 * Next-token prediction and generation. Holds its own state (not the model's
 * buffers), so it may be used between training steps or evaluations of the
 * same model; each call runs the model in evaluation mode and restores its mode.
 */
export class Predictor {
  private readonly ids: Tensor<'int32'>;
  private readonly state: LMState;
  /** The last layer's output after the last token fed: (1, F), the decoder's input (allocated by the first step). */
  private top: Tensor | null = null;
  /** log p(· | context) over V, computed on demand after a feed. */
  private readonly logProbs: Float32Array;
  private logProbsValid = false;
  /** The ids fed since the reset, from position `forgotten` on. */
  private readonly fed: number[] = [];
  /** How many ids fed since the reset were dropped from `fed`, and their 64-bit hash (two 32-bit lanes). */
  private forgotten = 0;
  private forgottenHash: [number, number] = HASH_START;
  /** snapshots.get(n): the state after the first n tokens fed (n ≥ fed length − REWIND, and n = 0). */
  private readonly snapshots = new Map<number, Snapshot>();

  constructor(readonly model: LanguageModel, readonly tokenizer: Tokenizer) {
    const V = model.config.vocabSize;
    if (tokenizer.vocab.size !== V) {
      throw new ShapeError(`Predictor: the tokenizer has ${tokenizer.vocab.size} tokens but the model's vocabulary is ${V}`);
    }
    const rt = model.runtime;
    this.logProbs = new Float32Array(V);
    // A construction that fails halfway (OutOfMemoryError) frees what it allocated.
    const built = rt.track();
    try {
      this.ids = rt.intTensor([1, 1]);
      this.state = model.initState(1);
      this.reset();
    } catch (e) {
      built.end(false);
      throw e;
    }
    built.end(true);
  }

  /**
   * Ids fed since the last reset (the start context not included): all of
   * them up to 32,768; past that, at least the last 16,384 (the older ones are
   * kept only as a hash, which predictNextText() compares).
   */
  get context(): readonly number[] {
    return this.fed;
  }

  /** Back to the start context: zero state, then the end-of-line token read. */
  reset(): void {
    this.state.h.data.fill(0);
    this.state.c?.data.fill(0);
    this.fed.length = 0;
    this.forgotten = 0;
    this.forgottenHash = HASH_START;
    this.snapshots.clear();
    this.step(this.tokenizer.eos);
    this.snapshots.set(0, this.snapshot());
  }

  /**
   * Advances the state by one token (a token string, mapped to '<unk>' when it
   * is not in the vocabulary, or an id). One recurrent step: O(L·H·(E + H)),
   * independent of the vocabulary size; the distribution is computed only when
   * asked for.
   */
  feed(token: string | number): void {
    const id = this.idOf(token);
    this.step(id);
    this.fed.push(id);
    const n = this.forgotten + this.fed.length;
    this.snapshots.set(n, this.snapshot());
    const old = n - REWIND - 1;
    if (old > 0) this.snapshots.delete(old); // 0, the start context, stays
    if (this.fed.length > 2 * KEEP) {
      // Fold the oldest into the hash (amortised O(1) per token).
      this.forgottenHash = hashIds(this.forgottenHash, this.fed, 0, KEEP);
      this.fed.splice(0, KEEP);
      this.forgotten += KEEP;
    }
  }

  /** The most probable next tokens from the current state, most probable first (ties: lower id first). */
  predictNext(options: PredictOptions = {}): Prediction[] {
    const topK = checkTopK(options.topK ?? 10, 'predictNext');
    const prefix = options.prefix;
    if (prefix !== undefined && typeof prefix !== 'string') throw new MnemoError(`predictNext: prefix must be a string, got ${typeof prefix}`);
    const lp = this.distribution();
    const vocab = this.tokenizer.vocab.tokens;
    const keep = prefix ? (id: number) => vocab[id]!.startsWith(prefix) : undefined;
    return topIds(lp, topK, keep).map((id) => ({ token: vocab[id]!, id, prob: Math.exp(lp[id]!) }));
  }

  /**
   * The next-token candidates after `text` (tokenized by the tokenizer; at word
   * level the '</s>' a line gets is kept only when the text really ends a line).
   * The context is the text alone, from the start context: as reset() + feed()
   * of its tokens + predictNext(), but incremental: when the text extends the
   * tokens already fed, only the new tokens are fed, and when it changes one of
   * the last 32 tokens (an edited word), the state rewinds to before the change.
   * An editor can therefore call it with the whole text on every keystroke.
   */
  predictNextText(text: string, options: PredictTextOptions = {}): Prediction[] {
    const { ids, partial } = this.encodeContext(text, options.partial ?? false);
    this.syncTo(ids);
    const prefix = options.prefix ?? partial;
    return this.predictNext(prefix === undefined ? { topK: options.topK } : { topK: options.topK, prefix });
  }

  /**
   * Samples a continuation of `prompt` (its tokens become the context, as in
   * predictNextText) and returns the generated tokens decoded as text (the
   * prompt not included; word level: tokens joined by spaces, '</s>' → '\n').
   * Afterwards the predictor's context is the prompt plus the generated tokens.
   */
  generate(prompt: string, options: GenerateOptions = {}): string {
    const { maxTokens, temperature, topK, topP, seed } = generateOptions(options);
    this.syncTo(this.encodeContext(prompt, false).ids);
    const rng = new Random(seed);
    const out: number[] = [];
    for (let i = 0; i < maxTokens; i++) {
      const id = sample(this.distribution(), temperature, topK, topP, rng);
      this.feed(id);
      out.push(id);
      if (options.stopAtEos && id === this.tokenizer.eos) break;
    }
    return this.tokenizer.decode(out);
  }

  /** A copy of log p(· | context) over the whole vocabulary (natural log). */
  logProbabilities(): Float32Array {
    return this.distribution().slice();
  }

  /** Frees the predictor's tensors (not the model). */
  dispose(): void {
    this.ids.dispose();
    this.state.h.dispose();
    this.state.c?.dispose();
    this.top?.dispose();
  }

  // -------------------------------------------------------------------------

  private idOf(token: string | number): number {
    const V = this.model.config.vocabSize;
    if (typeof token === 'number') {
      if (!Number.isInteger(token) || token < 0 || token >= V) throw new ShapeError(`Predictor.feed: token id ${token} is out of range [0, ${V})`);
      return token;
    }
    if (typeof token !== 'string') throw new MnemoError(`Predictor.feed: token must be a string or an id, got ${typeof token}`);
    return this.tokenizer.vocab.idOf(token);
  }

  /** One T = 1, B = 1 step from this.state; updates state and top. */
  private step(id: number): void {
    const model = this.model;
    const wasTraining = model.training;
    model.eval();
    try {
      this.ids.data[0] = id;
      const { output, state } = model.forwardHidden(this.ids, this.state);
      model.detachState(state, this.state);
      this.top ??= model.runtime.zeros([1, output.size]);
      this.top.data.set(output.data);
      this.logProbsValid = false;
    } finally {
      model.train(wasTraining);
    }
  }

  private distribution(): Float32Array {
    if (this.logProbsValid) return this.logProbs;
    const model = this.model, rt = model.runtime, V = model.config.vocabSize;
    const wasTraining = model.training;
    let nan = -1;
    model.eval();
    try {
      const logits = model.decode(this.top!); // (1, V), a decoder buffer
      rt.kernels.log_softmax_rows(logits.offset, 1, V, logits.offset);
      this.logProbs.set(logits.data);
      // −∞ is a probability of 0; NaN means the weights overflowed. Σx² (one SIMD pass) is NaN only if an element
      // is (−∞ squares to +∞); which one is looked for only then.
      if (Number.isNaN(rt.kernels.sum_squares(logits.offset, V))) nan = this.logProbs.findIndex((v) => v !== v);
    } finally {
      model.train(wasTraining);
    }
    if (nan >= 0) {
      throw new NonFiniteOutputError(`Predictor: the next-token distribution after ${this.forgotten + this.fed.length} token(s) holds NaN `
        + `(token id ${nan}): the model's weights overflow float32 on this context; reset() to start over`);
    }
    this.logProbsValid = true;
    return this.logProbs;
  }

  private snapshot(): Snapshot {
    const s: Snapshot = { h: this.state.h.toArray(), top: this.top!.toArray() };
    if (this.state.c) s.c = this.state.c.toArray();
    return s;
  }

  private restore(n: number, s: Snapshot): void {
    this.state.h.data.set(s.h);
    if (s.c) this.state.c!.data.set(s.c);
    this.top!.data.set(s.top);
    if (n < this.forgotten) { // only n = 0 (the start context) is kept that far back
      this.forgotten = 0;
      this.forgottenHash = HASH_START;
    }
    this.fed.length = n - this.forgotten;
    for (const k of this.snapshots.keys()) if (k > n) this.snapshots.delete(k);
    this.logProbsValid = false;
  }

  /** Makes the context exactly `ids`, feeding as few tokens as the kept snapshots allow. */
  private syncTo(ids: Int32Array): void {
    const fed = this.fed, f = this.forgotten;
    // The forgotten part of the context must match as a whole (by its hash), the rest id by id.
    const sameStart = f === 0 || (ids.length >= f && sameHash(hashIds(HASH_START, ids, 0, f), this.forgottenHash));
    let common = sameStart ? f : 0;
    if (sameStart) while (common - f < fed.length && common < ids.length && fed[common - f] === ids[common]) common++;
    if (common < f + fed.length) {
      // Rewind to the longest kept prefix ≤ common (0, the start context, is always kept).
      let n = 0;
      for (const k of this.snapshots.keys()) if (k <= common && k > n) n = k;
      this.restore(n, this.snapshots.get(n)!);
      common = n;
    }
    for (let i = common; i < ids.length; i++) this.feed(ids[i]!);
  }

  /** The ids of `text` as a context, and the unfinished last word when `partial` applies. */
  private encodeContext(text: string, partial: boolean): { ids: Int32Array; partial?: string } {
    if (typeof text !== 'string') throw new MnemoError(`Predictor: text must be a string, got ${typeof text}`);
    return encodeContext(this.tokenizer, text, partial);
  }

}

/** The hash of the empty id sequence. */
const HASH_START: [number, number] = [0x811c9dc5, 0x2545f491];

/**
 * Continues hash `h` over ids[from..to): two independent 32-bit lanes (FNV-1a
 * over whole ids, and a multiply-xorshift), about 2⁻⁶⁴ odds that two different
 * sequences share a hash.
 */
function hashIds(h: [number, number], ids: ArrayLike<number>, from: number, to: number): [number, number] {
  let a = h[0], b = h[1];
  for (let i = from; i < to; i++) {
    const x = ids[i]!;
    a = Math.imul(a ^ x, 0x01000193);
    b = Math.imul(b ^ (x + 0x9e3779b9), 0x85ebca6b);
    b ^= b >>> 13;
  }
  return [a, b];
}

function sameHash(x: [number, number], y: [number, number]): boolean {
  return x[0] === y[0] && x[1] === y[1];
}

function checkTopK(k: unknown, what: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw new MnemoError(`${what}: topK must be an integer ≥ 1, got ${String(k)}`);
  return k;
}

/** The ids of the k largest values (descending, ties by lower id), optionally only those `keep` accepts. */
export function topIds(values: ArrayLike<number>, k: number, keep?: (id: number) => boolean): number[] {
  // A small sorted list (k is small): insertion, O(V) in the common case where few values enter it.
  // Once it is full, a tight scan skips what cannot enter (on a cold start this runs in V8's
  // interpreter: the fewer operations per value, the better).
  const ids: number[] = [], n = values.length;
  let floor = -Infinity;
  for (let i = 0; i < n; i++) {
    if (ids.length === k) {
      while (i < n && !(values[i]! > floor)) i++;
      if (i === n) break;
    }
    const v = values[i]!;
    if (keep && !keep(i)) continue;
    let j = ids.length;
    while (j > 0 && !(values[ids[j - 1]!]! >= v)) j--;
    ids.splice(j, 0, i);
    if (ids.length > k) ids.pop();
    if (ids.length === k) floor = values[ids[k - 1]!]!;
  }
  return ids;
}

/**
 * Draws one id from p ∝ exp(logp / temperature), restricted to the topK most
 * probable and then to the nucleus of mass topP: the fewest most probable
 * tokens (ties: lower id first) whose renormalised mass reaches topP.
 * Deterministic given rng.
 */
export function sample(logp: Float32Array, temperature: number, topK: number | undefined, topP: number, rng: Random): number {
  const V = logp.length;
  // Candidates: the top k ids, or all.
  let cand: Int32Array;
  if (topK !== undefined && topK < V) cand = Int32Array.from(topIds(logp, topK));
  else {
    cand = new Int32Array(V);
    for (let i = 0; i < V; i++) cand[i] = i;
  }
  const n = cand.length;
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, logp[cand[j]!]!);
  const w = new Float64Array(n);
  let total = 0;
  for (let j = 0; j < n; j++) total += (w[j] = Math.exp((logp[cand[j]!]! - max) / temperature));
  let keep = n; // candidates 0..keep−1 of `order` are sampled from
  let order: Int32Array | null = null;
  if (topP < 1) {
    // The nucleus is a prefix of the candidates sorted by (logp desc, id asc). Find the
    // logp value at which the descending cumulative mass reaches the goal with a native
    // sort of the values, then take every id above it and the tied ones in id order.
    const goal = topP * total;
    const values = new Float32Array(n);
    for (let j = 0; j < n; j++) values[j] = logp[cand[j]!]!;
    values.sort();
    let mass = 0, cut = values[n - 1]!;
    for (let j = n - 1; j >= 0; j--) {
      cut = values[j]!;
      mass += Math.exp((cut - max) / temperature);
      if (mass >= goal) break;
    }
    const above: number[] = [], tied: number[] = [];
    mass = 0;
    for (let j = 0; j < n; j++) {
      const v = logp[cand[j]!]!;
      if (v > cut) { above.push(j); mass += w[j]!; } else if (v === cut) tied.push(j);
    }
    for (const j of tied) { // ids ascending: cand is ascending within equal values
      if (mass >= goal && above.length > 0) break;
      above.push(j);
      mass += w[j]!;
    }
    order = Int32Array.from(above);
    keep = order.length;
    total = mass;
  }
  let r = rng.next() * total, last = -1;
  for (let k = 0; k < keep; k++) {
    const j = order ? order[k]! : k;
    if (w[j]! > 0) { last = j; r -= w[j]!; if (r < 0) return cand[j]!; }
  }
  return cand[last < 0 ? 0 : last]!;
}

/** generate()'s options with their defaults, checked (shared by Predictor and NgramLM). */
export function generateOptions(options: GenerateOptions): { maxTokens: number; temperature: number; topK: number | undefined; topP: number; seed: number } {
  const maxTokens = options.maxTokens ?? 50;
  const temperature = options.temperature ?? 1;
  const topP = options.topP ?? 1;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new MnemoError(`generate: maxTokens must be an integer ≥ 0, got ${maxTokens}`);
  if (typeof temperature !== 'number' || !(temperature > 0) || temperature === Infinity) {
    throw new MnemoError(`generate: temperature must be a finite number > 0, got ${temperature}`);
  }
  const topK = options.topK === undefined ? undefined : checkTopK(options.topK, 'generate');
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1)) throw new MnemoError(`generate: topP must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(seed)) throw new MnemoError(`generate: seed must be an integer, got ${seed}`);
  if (options.stopAtEos !== undefined && typeof options.stopAtEos !== 'boolean') {
    throw new MnemoError(`generate: stopAtEos must be a boolean, got ${typeof options.stopAtEos}`);
  }
  return { maxTokens, temperature, topK, topP, seed };
}
