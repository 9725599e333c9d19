// The smoothing methods of NgramLM: how counts become p(w | context).
//
// A context is given as its trie entries: ctx[0] = 0 (the root, no history),
// ctx[k] = the entry of order k holding the last k tokens of the history
// (−1 when that k-gram was never seen), for k = 1..K, K = min(N − 1, tokens
// of history, `<s>` included). c(h w) is the count of the n-gram (h, w),
// T(h) = Σ_w c(h w), V the vocabulary size (`<s>` not in it).
//
//   mle     p = c(hK w) / T(hK) at the full context hK; an unseen context
//           gives NaN (0/0) and the model reports it (ZeroProbabilityError).
//   add     p = (c(hK w) + δ) / (T(hK) + δV)   (δ = 1: Laplace). Unseen context: 1/V.
//   stupid  S = c(hk w) / T(hk) at the longest k with c(hk w) > 0, times α per
//           order backed off (unigrams: c(w) / Σ c). Brants et al. 2007. NOT a
//           distribution: scores do not sum to 1.
//   katz    Katz 1987: p = d_r r / T(h) for a seen n-gram of count r (Good–Turing
//           d_r = (r*/r − (k+1)n_{k+1}/n_1) / (1 − (k+1)n_{k+1}/n_1) for r ≤ k,
//           d_r = 1 above k, or when a d_r falls outside (0, 1]), else
//           α(h) p(w | h'), with α(h) = (1 − Σ_seen p(w|h)) / (1 − Σ_seen p(w|h')).
//           Unigrams: maximum likelihood when every word was seen; otherwise
//           Good–Turing discounted and the freed mass shared equally by the
//           unseen words. Two edge cases of Katz's rule: a context whose seen
//           counts all exceed k would free nothing (SRILM then gives every
//           unseen word probability 0: on Brown valid 47–112 of the 200,000
//           tokens); here it gives up what one count-1 n-gram would,
//           (1 − d_1)/T(h), spread over its seen words in proportion. A context
//           whose lower order puts no mass outside its seen words keeps its
//           maximum-likelihood estimates (α = 0).
//   kn      interpolated modified Kneser–Ney (Chen & Goodman 1998):
//             p(w|h) = max(c'(hw) − D(c'(hw)), 0) / T'(h) + γ(h) p(w|h'),
//             γ(h) = (D1 N1(h•) + D2 N2(h•) + D3 N3+(h•)) / T'(h),
//           bottom: p(w) = max(c'(w) − D, 0) / T' + γ 1/V (the uniform floor).
//           c' is the raw count at the highest order, and below it the
//           continuation count N1+(• g) (distinct words seen before g), except
//           for n-grams that start with `<s>`, which nothing can precede: they
//           keep their raw count (KenLM's adjusted counts). D1, D2, D3+ per
//           order from the count-of-counts n1..n4 of c' at that order:
//           Y = n1/(n1 + 2n2), D1 = 1 − 2Y n2/n1, D2 = 2 − 3Y n3/n2,
//           D3+ = 3 − 4Y n4/n3; when that fails (a zero n_i, or a D out of
//           (0, i]) the order takes KenLM's fallback 0.5, 1, 1.5. An unseen
//           context (T' = 0) passes p(w|h') through.
//   arpa    a backoff model read from ARPA: p = 10^logp(h w) if listed, else
//           bow(h) p(w|h') (bow = 1 for a context that is not listed).
//
// kn and katz convert exactly to the backoff form (listed probabilities and
// backoff weights) for ARPA export: for kn, p(h w) is the interpolated
// probability and bow(h) = γ(h).

import type { NgramTrie } from './trie.js';

/** The smoothing methods; 'arpa' is a model read from an ARPA file. */
export type Smoothing = 'mle' | 'add' | 'stupid' | 'katz' | 'kn' | 'arpa';

/** The methods a model can be trained with (all but 'arpa'). */
export const SMOOTHINGS: readonly Smoothing[] = ['mle', 'add', 'stupid', 'katz', 'kn'];

/** KenLM's fallback discounts (lmplz --discount_fallback) for an order whose count-of-counts give no valid D. */
export const KN_FALLBACK_DISCOUNTS: readonly [number, number, number] = [0.5, 1, 1.5];

/** p(· | context) for one smoothing method over a trie. */
export interface Scorer {
  /** False for stupid backoff: its scores are not probabilities. */
  readonly normalized: boolean;
  /** p(w | ctx[0..K]); NaN when undefined (mle: unseen context). */
  prob(ctx: Int32Array, K: number, w: number): number;
  /** out[w] = p(w | ctx[0..K]) for every w < V. */
  fill(ctx: Int32Array, K: number, out: Float64Array): void;
  /** max_w p(w | ctx[0..K]) when the method has a faster way than fill(). */
  maxProb?(ctx: Int32Array, K: number): number;
  /** The exact backoff form (kn, katz, arpa), or null when the method has none. */
  backoff(): BackoffTables | null;
  /** Bytes of the tables the method adds to the trie. */
  byteLength(): number;
}

function bytesOf(arrays: readonly (readonly ArrayBufferView[])[]): number {
  let b = 0;
  for (const list of arrays) for (const a of list) b += a.byteLength;
  return b;
}

/** A backoff model: prob[n][i] for entry i of order n (NaN: not listed, only a context), bow[n][i] for entries that are contexts (n < N; bow[0][0]: the root). */
export interface BackoffTables {
  prob: Float64Array[];
  bow: Float64Array[];
}

/** T(h) for every context (orders 0..N−1; order 0 is the root, length 1): the sum of its children's counts. */
export function contextTotals(trie: NgramTrie, counts: readonly Int32Array[]): Float64Array[] {
  const N = trie.order, V = trie.vocabSize;
  const out: Float64Array[] = [];
  let root = 0;
  const c1 = counts[1]!;
  for (let w = 0; w < V; w++) root += c1[w]!;
  out.push(Float64Array.of(root));
  for (let k = 1; k < N; k++) {
    const first = trie.first[k]!, c = counts[k + 1]!, t = new Float64Array(trie.sizes[k]!);
    for (let h = 0; h < t.length; h++) {
      let s = 0;
      for (let e = first[h]!; e < first[h + 1]!; e++) s += c[e]!;
      t[h] = s;
    }
    out.push(t);
  }
  return out;
}

/** Count of the n-gram (ctx[K], w) at order K + 1 (0 if unseen). */
function countAt(trie: NgramTrie, counts: readonly Int32Array[], ctx: Int32Array, K: number, w: number): number {
  const h = ctx[K]!;
  if (h < 0) return 0;
  const e = trie.child(K + 1, h, w);
  return e < 0 ? 0 : counts[K + 1]![e]!;
}

/** mle and add-δ: one order, the full context. */
export class AdditiveScorer implements Scorer {
  readonly normalized = true;
  private readonly counts: Int32Array[];
  private readonly totals: Float64Array[];

  /** delta = 0: maximum likelihood. */
  constructor(private readonly trie: NgramTrie, private readonly delta: number) {
    this.counts = trie.counts!;
    this.totals = contextTotals(trie, this.counts);
  }

  private total(ctx: Int32Array, K: number): number {
    const h = ctx[K]!;
    return h < 0 ? 0 : this.totals[K]![h]!;
  }

  prob(ctx: Int32Array, K: number, w: number): number {
    const T = this.total(ctx, K), c = countAt(this.trie, this.counts, ctx, K, w);
    if (this.delta === 0) return T === 0 ? NaN : c / T;
    return (c + this.delta) / (T + this.delta * this.trie.vocabSize);
  }

  fill(ctx: Int32Array, K: number, out: Float64Array): void {
    const T = this.total(ctx, K), V = this.trie.vocabSize, d = this.delta;
    if (d === 0 && T === 0) { out.fill(NaN); return; }
    const denom = T + d * V;
    out.fill(d / denom);
    const h = ctx[K]!;
    if (h < 0 || T === 0) return;
    forChildren(this.trie, K, h, (e, w) => { out[w] = (this.counts[K + 1]![e]! + d) / denom; });
  }

  backoff(): null {
    return null;
  }

  byteLength(): number {
    return bytesOf([this.totals]);
  }
}

/**
 * Calls f(entry, word) for the children of context h at order k (entries of
 * order k + 1); the root's children are the unigrams 0..V−1.
 */
function forChildren(trie: NgramTrie, k: number, h: number, f: (e: number, w: number) => void): void {
  if (k === 0) {
    for (let w = 0; w < trie.vocabSize; w++) f(w, w);
    return;
  }
  const first = trie.first[k]!, words = trie.words[k + 1]!;
  for (let e = first[h]!; e < first[h + 1]!; e++) f(e, words[e]!);
}

/**
 * Backoff models (katz, stupid, arpa): p(w|h) = prob(h w) if listed, else
 * bow(h) p(w|h'); `missingBow` multiplies a step from a context that is not
 * stored (1 for a distribution, α for stupid backoff).
 */
export class BackoffScorer implements Scorer {
  constructor(private readonly trie: NgramTrie, readonly tables: BackoffTables, private readonly missingBow: number,
              readonly normalized: boolean) {}

  prob(ctx: Int32Array, K: number, w: number): number {
    const { prob, bow } = this.tables;
    let acc = 1;
    for (let k = K; k >= 0; k--) {
      const h = ctx[k]!;
      if (h < 0) { acc *= this.missingBow; continue; }
      const e = this.trie.child(k + 1, h, w);
      if (e >= 0) {
        const p = prob[k + 1]![e]!;
        if (p === p) return acc * p; // listed (not NaN)
      }
      acc *= bow[k]![h]!;
    }
    return 0; // below the unigrams: only `<s>`, which is never asked for
  }

  fill(ctx: Int32Array, K: number, out: Float64Array): void {
    const { prob, bow } = this.tables;
    const V = this.trie.vocabSize, p1 = prob[1]!;
    for (let w = 0; w < V; w++) {
      const p = p1[w]!;
      out[w] = p === p ? p : 0;
    }
    for (let k = 1; k <= K; k++) {
      const h = ctx[k]!;
      const b = h < 0 ? this.missingBow : bow[k]![h]!;
      if (b !== 1) for (let w = 0; w < V; w++) out[w]! *= b;
      if (h < 0) continue;
      const pk = prob[k + 1]!;
      forChildren(this.trie, k, h, (e, w) => {
        const p = pk[e]!;
        if (p === p) out[w] = p;
      });
    }
  }

  /** The tables, for a distribution (katz, arpa); null for stupid backoff, whose scores ARPA readers would take for probabilities. */
  backoff(): BackoffTables | null {
    return this.normalized ? this.tables : null;
  }

  byteLength(): number {
    return bytesOf([this.tables.prob, this.tables.bow]);
  }
}

/** Stupid backoff (Brants et al. 2007): relative frequencies, α per order backed off. Not a distribution. */
export function stupidBackoff(trie: NgramTrie, alpha: number): BackoffScorer {
  const counts = trie.counts!, totals = contextTotals(trie, counts);
  const N = trie.order, V = trie.vocabSize;
  const prob: Float64Array[] = [new Float64Array(0)];
  const bow: Float64Array[] = [Float64Array.of(0)];
  const p1 = new Float64Array(V + 1);
  const root = totals[0]![0]!;
  for (let w = 0; w < V; w++) p1[w] = root > 0 ? counts[1]![w]! / root : 0;
  p1[V] = NaN;
  prob.push(p1);
  for (let n = 2; n <= N; n++) {
    const p = new Float64Array(trie.sizes[n]!), c = counts[n]!, t = totals[n - 1]!, first = trie.first[n - 1]!;
    for (let h = 0; h < t.length; h++) for (let e = first[h]!; e < first[h + 1]!; e++) p[e] = c[e]! / t[h]!;
    prob.push(p);
    bow.push(new Float64Array(trie.sizes[n - 1]!).fill(alpha));
  }
  return new BackoffScorer(trie, { prob, bow }, alpha, false);
}

/** Good–Turing discount ratios d[1..k] (d[0] unused) of Katz (1987) from the counts of one order; 1 where undefined. */
export function katzDiscounts(counts: Int32Array, begin: number, end: number, k: number): Float64Array {
  const nr = new Float64Array(k + 2);
  for (let i = begin; i < end; i++) {
    const c = counts[i]!;
    if (c >= 1 && c <= k + 1) nr[c]!++;
  }
  const d = new Float64Array(k + 1).fill(1);
  const n1 = nr[1]!;
  if (n1 === 0) return d;
  const common = ((k + 1) * nr[k + 1]!) / n1;
  if (!(1 - common > 0)) return d;
  for (let r = 1; r <= k; r++) {
    if (nr[r] === 0) continue;
    const rStar = ((r + 1) * nr[r + 1]!) / nr[r]!;
    const dr = (rStar / r - common) / (1 - common);
    d[r] = dr > 0 && dr <= 1 ? dr : 1;
  }
  return d;
}

/** Katz backoff with Good–Turing discounts for counts ≤ k (see the file comment). */
export function katzBackoff(trie: NgramTrie, k: number): { scorer: BackoffScorer; discounts: Float64Array[] } {
  const counts = trie.counts!, totals = contextTotals(trie, counts);
  const N = trie.order, V = trie.vocabSize;
  const links = trie.suffixLinks();
  const discounts: Float64Array[] = [new Float64Array(0)];
  const prob: Float64Array[] = [new Float64Array(0)];
  const bow: Float64Array[] = [Float64Array.of(0)];

  // Unigrams.
  const c1 = counts[1]!, p1 = new Float64Array(V + 1), root = totals[0]![0]!;
  let unseen = 0;
  for (let w = 0; w < V; w++) if (c1[w] === 0) unseen++;
  const d1 = unseen > 0 ? katzDiscounts(c1, 0, V, k) : new Float64Array(k + 1).fill(1);
  let seenMass = 0;
  for (let w = 0; w < V; w++) {
    const c = c1[w]!;
    if (c > 0) seenMass += (p1[w] = (c <= k ? d1[c]! : 1) * c / root);
  }
  const share = unseen > 0 ? Math.max(0, 1 - seenMass) / unseen : 0;
  for (let w = 0; w < V; w++) if (c1[w] === 0) p1[w] = root > 0 ? share : 1 / V;
  p1[V] = NaN;
  discounts.push(d1);
  prob.push(p1);

  for (let n = 2; n <= N; n++) {
    const c = counts[n]!, size = trie.sizes[n]!;
    const d = katzDiscounts(c, 0, size, k);
    const p = new Float64Array(size), lower = prob[n - 1]!, link = links[n]!;
    const t = totals[n - 1]!, first = trie.first[n - 1]!;
    const b = new Float64Array(trie.sizes[n - 1]!).fill(1);
    for (let h = 0; h < t.length; h++) {
      const lo = first[h]!, hi = first[h + 1]!;
      if (lo === hi) continue;
      let seen = 0, seenLower = 0;
      for (let e = lo; e < hi; e++) {
        const r = c[e]!;
        seen += (p[e] = (r <= k ? d[r]! : 1) * r / t[h]!);
        seenLower += lower[link[e]!]!;
      }
      if (1 - seen <= 1e-12) { // every count above k: give up what one count-1 n-gram would, (1 − d1)/T
        const keep = 1 - (1 - d[1]!) / t[h]!;
        seen = 0;
        for (let e = lo; e < hi; e++) seen += (p[e] = (c[e]! / t[h]!) * keep);
      }
      const denominator = 1 - seenLower;
      if (denominator > 1e-12) {
        b[h] = Math.max(0, 1 - seen) / denominator;
      } else { // nothing left below to back off to: keep the maximum-likelihood estimates
        for (let e = lo; e < hi; e++) p[e] = c[e]! / t[h]!;
        b[h] = 0;
      }
    }
    discounts.push(d);
    prob.push(p);
    bow.push(b);
  }
  return { scorer: new BackoffScorer(trie, { prob, bow }, 1, true), discounts };
}

/** D1, D2, D3+ of one order from its count-of-counts, or null when they do not exist (see the file comment). */
export function knDiscounts(n1: number, n2: number, n3: number, n4: number): [number, number, number] | null {
  if (n1 === 0 || n2 === 0 || n3 === 0 || n4 === 0) return null;
  const Y = n1 / (n1 + 2 * n2);
  const D: [number, number, number] = [1 - (2 * Y * n2) / n1, 2 - (3 * Y * n3) / n2, 3 - (4 * Y * n4) / n3];
  return D.every((x, i) => x > 0 && x <= i + 1) ? D : null;
}

/** Interpolated modified Kneser–Ney (see the file comment). */
export class KneserNeyScorer implements Scorer {
  readonly normalized = true;
  /** c' per order (1..N): adjusted counts below N, raw counts at N. */
  readonly counts: Int32Array[];
  /** D[n] = [0, D1, D2, D3+] per order n = 1..N. */
  readonly discounts: Float64Array[];
  /** Which orders took the fallback discounts (index n). */
  readonly fallback: boolean[];
  /** 1/T'(h) per context (0 for a context without children), orders 0..N−1. */
  private readonly scale: Float64Array[];
  /** γ(h) per context (1 for a context without children), orders 0..N−1. */
  private readonly gamma: Float64Array[];
  /** fill()'s vector after order 0, made on first use. */
  private base: Float64Array | null = null;
  /** maxProb()'s scratch: the words by decreasing base, the sparse part u, its marks and touched words. */
  private byBase: Int32Array | null = null;
  private u: Float64Array | null = null;
  private mark: Uint8Array | null = null;
  private readonly touched: number[] = [];

  /** `given`: discounts per order 1..N ([D1, D2, D3+]) instead of the count-of-counts estimates. */
  constructor(private readonly trie: NgramTrie, given?: readonly (readonly number[])[]) {
    const N = trie.order, V = trie.vocabSize;
    this.counts = adjustedCounts(trie);
    this.discounts = [new Float64Array(0)];
    this.fallback = [false];
    for (let n = 1; n <= N; n++) {
      const c = this.counts[n]!, end = n === 1 ? V : c.length;
      const nr = [0, 0, 0, 0, 0];
      for (let i = 0; i < end; i++) { const x = c[i]!; if (x >= 1 && x <= 4) nr[x]!++; }
      let D: readonly number[] | null = given ? given[n - 1]! : knDiscounts(nr[1]!, nr[2]!, nr[3]!, nr[4]!);
      this.fallback.push(D === null);
      D ??= KN_FALLBACK_DISCOUNTS;
      this.discounts.push(Float64Array.of(0, D[0]!, D[1]!, D[2]!));
    }
    this.scale = [];
    this.gamma = [];
    for (let k = 0; k < N; k++) {
      const size = k === 0 ? 1 : trie.sizes[k]!;
      const s = new Float64Array(size), g = new Float64Array(size).fill(1);
      const c = this.counts[k + 1]!, D = this.discounts[k + 1]!;
      for (let h = 0; h < size; h++) {
        let T = 0, gNum = 0;
        forChildren(trie, k, h, (e) => {
          const x = c[e]!;
          if (x > 0) { T += x; gNum += D[x < 3 ? x : 3]!; }
        });
        if (T > 0) { s[h] = 1 / T; g[h] = gNum / T; }
      }
      this.scale.push(s);
      this.gamma.push(g);
    }
  }

  prob(ctx: Int32Array, K: number, w: number): number {
    let p = 1 / this.trie.vocabSize;
    for (let k = 0; k <= K; k++) {
      const h = ctx[k]!;
      if (h < 0) break;
      const s = this.scale[k]![h]!;
      if (s === 0) continue;
      const e = this.trie.child(k + 1, h, w);
      const c = e < 0 ? 0 : this.counts[k + 1]![e]!;
      p = (c > 0 ? (c - this.discounts[k + 1]![c < 3 ? c : 3]!) * s : 0) + this.gamma[k]![h]! * p;
    }
    return p;
  }

  fill(ctx: Int32Array, K: number, out: Float64Array): void {
    // Order 0 (the root, ctx[0] = 0 always) gives the same vector for every context: computed once.
    if (this.base === null) {
      const base = new Float64Array(out.length).fill(1 / this.trie.vocabSize);
      this.addOrder(0, 0, base);
      this.base = base;
    }
    out.set(this.base);
    for (let k = 1; k <= K; k++) {
      const h = ctx[k]!;
      if (h < 0) break;
      this.addOrder(k, h, out);
    }
  }

  /**
   * max_w p(w | ctx[0..K]) without the whole distribution. After the root,
   * p(w) = G·base(w) + F·u(w): G and F are products of the γ's so far (F
   * restarted when it would underflow), and u is non-zero only on the words
   * seen after the 1-token context (the words seen after every longer context
   * are among them). So it costs the number of children along the context,
   * not V per order as fill() does.
   */
  maxProb(ctx: Int32Array, K: number): number {
    const V = this.trie.vocabSize;
    if (this.base === null) this.fill(ctx, 0, new Float64Array(V));
    const base = this.base!;
    if (this.byBase === null) this.byBase = Int32Array.from(base.keys()).sort((a, b) => base[b]! - base[a]! || a - b);
    this.u ??= new Float64Array(V);
    this.mark ??= new Uint8Array(V);
    const u = this.u, mark = this.mark, touched = this.touched;
    let G = 1, F = 1;
    for (let k = 1; k <= K; k++) {
      const h = ctx[k]!;
      if (h < 0) break;
      const s = this.scale[k]![h]!;
      if (s === 0) continue;
      const g = this.gamma[k]![h]!, c = this.counts[k + 1]!, D = this.discounts[k + 1]!;
      G *= g;
      F *= g;
      if (!(F > 1e-200)) { // fold F into u (F = 0: what was there is gone)
        for (const w of touched) u[w]! *= F;
        F = 1;
      }
      const first = this.trie.first[k]!, words = this.trie.words[k + 1]!;
      for (let e = first[h]!, end = first[h + 1]!; e < end; e++) {
        const x = c[e]!;
        if (x <= 0) continue;
        const w = words[e]!;
        if (mark[w] === 0) { mark[w] = 1; touched.push(w); }
        u[w]! += ((x - D[x < 3 ? x : 3]!) * s) / F;
      }
    }
    let m = 0;
    for (const w of touched) {
      const p = G * base[w]! + F * u[w]!;
      if (p > m) m = p;
      u[w] = 0;
    }
    for (let i = 0; i < V; i++) { // the unseen-after-the-context word of the largest base: the rest are below it
      const w = this.byBase[i]!;
      if (mark[w] === 0) { if (G * base[w]! > m) m = G * base[w]!; break; }
    }
    for (const w of touched) mark[w] = 0;
    touched.length = 0;
    return m;
  }

  /** out = γ(h)·out + the discounted counts of h's children (h: a context of order k). */
  private addOrder(k: number, h: number, out: Float64Array): void {
    const s = this.scale[k]![h]!;
    if (s === 0) return;
    const g = this.gamma[k]![h]!, c = this.counts[k + 1]!, D = this.discounts[k + 1]!;
    for (let w = 0; w < out.length; w++) out[w]! *= g;
    if (k === 0) {
      for (let w = 0; w < out.length; w++) { const x = c[w]!; if (x > 0) out[w]! += (x - D[x < 3 ? x : 3]!) * s; }
      return;
    }
    const first = this.trie.first[k]!, words = this.trie.words[k + 1]!;
    for (let e = first[h]!, end = first[h + 1]!; e < end; e++) {
      const x = c[e]!;
      if (x > 0) out[words[e]!]! += (x - D[x < 3 ? x : 3]!) * s;
    }
  }

  byteLength(): number {
    return bytesOf([this.counts.slice(0, -1), this.scale, this.gamma]);
  }

  /** The exact backoff form: p(h w) interpolated, bow(h) = γ(h). */
  backoff(): BackoffTables {
    const trie = this.trie, N = trie.order, V = trie.vocabSize;
    const links = trie.suffixLinks();
    const prob: Float64Array[] = [new Float64Array(0)];
    const bow: Float64Array[] = [Float64Array.of(this.gamma[0]![0]!)];
    const p1 = new Float64Array(V + 1), c1 = this.counts[1]!, D1 = this.discounts[1]!;
    const s0 = this.scale[0]![0]!, g0 = this.gamma[0]![0]!;
    for (let w = 0; w < V; w++) {
      const x = c1[w]!;
      p1[w] = (x > 0 ? (x - D1[x < 3 ? x : 3]!) * s0 : 0) + g0 / V;
    }
    p1[V] = NaN;
    prob.push(p1);
    for (let n = 2; n <= N; n++) {
      const p = new Float64Array(trie.sizes[n]!), c = this.counts[n]!, D = this.discounts[n]!;
      const s = this.scale[n - 1]!, g = this.gamma[n - 1]!, first = trie.first[n - 1]!, lower = prob[n - 1]!, link = links[n]!;
      for (let h = 0; h < s.length; h++) {
        for (let e = first[h]!; e < first[h + 1]!; e++) {
          const x = c[e]!;
          p[e] = (x > 0 ? (x - D[x < 3 ? x : 3]!) * s[h]! : 0) + g[h]! * lower[link[e]!]!;
        }
      }
      prob.push(p);
      bow.push(this.gamma[n - 1]!.slice());
    }
    return { prob, bow };
  }
}

/**
 * KenLM's adjusted counts: raw at the highest order; below it, the number of
 * distinct words seen before the n-gram (N1+(• g)), except for n-grams that
 * start with `<s>`, which keep their raw count.
 */
export function adjustedCounts(trie: NgramTrie): Int32Array[] {
  const N = trie.order, raw = trie.counts!, links = trie.suffixLinks();
  const out: Int32Array[] = [new Int32Array(0)];
  for (let n = 1; n < N; n++) {
    const a = new Int32Array(trie.sizes[n]!), link = links[n + 1]!;
    for (let e = 0; e < link.length; e++) a[link[e]!]!++;
    // The `<s>` subtree: entry V at order 1, then its descendants, contiguous at every order.
    let lo = trie.vocabSize, hi = trie.vocabSize + 1;
    for (let m = 2; m <= n; m++) {
      const f = trie.first[m - 1]!;
      [lo, hi] = [f[lo]!, f[hi]!];
    }
    for (let e = lo; e < hi; e++) a[e] = raw[n]![e]!;
    out.push(a);
  }
  out.push(raw[N]!);
  return out;
}
