// NgramLM: a count-based n-gram language model (orders 1..N) with the
// smoothing methods of smoothing.ts, scored on the same footing as the neural
// models (the Brown README's rules): every token of a line is predicted, and
// the `</s>` at its end; each line starts from the context `<s>`, which is
// never predicted and is not in the distribution's support (the vocabulary,
// `<unk>` an ordinary word, `</s>` included).
//
// Sentences: a stream of token ids is cut after each end-of-line token (the
// tokenizer's eos: '</s>', or '\n' for characters); each sentence is counted
// as `<s> w1 … wk </s>`, with every n-gram of order ≤ N that ends at one of its
// tokens (so n-grams may begin at `<s>`, never before it). The context of a
// prediction is the last N − 1 tokens of `<s> w1 … w(i−1)`.
//
// Probabilities are float64 and exact to rounding: for every method but
// stupid backoff they sum to 1 over the vocabulary in every context.

import { FileFormatError, MnemoError, NotADistributionError, ShapeError, ZeroProbabilityError } from '../errors.js';
import { generateOptions, sample, topIds, type GenerateOptions, type Prediction, type PredictTextOptions } from '../lm/predictor.js';
import { encodeContext, WordTokenizer, type Tokenizer, type Vocabulary } from '../lm/tokenizer.js';
import { Random } from '../random.js';
import { readARPA, writeARPA } from './arpa.js';
import { readNgramFile, writeNgramFile } from './file.js';
import {
  AdditiveScorer, BackoffScorer, katzBackoff, KneserNeyScorer, SMOOTHINGS, stupidBackoff,
  type BackoffTables, type Scorer, type Smoothing,
} from './smoothing.js';
import { NgramCounter, type NgramTrie } from './trie.js';

/** How an NgramLM is built: order, smoothing and the smoothing's parameters. */
export interface NgramOptions {
  /** Highest order N ≥ 1 (default 3): the context is the last N − 1 tokens. */
  order?: number;
  /** The smoothing method (default 'kn', interpolated modified Kneser–Ney). */
  smoothing?: Exclude<Smoothing, 'arpa'>;
  /** add: the δ added to every count (default 1, Laplace). */
  delta?: number;
  /** stupid: the factor per order backed off (default 0.4), in (0, 1]. */
  alpha?: number;
  /** katz: counts up to k are Good–Turing discounted (default 5). */
  katzK?: number;
  /** kn: [D1, D2, D3+] for each order 1..N, each D_i in [0, i], instead of the count-of-counts estimates. */
  discounts?: readonly (readonly [number, number, number])[];
}

/** Options of NgramLM.train. */
export interface NgramTrainOptions extends NgramOptions {
  /**
   * The vocabulary and its text rules. Default: WordTokenizer.fit(text) for a
   * string, or over the tokens of the sentences; required with a stream of ids.
   */
  tokenizer?: Tokenizer;
}

/** The configuration of a model, as stored in its file. */
export interface NgramConfig {
  order: number;
  smoothing: Smoothing;
  delta?: number;
  alpha?: number;
  katzK?: number;
  discounts?: [number, number, number][];
}

/**
 * Training or evaluation text: a string (tokenized by the model's tokenizer),
 * a stream of ids with end-of-line tokens between sentences, or sentences as
 * arrays of tokens (without the end token, which is added).
 */
export type NgramData = string | Int32Array | readonly (readonly string[])[];

/**
 * A context: text (tokenized; at word level the '</s>' of its last line is
 * kept only if the text ends with a newline), or tokens (strings or ids). The
 * history restarts after each end-of-line token; the string '<s>' (when it is
 * not a word of the vocabulary) also marks a line start.
 */
export type NgramContext = string | readonly (string | number)[] | Int32Array;

/** Options of perplexity(). */
export interface NgramPerplexityOptions {
  /** Score a model that is not a distribution (stupid backoff) anyway; the result says normalized: false. */
  allowUnnormalized?: boolean;
}

/** What perplexity() returns. */
export interface NgramPerplexityResult {
  /** exp(nll). */
  ppl: number;
  /** Mean negative log-likelihood per token, in nats. */
  nll: number;
  /** Tokens predicted (every token, '</s>' included). */
  tokens: number;
  /** nll / ln 2. */
  bitsPerToken: number;
  /** Lines (sentences) scored; each started from `<s>`. */
  lines: number;
  /** False for stupid backoff scores (then ppl is not a perplexity). */
  normalized: boolean;
}

/** A count-based n-gram language model (see the file comment). */
export class NgramLM {
  readonly config: Readonly<NgramConfig>;
  readonly tokenizer: Tokenizer;
  /** The n-grams and their counts. */
  readonly trie: NgramTrie;
  private readonly scorer: Scorer;
  /**
   * The discounts in use: kn, [D1, D2, D3+] per order 1..N; katz, the
   * Good–Turing ratios [d1, …, dk] per order; null otherwise.
   */
  readonly discounts: number[][] | null;
  /** kn: the orders (1..N) whose count-of-counts gave no valid discounts and took the fallback 0.5, 1, 1.5. */
  readonly fallbackOrders: number[];

  private constructor(trie: NgramTrie, tokenizer: Tokenizer, config: NgramConfig, tables?: BackoffTables) {
    this.trie = trie;
    this.tokenizer = tokenizer;
    this.config = Object.freeze(config);
    this.discounts = null;
    this.fallbackOrders = [];
    switch (config.smoothing) {
      case 'mle': this.scorer = new AdditiveScorer(trie, 0); break;
      case 'add': this.scorer = new AdditiveScorer(trie, config.delta!); break;
      case 'stupid': this.scorer = stupidBackoff(trie, config.alpha!); break;
      case 'katz': {
        const { scorer, discounts } = katzBackoff(trie, config.katzK!);
        this.scorer = scorer;
        this.discounts = discounts.slice(1).map((d) => Array.from(d.subarray(1)));
        break;
      }
      case 'kn': {
        const kn = new KneserNeyScorer(trie, config.discounts);
        this.scorer = kn;
        this.discounts = kn.discounts.slice(1).map((d) => Array.from(d.subarray(1)));
        this.fallbackOrders = kn.fallback.flatMap((f, n) => (f ? [n] : []));
        break;
      }
      case 'arpa': this.scorer = new BackoffScorer(trie, tables!, 1, true); break;
    }
  }

  /**
   * Counts the n-grams of `data` and builds a model (see NgramOptions for the
   * defaults). Sentences are cut after each end-of-line token.
   */
  static train(data: NgramData, options: NgramTrainOptions = {}): NgramLM {
    if (typeof options !== 'object' || options === null) throw new MnemoError('NgramLM.train: options must be an object');
    const config = normalizeNgramConfig(options, 'NgramLM.train');
    const tokenizer = options.tokenizer ?? defaultTokenizer(data);
    checkTokenizer(tokenizer, 'NgramLM.train');
    const stream = encodeData(data, tokenizer, 'NgramLM.train');
    // Each order has at most one n-gram per token: size the tables for that (up to 4M; they grow past it).
    const counter = new NgramCounter(config.order, tokenizer.vocab.size, Math.min(Math.max(1024, stream.length), 1 << 22));
    const eos = tokenizer.eos;
    let start = 0;
    for (let i = 0; i < stream.length; i++) {
      if (stream[i] === eos) { counter.addSentence(stream, start, i + 1); start = i + 1; }
    }
    if (start < stream.length) counter.addSentence(stream, start, stream.length);
    return new NgramLM(counter.build(), tokenizer, config);
  }

  /**
   * Reads a model in the ARPA format (as written by toARPA, KenLM or SRILM):
   * a backoff model that scores and predicts like any other (smoothing 'arpa').
   * Its vocabulary is the unigrams in file order, `<s>` left out; '</s>' must
   * be one, and '<unk>' (if present) is the unknown word. Throws
   * FileFormatError naming the line that is wrong.
   */
  static fromARPA(text: string): NgramLM {
    const { trie, tokens, tables } = readARPA(text);
    const tokenizer = WordTokenizer.fromVocabulary(tokens, { unk: tokens.includes('<unk>') ? '<unk>' : null });
    return new NgramLM(trie, tokenizer, { order: trie.order, smoothing: 'arpa' }, tables);
  }

  /** Reads a model file written by save(). Throws FileFormatError naming what is wrong. */
  static load(bytes: Uint8Array): NgramLM {
    const { trie, tokenizer, config } = readNgramFile(bytes);
    try {
      return new NgramLM(trie, tokenizer, normalizeNgramConfig(config, 'model file: config'));
    } catch (e) {
      if (e instanceof MnemoError && !(e instanceof FileFormatError)) throw new FileFormatError(`ngram model file: ${e.message}`);
      throw e;
    }
  }

  /** The same counts under another smoothing method (the counts are shared, not copied). */
  withSmoothing(smoothing: Exclude<Smoothing, 'arpa'>, options: Omit<NgramOptions, 'order' | 'smoothing'> = {}): NgramLM {
    if (!this.trie.counts) throw new MnemoError('withSmoothing: a model read from ARPA has no counts to smooth');
    const config = normalizeNgramConfig({ ...options, order: this.order, smoothing }, 'withSmoothing');
    return new NgramLM(this.trie, this.tokenizer, config);
  }

  /** The model file: safetensors bytes (counts as int32 tensors; config and tokenizer in __metadata__). */
  save(): Uint8Array {
    if (!this.trie.counts) throw new MnemoError('save: a model read from ARPA has no counts; keep it as ARPA text (toARPA())');
    return writeNgramFile(this.trie, this.tokenizer, this.config);
  }

  /**
   * The model in the ARPA format (log10 probabilities and backoff weights,
   * `<s>`, `</s>`, `<unk>`), which KenLM and SRILM read. Exact for kn (the
   * interpolated model in backoff form), katz and models read from ARPA;
   * numbers are written with all their digits, so reading the text back
   * gives the same probabilities. mle, add and stupid are not backoff
   * distributions and are refused.
   */
  toARPA(): string {
    const tables = this.scorer.backoff();
    if (!tables) {
      throw new MnemoError(`toARPA: smoothing '${this.smoothing}' has no backoff form; ARPA export needs 'kn', 'katz' or a model read from ARPA`);
    }
    return writeARPA(this.trie, this.vocab.tokens, tables);
  }

  /** Highest order N. */
  get order(): number {
    return this.config.order;
  }

  /** The smoothing method. */
  get smoothing(): Smoothing {
    return this.config.smoothing;
  }

  /** The vocabulary (the distribution's support). */
  get vocab(): Vocabulary {
    return this.tokenizer.vocab;
  }

  /** False for stupid backoff, whose scores are not probabilities; true otherwise. */
  get isDistribution(): boolean {
    return this.scorer.normalized;
  }

  /** Distinct n-grams per order 1..N (index 0: order 1); order 1 counts the vocabulary and `<s>`. */
  get ngramCounts(): number[] {
    return this.trie.sizes.slice(1);
  }

  /** Bytes of the typed arrays that hold the model: the trie (words, child ranges, counts) and the smoothing's tables. */
  get byteLength(): number {
    return this.trie.byteLength + this.scorer.byteLength();
  }

  /** p(token | context) (stupid backoff: the score). Throws ZeroProbabilityError when it is undefined (mle, unseen context). */
  prob(context: NgramContext, token: string | number): number {
    const state = this.stateOf(this.contextIds(context, false, 'prob').ids);
    const w = this.tokenId(token, 'prob');
    const p = this.scorer.prob(state.ctx, state.K, w);
    if (p !== p) throw this.zeroError(p, w, state, 'prob');
    return p;
  }

  /** ln p(token | context), natural log. Throws ZeroProbabilityError when p is 0 or undefined. */
  logProb(context: NgramContext, token: string | number): number {
    const state = this.stateOf(this.contextIds(context, false, 'logProb').ids);
    const w = this.tokenId(token, 'logProb');
    const p = this.scorer.prob(state.ctx, state.K, w);
    if (!(p > 0)) throw this.zeroError(p, w, state, 'logProb');
    return Math.log(p);
  }

  /** p(· | context) over the whole vocabulary, by id. Throws ZeroProbabilityError for an unseen context under mle. */
  distribution(context: NgramContext): Float64Array {
    return this.fill(this.stateOf(this.contextIds(context, false, 'distribution').ids), 'distribution');
  }

  /**
   * The most probable next tokens after `context`, most probable first (ties:
   * lower id first): `{ token, id, prob }`, as Predictor.predictNextText
   * (options topK, default 10; prefix; partial). For stupid backoff `prob` is the score.
   */
  predictNext(context: NgramContext, options: PredictTextOptions = {}): Prediction[] {
    const topK = checkTopK(options.topK ?? 10, 'predictNext');
    if (options.prefix !== undefined && typeof options.prefix !== 'string') {
      throw new MnemoError(`predictNext: prefix must be a string, got ${typeof options.prefix}`);
    }
    const { ids, partial } = this.contextIds(context, options.partial ?? false, 'predictNext');
    const prefix = options.prefix ?? partial;
    const p = this.fill(this.stateOf(ids), 'predictNext');
    const tokens = this.vocab.tokens;
    const keep = prefix ? (id: number) => tokens[id]!.startsWith(prefix) : undefined;
    return topIds(p, topK, keep).map((id) => ({ token: tokens[id]!, id, prob: p[id]! }));
  }

  /**
   * Samples a continuation of `prompt` and returns the generated tokens as
   * text (the prompt not included), with Predictor.generate's options and
   * sampling: maxTokens (50), temperature (1), topK, topP (1), seed (0), stopAtEos.
   * After an end-of-line token the context restarts from `<s>`.
   */
  generate(prompt: NgramContext, options: GenerateOptions = {}): string {
    const { maxTokens, temperature, topK, topP, seed } = generateOptions(options);
    const state = this.stateOf(this.contextIds(prompt, false, 'generate').ids);
    const rng = new Random(seed);
    const eos = this.tokenizer.eos;
    const logp = new Float32Array(this.vocab.size);
    let line = Array.from(state.history); // the current line's tokens, for messages
    const out: number[] = [];
    for (let i = 0; i < maxTokens; i++) {
      state.history = Int32Array.from(line.slice(Math.max(0, line.length - (this.order - 1))));
      state.atStart = line.length < this.order - 1;
      const p = this.fill(state, 'generate');
      for (let w = 0; w < p.length; w++) logp[w] = Math.log(p[w]!);
      const id = sample(logp, temperature, topK, topP, rng);
      out.push(id);
      if (id === eos) {
        if (options.stopAtEos) break;
        state.K = this.startState(state.ctx);
        line = [];
      } else {
        state.K = this.advance(state.ctx, state.K, id);
        line.push(id);
      }
    }
    return this.tokenizer.decode(out);
  }

  /**
   * Perplexity on `data` with the Brown rules: every token is predicted,
   * '</s>' included; each line restarts from `<s>`. Throws
   * NotADistributionError for stupid backoff (unless allowUnnormalized) and
   * ZeroProbabilityError, naming the token, its line and its context, when a
   * token gets probability 0 (mle).
   */
  perplexity(data: NgramData, options: NgramPerplexityOptions = {}): NgramPerplexityResult {
    if (!this.scorer.normalized && !options.allowUnnormalized) {
      throw new NotADistributionError(`perplexity: smoothing '${this.smoothing}' gives scores, not probabilities, so a perplexity `
        + `would mean nothing; pass { allowUnnormalized: true } to compute exp(mean −ln score) anyway`);
    }
    const { logProb, lines } = this.scoreTokens(data, 'perplexity');
    let total = 0;
    for (let i = 0; i < logProb.length; i++) total -= logProb[i]!;
    const nll = total / logProb.length;
    return { ppl: Math.exp(nll), nll, tokens: logProb.length, bitsPerToken: nll / Math.LN2, lines, normalized: this.scorer.normalized };
  }

  /**
   * Every token of `data` scored as perplexity() scores it (each line from
   * `<s>`): ln p of each token and, with `maxProb`, the highest probability
   * the model gives any token in that context (how sure it is there; for kn
   * it costs the words seen after the context, for the other methods a whole
   * distribution per token). Throws as perplexity() does on a zero
   * probability; stupid backoff gives ln of its scores.
   */
  tokenScores(data: NgramData, options: { maxProb?: boolean } = {}): { logProb: Float64Array; maxProb?: Float64Array } {
    const { logProb, maxProb } = this.scoreTokens(data, 'tokenScores', options.maxProb === true);
    return maxProb ? { logProb, maxProb } : { logProb };
  }

  private scoreTokens(data: NgramData, what: string, withMax = false): { logProb: Float64Array; maxProb?: Float64Array; lines: number } {
    const stream = encodeData(data, this.tokenizer, what);
    if (stream.length === 0) throw new MnemoError(`${what}: the data hold no tokens`);
    const eos = this.tokenizer.eos;
    const ctx = new Int32Array(Math.max(this.order, 1));
    const logProb = new Float64Array(stream.length);
    const maxProb = withMax ? new Float64Array(stream.length) : undefined, dist = withMax ? new Float64Array(this.vocab.size) : undefined;
    let K = this.startState(ctx);
    let lines = 0, line = 1, lineStart = 0;
    for (let i = 0; i < stream.length; i++) {
      const w = stream[i]!;
      const p = this.scorer.prob(ctx, K, w);
      if (!(p > 0)) {
        const history = stream.subarray(Math.max(lineStart, i - this.order + 1), i);
        throw this.zeroError(p, w, { ctx, K, history, atStart: i - lineStart < this.order - 1 }, what,
          ` (token ${i - lineStart + 1} of line ${line})`);
      }
      logProb[i] = Math.log(p);
      if (maxProb && this.scorer.maxProb) {
        maxProb[i] = this.scorer.maxProb(ctx, K);
      } else if (maxProb) {
        this.scorer.fill(ctx, K, dist!);
        let m = 0;
        for (let v = 0; v < dist!.length; v++) if (dist![v]! > m) m = dist![v]!;
        maxProb[i] = m;
      }
      if (w === eos) {
        K = this.startState(ctx);
        lines++; line++; lineStart = i + 1;
      } else {
        K = this.advance(ctx, K, w);
      }
    }
    if (lineStart < stream.length) lines++;
    return maxProb ? { logProb, maxProb, lines } : { logProb, lines };
  }

  // -------------------------------------------------------------------------

  /** ctx after `<s>`: returns K. */
  private startState(ctx: Int32Array): number {
    if (this.order === 1) return 0;
    ctx[0] = 0;
    ctx[1] = this.trie.bos;
    return 1;
  }

  /** Moves the context one token on (in place); returns the new K. */
  private advance(ctx: Int32Array, K: number, w: number): number {
    const K1 = Math.min(this.order - 1, K + 1);
    for (let k = K1; k >= 2; k--) {
      const h = ctx[k - 1]!;
      ctx[k] = h >= 0 ? this.trie.child(k, h, w) : -1;
    }
    if (K1 >= 1) ctx[1] = w;
    return K1;
  }

  /** The context entries of the history after the last end-of-line token of `ids`. */
  private stateOf(ids: Int32Array): ContextState {
    const N = this.order, eos = this.tokenizer.eos;
    const ctx = new Int32Array(Math.max(N, 1));
    let start = ids.length;
    while (start > 0 && ids[start - 1] !== eos) start--;
    let K: number;
    const atStart = ids.length - start < N - 1;
    if (atStart) {
      K = this.startState(ctx);
    } else {
      K = 0;
      start = ids.length - (N - 1);
    }
    for (let i = start; i < ids.length; i++) K = this.advance(ctx, K, ids[i]!);
    return { ctx, K, history: ids.subarray(start), atStart };
  }

  private fill(state: ContextState, what: string): Float64Array {
    const out = new Float64Array(this.vocab.size);
    this.scorer.fill(state.ctx, state.K, out);
    if (out[0] !== out[0]) throw this.zeroError(NaN, -1, state, what);
    return out;
  }

  /** The error for p(w | context) = p, 0 or NaN (undefined: an unseen context under mle). */
  private zeroError(p: number, w: number, state: ContextState, what: string, where = ''): ZeroProbabilityError {
    const tokens = this.vocab.tokens;
    const words = Array.from(state.history, (id) => tokens[id]!);
    if (state.atStart && this.order > 1) words.unshift('<s>');
    const context = words.join(' ');
    if (p !== p) {
      return new ZeroProbabilityError(`${what}: the context '${context}'${where} never occurs in training, so its `
        + `maximum-likelihood distribution is undefined (0/0); use smoothing 'kn', 'katz' or 'add'`);
    }
    return new ZeroProbabilityError(`${what}: p('${tokens[w]}' | '${context}')${where} = 0 under smoothing '${this.smoothing}'`
      + (this.smoothing === 'mle' ? `: that ${state.K + 1}-gram never occurs in training; use smoothing 'kn', 'katz' or 'add'` : ''));
  }

  private tokenId(token: string | number, what: string): number {
    const V = this.vocab.size;
    if (typeof token === 'number') {
      if (!Number.isInteger(token) || token < 0 || token >= V) throw new ShapeError(`${what}: token id ${token} is out of range [0, ${V})`);
      return token;
    }
    if (typeof token !== 'string') throw new MnemoError(`${what}: token must be a string or an id, got ${typeof token}`);
    return this.vocab.idOf(token);
  }

  /** Context → ids; for text, as Predictor: the '</s>' of the last line only if a newline ends it, and the partial last word. */
  private contextIds(context: NgramContext, partial: boolean, what: string): { ids: Int32Array; partial?: string } {
    const tok = this.tokenizer, vocab = tok.vocab;
    if (typeof context === 'string') return encodeContext(tok, context, partial);
    if (!(context instanceof Int32Array) && !Array.isArray(context)) {
      throw new MnemoError(`${what}: context must be text, an array of tokens or ids, or an Int32Array, got ${typeof context}`);
    }
    const ids = new Int32Array(context.length);
    const bosMarker = !vocab.has('<s>');
    for (let i = 0; i < context.length; i++) {
      const t = context[i]!;
      ids[i] = typeof t === 'string' && bosMarker && t === '<s>' ? tok.eos : this.tokenId(t, what);
    }
    return { ids };
  }
}

/** A context as trie entries (see smoothing.ts), and the history tokens it stands for (for messages). */
interface ContextState {
  ctx: Int32Array;
  K: number;
  history: Int32Array;
  /** Whether the history starts at `<s>`. */
  atStart: boolean;
}

const CONFIG_KEYS = ['order', 'smoothing', 'delta', 'alpha', 'katzK', 'discounts', 'tokenizer'];

/** Validates NgramOptions (or a stored config) into a config; names the bad field. */
export function normalizeNgramConfig(options: NgramOptions | NgramConfig, what: string): NgramConfig {
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!CONFIG_KEYS.includes(key)) throw new MnemoError(`${what}: unknown option '${key}' (known: ${CONFIG_KEYS.join(', ')})`);
  }
  const order = o.order ?? 3;
  if (typeof order !== 'number' || !Number.isInteger(order) || order < 1 || order > 64) {
    throw new MnemoError(`${what}: order must be an integer in [1, 64], got ${String(order)}`);
  }
  const smoothing = o.smoothing ?? 'kn';
  if (typeof smoothing !== 'string' || !SMOOTHINGS.includes(smoothing as Smoothing)) {
    throw new MnemoError(`${what}: smoothing must be one of ${SMOOTHINGS.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(smoothing)}`);
  }
  const owner: Record<string, Smoothing> = { delta: 'add', alpha: 'stupid', katzK: 'katz', discounts: 'kn' };
  for (const [key, s] of Object.entries(owner)) {
    if (o[key] !== undefined && s !== smoothing) throw new MnemoError(`${what}: ${key} applies to smoothing '${s}', not '${smoothing}'`);
  }
  const config: NgramConfig = { order, smoothing: smoothing as Smoothing };
  if (smoothing === 'add') {
    const delta = o.delta ?? 1;
    if (typeof delta !== 'number' || !(delta > 0) || !Number.isFinite(delta)) throw new MnemoError(`${what}: delta must be a finite number > 0, got ${String(delta)}`);
    config.delta = delta;
  } else if (smoothing === 'stupid') {
    const alpha = o.alpha ?? 0.4;
    if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 1)) throw new MnemoError(`${what}: alpha must be in (0, 1], got ${String(alpha)}`);
    config.alpha = alpha;
  } else if (smoothing === 'katz') {
    const k = o.katzK ?? 5;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 1 || k > 1000) throw new MnemoError(`${what}: katzK must be an integer in [1, 1000], got ${String(k)}`);
    config.katzK = k;
  } else if (smoothing === 'kn' && o.discounts !== undefined) {
    const d = o.discounts;
    if (!Array.isArray(d) || d.length !== order) {
      throw new MnemoError(`${what}: discounts must be an array of ${order} triples [D1, D2, D3+], one per order, got ${Array.isArray(d) ? `${d.length} entries` : typeof d}`);
    }
    config.discounts = d.map((t: unknown, n: number) => {
      if (!Array.isArray(t) || t.length !== 3 || !t.every((x, i) => typeof x === 'number' && x >= 0 && x <= i + 1)) {
        throw new MnemoError(`${what}: discounts[${n}] (order ${n + 1}) must be [D1, D2, D3+] with 0 ≤ D1 ≤ 1, 0 ≤ D2 ≤ 2, 0 ≤ D3+ ≤ 3, got ${JSON.stringify(t)}`);
      }
      return [t[0], t[1], t[2]] as [number, number, number];
    });
  }
  return config;
}

function checkTopK(k: unknown, what: string): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) throw new MnemoError(`${what}: topK must be an integer ≥ 1, got ${String(k)}`);
  return k;
}

function checkTokenizer(tokenizer: unknown, what: string): asserts tokenizer is Tokenizer {
  const t = tokenizer as Tokenizer | null;
  if (typeof t !== 'object' || t === null || typeof t.encode !== 'function' || typeof t.eos !== 'number' || !t.vocab) {
    throw new MnemoError(`${what}: tokenizer must be a WordTokenizer or CharTokenizer`);
  }
}

/** The default tokenizer for training data without one. */
function defaultTokenizer(data: NgramData): Tokenizer {
  if (typeof data === 'string') return WordTokenizer.fit(data);
  if (data instanceof Int32Array) {
    throw new MnemoError('NgramLM.train: a stream of ids needs options.tokenizer (the vocabulary the ids refer to)');
  }
  if (!Array.isArray(data)) throw new MnemoError(`NgramLM.train: data must be text, an Int32Array of ids or an array of sentences, got ${typeof data}`);
  data.forEach((s, i) => checkSentence(s, i, 'NgramLM.train'));
  return WordTokenizer.fit(data.map((s) => s.join(' ')).join('\n'));
}

function checkSentence(s: unknown, i: number, what: string): asserts s is readonly string[] {
  if (!Array.isArray(s)) throw new MnemoError(`${what}: sentence ${i} must be an array of tokens, got ${typeof s}`);
  s.forEach((t: unknown, j) => {
    if (typeof t !== 'string' || t === '' || /\s/.test(t)) {
      throw new MnemoError(`${what}: token ${j} of sentence ${i} must be a non-empty string without white space, got ${JSON.stringify(t)}`);
    }
  });
}

/** NgramData → ids (sentences get their end token). */
function encodeData(data: NgramData, tokenizer: Tokenizer, what: string): Int32Array {
  const V = tokenizer.vocab.size;
  if (typeof data === 'string') return tokenizer.encode(data);
  if (data instanceof Int32Array) {
    for (let i = 0; i < data.length; i++) {
      const id = data[i]!;
      if (id < 0 || id >= V) throw new ShapeError(`${what}: token id ${id} at position ${i} is out of range [0, ${V})`);
    }
    return data;
  }
  if (!Array.isArray(data)) throw new MnemoError(`${what}: data must be text, an Int32Array of ids or an array of sentences, got ${typeof data}`);
  const ids: number[] = [];
  data.forEach((s, i) => {
    checkSentence(s, i, what);
    for (const t of s) ids.push(tokenizer.vocab.idOf(t));
    ids.push(tokenizer.eos);
  });
  return Int32Array.from(ids);
}
