// Perplexity of a language model over a token stream, with the scoring rules
// of the Brown data (../shared/data/brown/README.md): every token of the stream
// is predicted from all the tokens before it, the first one from the start
// context; ln p is taken from a log-softmax over the whole vocabulary (exact,
// no sampling); perplexity = exp(−(1/N) Σ ln p).
//
// Batching, exactly. batchSize: 1 is the definition above: one state carried
// through the whole stream, starting from the start context (zero state, input
// `startToken`). With B > 1 the stream is cut into B contiguous parts, scored
// side by side, each with its own state starting from the start context. At a
// cut the model therefore forgets the history before it. To make that the same
// thing as a sentence start, each cut is moved to the nearest position that
// follows a `startToken` in the stream (within the middle half of its two
// neighbouring parts): there the true previous token IS the start token, and
// the only difference from batchSize 1 is that the state is reset, as if the
// context did not cross that one line break. The result reports the cuts
// (`partStarts`) and how many of them could not be put after a start token
// (`cutsInsideLines`; 0 on text with line ends). For Brown's valid set
// (200,000 tokens, 10,052 lines) the default B = 10 resets the context at 9
// line breaks out of 10,052; use batchSize: 1 for the exact number.
//
// Dynamic evaluation (`adapt`, Krause et al. 2018). The model keeps learning
// from the text it is scoring: each window of `seqLen` tokens is scored first,
// then its loss's gradient moves the weights one RMS-normalized step (Adam
// with beta1 = 0, beta2 = 0.999: RMSprop with bias correction) before the next
// window is scored. Every token is still predicted from the tokens before it
// only, so the result is a proper sequential probability of the stream, like
// an adaptive compressor's; it is not comparable with a static score and is
// reported apart (PerplexityResult.adapted). It needs batchSize 1 (parts side
// by side would learn from each other's later text). The model's weights are
// restored afterwards: evaluation never changes the model.
//
// Interpolation with an n-gram model (`mix`). Each token's probability is
// (1 − λ)·p_model + λ·p_ngram, with the n-gram model scoring the same stream
// by its own rules (each line from `<s>`). λ is not tuned on the text: it
// starts at 0.25 and is learnt as the text is scored, like the weights of an
// adaptive compressor's mixer. There is one λ for each quarter of the n-gram
// model's confidence (the highest probability it gives any token in that
// context: [0, .25), [.25, .5), [.5, .75), [.75, 1]), since an n-gram model that
// has seen a long context often is worth more there; after each token, its
// λ moves 2 % of the way to that token's posterior weight λ·p_ngram / p (one
// online EM step). Each token is still scored before anything learns from it,
// so the result is a proper probability of the stream. On the KJV valid text
// the character LSTM and a 16-gram together score 3–5 % fewer bits than the
// LSTM alone (README). The n-gram model must have the same vocabulary.

import { MnemoError, NonFiniteOutputError, ShapeError } from '../errors.js';
import { CrossEntropyLoss } from '../nn/loss.js';
import { Adam } from '../optim/adam.js';
import type { NgramLM } from '../ngram/model.js';
import type { Tensor } from '../tensor.js';
import type { LanguageModel } from './language-model.js';
import type { LMState } from './model.js';
import type { Tokenizer } from './tokenizer.js';

/** Options of perplexity(). */
export interface PerplexityOptions {
  /** The start context: the input that predicts the first token (and each part's first; see above). The eos id ('</s>' or '\n'). */
  startToken: number;
  /** Parts scored side by side (default 10); 1 = the exact definition. */
  batchSize?: number;
  /** Steps per forward call (default 35): only speed and memory depend on it, not the result. */
  seqLen?: number;
  /** Called after each window with the number of tokens scored so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Dynamic evaluation (see the file comment): the learning rate of the
   * RMS-normalized step taken after each window (2e-4 suits character
   * models). With it, batchSize must be 1 (its default then) and seqLen
   * (default 20 then) is the adaptation window, so it changes the result.
   */
  adapt?: { lr: number };
  /**
   * Interpolation with an n-gram model (see the file comment): `ngram` and the
   * `tokenizer` that made the stream, whose vocabulary it must have.
   */
  mix?: { ngram: NgramLM; tokenizer: Tokenizer };
}

/** What perplexity() returns. */
export interface PerplexityResult {
  /** exp(nll). */
  ppl: number;
  /** Mean negative log-likelihood per token, in nats. */
  nll: number;
  /** Tokens predicted: the stream's length. */
  tokens: number;
  /** nll / ln 2: bits per token (bits per character for a character model). */
  bitsPerToken: number;
  /** Parts actually used (≤ batchSize; fewer on a very short stream). */
  batchSize: number;
  /** Where each part starts in the stream (the first is 0); the state restarts from the start context there. */
  partStarts: number[];
  /** Cuts (part starts after the first) that do not follow a startToken in the stream. */
  cutsInsideLines: number;
  /** True when scored with dynamic evaluation (options.adapt). */
  adapted: boolean;
  /** With options.mix: the mean n-gram weight λ over the tokens (see the file comment). */
  ngramWeight?: number;
}

const IGNORE = -100;

/**
 * Perplexity of `model` on `stream` (token ids), in evaluation mode (no
 * dropout; the model's mode is restored afterwards). See the file comment for
 * what batchSize > 1 changes.
 */
export function perplexity(model: LanguageModel, stream: Int32Array, options: PerplexityOptions): PerplexityResult {
  const V = model.config.vocabSize;
  const { startToken } = options;
  const { adapt } = options;
  const batchSize = options.batchSize ?? (adapt ? 1 : 10), seqLen = options.seqLen ?? (adapt ? 20 : 35);
  if (!(stream instanceof Int32Array)) throw new ShapeError('perplexity: stream must be an Int32Array of token ids');
  if (stream.length === 0) throw new ShapeError('perplexity: the stream is empty');
  if (!Number.isInteger(startToken) || startToken < 0 || startToken >= V) {
    throw new ShapeError(`perplexity: startToken must be a token id in [0, ${V}), got ${startToken}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new MnemoError(`perplexity: batchSize must be a positive integer, got ${batchSize}`);
  if (!Number.isInteger(seqLen) || seqLen < 1) throw new MnemoError(`perplexity: seqLen must be a positive integer, got ${seqLen}`);
  if (adapt !== undefined) {
    if (typeof adapt !== 'object' || adapt === null || typeof adapt.lr !== 'number' || !(adapt.lr > 0) || !Number.isFinite(adapt.lr)) {
      throw new MnemoError(`perplexity: adapt.lr must be a finite number > 0, got ${String((adapt as { lr?: unknown } | null)?.lr)}`);
    }
    if (batchSize !== 1) throw new MnemoError(`perplexity: adapt (dynamic evaluation) needs batchSize 1, got ${batchSize}: parts side by side would learn from each other's later text`);
  }
  for (let i = 0; i < stream.length; i++) {
    const id = stream[i]!;
    if (id < 0 || id >= V) throw new ShapeError(`perplexity: token id ${id} at position ${i} is out of range [0, ${V})`);
  }
  const mix = options.mix === undefined ? undefined : checkMix(options.mix, V);

  const partStarts = cutStream(stream, batchSize, startToken);
  const B = partStarts.length, N = stream.length;
  const ends = partStarts.map((_, b) => partStarts[b + 1] ?? N);
  const longest = Math.max(...partStarts.map((s, b) => ends[b]! - s));
  let cutsInsideLines = 0;
  for (let b = 1; b < B; b++) if (stream[partStarts[b]! - 1] !== startToken) cutsInsideLines++;

  const rt = model.runtime;
  const wasTraining = model.training;
  const lossFn = new CrossEntropyLoss(rt, { reduction: 'sum', ignoreIndex: IGNORE });
  const state = model.initState(B);
  const window: { ids?: Tensor<'int32'>; targets?: Tensor<'int32'> } = {}; // reused while T is the same
  let total = 0; // Σ −ln p, f64
  const tokenLoss = mix ? new Float64Array(N) : undefined; // −ln p_model of each token, for the mixture
  let rowLoss = new Float64Array(0);
  let done = 0;
  // Dynamic evaluation: the weights as they were (restored in `finally`) and the optimizer.
  const params = adapt ? model.parameters() : [];
  const saved = params.map((p) => p.value.data.slice());
  let opt: Adam | undefined;
  try {
    model.eval();
    if (adapt) opt = new Adam(params, { lr: adapt.lr, betas: [0, 0.999] });
    for (let w = 0; w < longest; w += seqLen) {
      const T = Math.min(seqLen, longest - w);
      if (window.ids?.shape[0] !== T) {
        window.ids?.dispose(); window.targets?.dispose();
        window.ids = rt.intTensor([T, B]);
        window.targets = rt.intTensor([T * B]);
      }
      const ids = window.ids, targets = window.targets!;
      const idv = ids.data, tv = targets.data;
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) {
          const p = partStarts[b]! + w + t, row = t * B + b;
          if (p < ends[b]!) {
            idv[row] = p === partStarts[b] ? startToken : stream[p - 1]!;
            tv[row] = stream[p]!;
            done++;
          } else { // past the end of a shorter part: padding, not scored
            idv[row] = startToken;
            tv[row] = IGNORE;
          }
        }
      }
      opt?.zeroGrad();
      const r = model.forward(ids, state);
      total += lossFn.forward(r.logits, targets);
      if (tokenLoss) { // row t·B + b is position partStarts[b] + w + t
        lossFn.rowLosses(rowLoss.length === T * B ? rowLoss : (rowLoss = new Float64Array(T * B)));
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < B; b++) if (tv[t * B + b] !== IGNORE) tokenLoss[partStarts[b]! + w + t] = rowLoss[t * B + b]!;
        }
      }
      if (opt) model.backward(lossFn.backward(1 / T, { inPlace: true })); // B = 1: the mean over the window's T tokens
      const next = r.state;
      if (Number.isNaN(total) || total === Infinity) {
        throw new NonFiniteOutputError(`perplexity: the loss of the window at position ${w} is ${total}: `
          + (opt ? `the adapted weights diverged: use a smaller adapt.lr than ${adapt!.lr}` : 'the model\'s weights overflow float32 on this text'));
      }
      model.detachState(next, state);
      opt?.step();
      options.onProgress?.(done, N);
    }
  } finally {
    opt?.dispose();
    params.forEach((p, i) => p.value.data.set(saved[i]!));
    window.ids?.dispose(); window.targets?.dispose();
    state.h.dispose(); state.c?.dispose();
    lossFn.dispose();
    model.train(wasTraining);
  }
  let ngramWeight: number | undefined;
  if (mix) ({ total, ngramWeight } = interpolate(tokenLoss!, mix.tokenScores(stream, { maxProb: true })));
  const nll = total / N;
  const result: PerplexityResult = { ppl: Math.exp(nll), nll, tokens: N, bitsPerToken: nll / Math.LN2, batchSize: B, partStarts, cutsInsideLines, adapted: opt !== undefined };
  if (ngramWeight !== undefined) result.ngramWeight = ngramWeight;
  return result;
}

/** Checks options.mix: an n-gram model with the tokenizer's vocabulary (the same tokens, in the same order). */
function checkMix(mix: { ngram: NgramLM; tokenizer: Tokenizer }, V: number): NgramLM {
  const { ngram, tokenizer } = (mix ?? {}) as Partial<typeof mix>;
  if (typeof ngram?.tokenScores !== 'function') throw new MnemoError('perplexity: mix.ngram must be an NgramLM');
  if (typeof tokenizer?.encode !== 'function') throw new MnemoError('perplexity: mix.tokenizer must be the Tokenizer that made the stream');
  if (!ngram.isDistribution) throw new MnemoError(`perplexity: mix.ngram uses smoothing '${ngram.smoothing}', which gives scores, not probabilities`);
  const mine = tokenizer.vocab.tokens, its = ngram.vocab.tokens;
  if (mine.length !== V) throw new MnemoError(`perplexity: mix.tokenizer has ${mine.length} tokens, the model ${V}`);
  if (tokenizer.level !== ngram.tokenizer.level) {
    throw new MnemoError(`perplexity: the n-gram model is ${ngram.tokenizer.level}-level and the model ${tokenizer.level}-level`);
  }
  if (its.length !== V) throw new MnemoError(`perplexity: the n-gram model has a vocabulary of ${its.length} tokens, the model ${V}: they must be the same`);
  for (let i = 0; i < V; i++) {
    if (mine[i] !== its[i]) {
      throw new MnemoError(`perplexity: the n-gram model's vocabulary differs from the model's at id ${i} `
        + `(${JSON.stringify(its[i])} vs ${JSON.stringify(mine[i])}): train it on the same text with the same tokenizer options`);
    }
  }
  return ngram;
}

/** The mixture of the file comment: Σ −ln((1 − λ)·p_model + λ·p_ngram) over the tokens, and the mean λ. */
function interpolate(modelLoss: Float64Array, ngram: { logProb: Float64Array; maxProb?: Float64Array }): { total: number; ngramWeight: number } {
  const lambda = [0.25, 0.25, 0.25, 0.25], RATE = 0.02, { logProb, maxProb } = ngram;
  let total = 0, sumLambda = 0;
  for (let i = 0; i < modelLoss.length; i++) {
    const q = Math.min(3, Math.floor(maxProb![i]! * 4));
    const l = lambda[q]!, pm = Math.exp(-modelLoss[i]!), pn = Math.exp(logProb[i]!);
    const p = (1 - l) * pm + l * pn;
    total -= Math.log(p);
    sumLambda += l;
    lambda[q] = Math.min(0.999, Math.max(0.001, l + RATE * ((l * pn) / p - l)));
  }
  return { total, ngramWeight: sumLambda / modelLoss.length };
}

/**
 * Part starts for B parts of a stream of N tokens: the even cuts k·N/B, each
 * moved to the nearest position p with stream[p − 1] === startToken within a
 * quarter of a part's length on either side (ties: the earlier one). Parts
 * are never empty; a short stream gets fewer parts.
 */
export function cutStream(stream: Int32Array, batchSize: number, startToken: number): number[] {
  const N = stream.length, B = Math.min(batchSize, N);
  const starts = [0];
  const reach = Math.floor(N / B / 4);
  for (let k = 1; k < B; k++) {
    const ideal = Math.round((k * N) / B);
    let cut = ideal;
    for (let d = 0; d <= reach; d++) {
      if (ideal - d > 0 && stream[ideal - d - 1] === startToken) { cut = ideal - d; break; }
      if (ideal + d < N && stream[ideal + d - 1] === startToken) { cut = ideal + d; break; }
    }
    if (cut > starts[starts.length - 1]! && cut < N) starts.push(cut);
  }
  return starts;
}
