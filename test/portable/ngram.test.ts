// NgramLM: hand-computed probabilities on toy corpora for every smoothing
// method (the lecture example among them), normalisation over the whole
// vocabulary in random seen / partly seen / unseen contexts, the ARPA round
// trip and reading hand-written ARPA, model files (round trip, corrupt files),
// perplexity, predictNext / generate, and bad input. Node and Chromium.
import { describe, expect, it } from 'vitest';
import {
  CharTokenizer, FileFormatError, MnemoError, NgramLM, NotADistributionError, Random, ShapeError, TokenizerError,
  WordTokenizer, ZeroProbabilityError, readSafetensors, writeSafetensors, type NgramContext, type SafetensorsTensorInput,
} from 'mnemo';

/** p(w | context) for every token of the vocabulary, by id, through prob(). */
function probsOf(lm: NgramLM, context: NgramContext): number[] {
  return lm.vocab.tokens.map((t) => lm.prob(context, t));
}

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

// Corpus A: three sentences over a, b (the tokenizer adds '</s>' and '<unk>').
//   <s> a b a </s>   <s> b a b </s>   <s> a a </s>
// unigrams a 5, b 3, </s> 3, <unk> 0 (11 tokens); bigrams (<s> a) 2, (<s> b) 1,
// (a b) 2, (a </s>) 2, (a a) 1, (b a) 2, (b </s>) 1.
const CORPUS_A = 'a b a\nb a b\na a\n';
// Corpus B: A plus a repeat of its first sentence, so that continuation counts differ from counts.
const CORPUS_B = 'a b a\nb a b\na a\na b a\n';
const D_TOY: [number, number, number][] = [[0.5, 0.75, 1.0], [0.6, 0.9, 1.2], [0.7, 1.0, 1.3]];

describe('NgramLM: hand-computed probabilities', () => {
  it('mle: the lecture example, P(books | students opened their) = 400/1000', () => {
    const lines: string[] = [];
    const add = (n: number, s: string) => { for (let i = 0; i < n; i++) lines.push(s); };
    add(400, 'students opened their books');
    add(300, 'students opened their exams');
    add(200, 'students opened their minds');
    add(100, 'students opened their laptops');
    add(50, 'they opened their doors');
    const lm = NgramLM.train(lines.join('\n'), { order: 4, smoothing: 'mle' });
    expect(lm.prob('students opened their', 'books')).toBe(0.4);
    expect(lm.prob(['students', 'opened', 'their'], 'exams')).toBe(0.3);
    expect(lm.prob('they opened their', 'doors')).toBe(1);
    expect(lm.prob('students opened their', 'doors')).toBe(0);
    // A trigram model only sees "opened their": 1050 times, "books" 400 of them.
    expect(NgramLM.train(lines.join('\n'), { order: 3, smoothing: 'mle' }).prob('opened their', 'books')).toBe(400 / 1050);
    // At a line start the context is <s>: P(students | <s>) = 1000/1050.
    expect(lm.prob('', 'students')).toBe(1000 / 1050);
    expect(lm.logProb('students opened their', 'books')).toBe(Math.log(0.4));
  });

  it('mle: bigrams of corpus A; zero and undefined probabilities are named errors', () => {
    const lm = NgramLM.train(CORPUS_A, { order: 2, smoothing: 'mle' });
    expect(lm.vocab.tokens).toEqual(['a', '</s>', 'b', '<unk>']);
    expect(lm.prob('a', 'b')).toBe(2 / 5);
    expect(lm.prob('a', 'a')).toBe(1 / 5);
    expect(lm.prob('a', '</s>')).toBe(2 / 5);
    expect(lm.prob('', 'a')).toBe(2 / 3);
    expect(lm.prob('b', 'b')).toBe(0);
    expect(() => lm.logProb('b', 'b')).toThrow(ZeroProbabilityError);
    expect(() => lm.logProb('b', 'b')).toThrow(/p\('b' \| 'b'\) = 0 under smoothing 'mle'.*2-gram never occurs/);
    // '<unk>' never occurs, so it is an unseen context: p is undefined, not 0.
    expect(() => lm.prob('<unk>', 'a')).toThrow(ZeroProbabilityError);
    expect(() => lm.distribution('<unk>')).toThrow(/context '<unk>' never occurs in training/);
    // Perplexity on training data: exp(−mean ln p) over the 11 predictions.
    const lp = [2 / 3, 2 / 5, 2 / 3, 2 / 5, 1 / 3, 2 / 3, 2 / 5, 1 / 3, 2 / 3, 1 / 5, 2 / 5].map(Math.log);
    expect(lm.perplexity(CORPUS_A).ppl).toBeCloseTo(Math.exp(-sum(lp) / 11), 12);
    expect(() => lm.perplexity('a b b\n')).toThrow(/p\('b' \| 'b'\) \(token 3 of line 1\) = 0/);
  });

  it('add-δ: (c + δ) / (T + δV) at the full context; uniform in an unseen context', () => {
    const lm = NgramLM.train(CORPUS_A, { order: 2, smoothing: 'add' });
    expect(lm.config.delta).toBe(1);
    expect(lm.prob('a', 'b')).toBeCloseTo(3 / 9, 15);
    expect(lm.prob('a', '<unk>')).toBeCloseTo(1 / 9, 15);
    expect(lm.prob('b', 'b')).toBeCloseTo(1 / 7, 15);
    expect(lm.prob('<unk>', 'a')).toBeCloseTo(1 / 4, 15);
    const half = lm.withSmoothing('add', { delta: 0.5 });
    expect(half.prob('a', 'b')).toBeCloseTo(2.5 / 7, 15);
    expect(half.prob('', 'a')).toBeCloseTo(2.5 / 5, 15);
    // Unigram model: (c(w) + δ) / (11 + 4δ).
    expect(NgramLM.train(CORPUS_A, { order: 1, smoothing: 'add' }).prob('', 'a')).toBeCloseTo(6 / 15, 15);
  });

  it('stupid backoff: relative frequency at the longest seen order, × α per order backed off', () => {
    const lm = NgramLM.train(CORPUS_A, { order: 3, smoothing: 'stupid' });
    expect(lm.isDistribution).toBe(false);
    expect(lm.config.alpha).toBe(0.4);
    // trigrams (<s> a b) 1, (<s> a a) 1: S(b | <s> a) = 1/2.
    expect(lm.prob('a', 'b')).toBeCloseTo(1 / 2, 15);
    // (<s> a </s>) unseen → 0.4 · S(</s> | a) = 0.4 · 2/5.
    expect(lm.prob('a', '</s>')).toBeCloseTo(0.4 * 2 / 5, 15);
    // (a b b), (b b) unseen → 0.4² · c(b)/11.
    expect(lm.prob('a b', 'b')).toBeCloseTo(0.16 * 3 / 11, 15);
    // (<unk> a) was never seen as a context: still one α per order.
    expect(lm.prob('b <unk>', 'a')).toBeCloseTo(0.16 * 5 / 11, 15);
    expect(lm.withSmoothing('stupid', { alpha: 0.5 }).prob('a b', 'b')).toBeCloseTo(0.25 * 3 / 11, 15);
  });

  it('katz: Good–Turing discounts d_r, backoff weights; hand-computed (k = 2)', () => {
    // Bigram counts: (<s> a) 3, (a b) 2, (c </s>) 2, and seven singletons: n1 = 7, n2 = 2, n3 = 1.
    // A = 3·n3/n1 = 3/7; d1 = (2·n2/n1 − A)/(1 − A) = 1/4; d2 = (3·n3/(2·n2) − A)/(1 − A) = 9/16.
    const tok = WordTokenizer.fromVocabulary(['a', 'b', 'c', 'd', '</s>']);
    const lm = NgramLM.train('a b c\na b d\na c\nd a\n', { tokenizer: tok, order: 2, smoothing: 'katz', katzK: 2 });
    expect(lm.discounts![1]![0]).toBeCloseTo(1 / 4, 15);
    expect(lm.discounts![1]![1]).toBeCloseTo(9 / 16, 15);
    expect(lm.discounts![0]).toEqual([1, 1]); // every word seen: unigrams are not discounted
    // Unigrams (MLE, 14 tokens): a 4, b 2, c 2, d 2, </s> 4.
    expect(lm.prob('', 'a')).toBeCloseTo(3 / 4, 15); // count 3 > k: not discounted
    expect(lm.prob('', 'd')).toBeCloseTo(1 / 16, 15); // d1 · 1/4
    // Context <s>: left over 3/16, spread over b, c, </s> in proportion to their unigrams (8/14 of the mass).
    const alphaS = (3 / 16) / (8 / 14);
    expect(lm.prob('', 'b')).toBeCloseTo(alphaS * 2 / 14, 15);
    expect(lm.prob('', '</s>')).toBeCloseTo(alphaS * 4 / 14, 15);
    // Context a: (a b) 2, (a c) 1, (a </s>) 1.
    expect(lm.prob('a', 'b')).toBeCloseTo((9 / 16) * 2 / 4, 15);
    expect(lm.prob('a', 'c')).toBeCloseTo(1 / 16, 15);
    const alphaA = (1 - 9 / 32 - 2 / 16) / (1 - 8 / 14);
    expect(lm.prob('a', 'a')).toBeCloseTo(alphaA * 4 / 14, 15);
    expect(lm.prob('a', 'd')).toBeCloseTo(alphaA * 2 / 14, 15);
    expect(lm.prob('d', 'b')).toBeCloseTo(((1 - 1 / 4) / (1 - 8 / 14)) * 2 / 14, 15);
    expect(sum(lm.distribution('a'))).toBeCloseTo(1, 14);
  });

  it('katz: a context whose counts all exceed k gives up (1 − d1)/T for unseen words', () => {
    // As above plus 4 × "e e": (e e) 4 and (e </s>) 4, both above k = 2; n1, n2, n3 unchanged, so d1 = 1/4.
    const tok = WordTokenizer.fromVocabulary(['a', 'b', 'c', 'd', 'e', '</s>']);
    const lm = NgramLM.train('a b c\na b d\na c\nd a\ne e\ne e\ne e\ne e\n', { tokenizer: tok, order: 2, smoothing: 'katz', katzK: 2 });
    expect(lm.discounts![1]![0]).toBeCloseTo(1 / 4, 15);
    const keep = 1 - (1 - 1 / 4) / 8;
    expect(lm.prob('e', 'e')).toBeCloseTo(keep / 2, 15);
    // Unigrams over 26 tokens: a 4, e 8, </s> 8; the rest goes to a, b, c, d.
    const alphaE = (1 - keep) / (1 - 16 / 26);
    expect(lm.prob('e', 'a')).toBeCloseTo(alphaE * 4 / 26, 15);
    expect(lm.prob('e', 'b')).toBeGreaterThan(0);
    expect(sum(lm.distribution('e'))).toBeCloseTo(1, 14);
  });

  it('kn: interpolated modified Kneser–Ney, bigrams (given discounts)', () => {
    const lm = NgramLM.train(CORPUS_A, { order: 2, discounts: D_TOY.slice(0, 2) });
    expect(lm.smoothing).toBe('kn');
    // Unigrams from continuation counts a 3, b 2, </s> 2, <unk> 0 (T' = 7); γ = (0.75·2 + 1·1)/7.
    const p1 = { a: 10.5 / 28, b: 7.5 / 28, '</s>': 7.5 / 28, '<unk>': 2.5 / 28 };
    expect(probsOf(lm, '<unk>')).toEqual(lm.vocab.tokens.map((t) => expect.closeTo(p1[t as keyof typeof p1], 15)));
    // Context a: (a b) 2, (a </s>) 2, (a a) 1 → T 5, γ = (0.6·1 + 0.9·2)/5 = 0.48.
    expect(lm.prob('a', 'b')).toBeCloseTo(61 / 175, 15);
    expect(lm.prob('a', 'a')).toBeCloseTo(0.26, 15);
    expect(lm.prob('a', '<unk>')).toBeCloseTo(3 / 70, 15);
    // Context <s>: (<s> a) 2, (<s> b) 1 → γ = 0.5.
    expect(lm.prob('', 'a')).toBeCloseTo(1.1 / 3 + 0.5 * 0.375, 15);
    expect(lm.prob('', '</s>')).toBeCloseTo(3.75 / 28, 15);
    // Perplexity of "a b": p(a | <s>) p(b | a) p(</s> | b), with p(</s> | b) = 0.4/3 + 0.5 · 7.5/28.
    const ps = [1.1 / 3 + 0.1875, 61 / 175, 0.4 / 3 + 3.75 / 28];
    const r = lm.perplexity('a b\n');
    expect(r.ppl).toBeCloseTo(Math.exp(-sum(ps.map(Math.log)) / 3), 12);
    expect(r).toMatchObject({ tokens: 3, lines: 1, normalized: true });
  });

  it('kn: trigrams; continuation counts below the top order, raw counts for n-grams that start with <s>', () => {
    const lm = NgramLM.train(CORPUS_B, { order: 3, discounts: D_TOY });
    // Order-2 adjusted counts: (a b) 2 (raw 3), (a </s>) 2 (raw 3), (a a) 1 → same p2(· | a) as corpus A.
    const p2a = { b: 61 / 175, a: 0.26, '</s>': 61 / 175, '<unk>': 3 / 70 };
    // Context <s> a: (<s> a b) 2, (<s> a a) 1 → T 3, γ = (0.7 + 1.0)/3.
    const g = 1.7 / 3;
    expect(lm.prob('a', 'b')).toBeCloseTo(1 / 3 + g * p2a.b, 15);
    expect(lm.prob('a', 'a')).toBeCloseTo(0.3 / 3 + g * p2a.a, 15);
    expect(lm.prob('a', '</s>')).toBeCloseTo(g * p2a['</s>'], 15);
    expect(lm.prob('a', '<unk>')).toBeCloseTo(g * p2a['<unk>'], 15);
    // Context <s> alone (the first word): (<s> a) 3 and (<s> b) 1 keep their raw counts → γ = (0.6 + 1.2)/4.
    expect(lm.prob('', 'a')).toBeCloseTo((3 - 1.2) / 4 + 0.45 * 0.375, 15);
    expect(lm.prob('', 'b')).toBeCloseTo((1 - 0.6) / 4 + 0.45 * 7.5 / 28, 15);
    // An unseen trigram context falls through to the bigram level: p(a | <unk> a) = p2(a | a).
    expect(lm.prob('<unk> a', 'a')).toBeCloseTo(0.26, 15);
  });

  it('kn: discounts from the count-of-counts, and the fallback where they do not exist', () => {
    // Bigram counts: 1, 2, 3 and 4 each twice → n1..n4 = 2: Y = 1/3, D1 = 1/3, D2 = 1, D3+ = 5/3.
    // Unigram continuation counts p, q, r, s 1, </s> 4: no n2 → fallback 0.5, 1, 1.5.
    const lm = NgramLM.train('p\nq\nq\nr\nr\nr\ns\ns\ns\ns\n', { order: 2 });
    expect(lm.discounts![0]).toEqual([0.5, 1, 1.5]);
    expect(lm.discounts![1]![0]).toBeCloseTo(1 / 3, 15);
    expect(lm.discounts![1]![1]).toBeCloseTo(1, 15);
    expect(lm.discounts![1]![2]).toBeCloseTo(5 / 3, 15);
    expect(lm.fallbackOrders).toEqual([1]);
  });
});

/** A seeded Markov-chain corpus: `lines` lines over `words` words with skewed transitions. */
function randomCorpus(seed: number, lines: number, words: number): string {
  const rng = new Random(seed);
  const out: string[] = [];
  for (let l = 0; l < lines; l++) {
    const len = 1 + Math.floor(rng.next() * 8);
    const line: string[] = [];
    let prev = Math.floor(rng.next() * words);
    for (let i = 0; i < len; i++) {
      const w = rng.next() < 0.6 ? (prev * 7 + 3) % words : Math.floor(rng.next() ** 2 * words);
      line.push(`w${w}`);
      prev = w;
    }
    out.push(line.join(' '));
  }
  return out.join('\n') + '\n';
}

describe('NgramLM: normalisation', () => {
  const text = randomCorpus(1, 300, 25);
  // The vocabulary includes '<unk>' (never seen) and one word that never occurs.
  const tok = WordTokenizer.fromVocabulary([...WordTokenizer.fit(text).vocab.tokens, 'never']);
  const rng = new Random(7);
  const pick = () => tok.vocab.tokens[Math.floor(rng.next() * tok.vocab.size)]!;

  for (const order of [1, 2, 3, 5]) {
    const base = NgramLM.train(text, { tokenizer: tok, order, smoothing: 'kn' });
    const models = [base, base.withSmoothing('add', { delta: 0.1 }), base.withSmoothing('katz'), base.withSmoothing('mle')];
    it(`order ${order}: p(· | context) sums to 1 within 1e-9 (kn, add, katz; mle in seen contexts)`, () => {
      const contexts: string[][] = [[]];
      const sentences = text.split('\n').filter(Boolean).map((s) => s.split(' '));
      for (let i = 0; i < 40; i++) {
        const s = sentences[Math.floor(rng.next() * sentences.length)]!;
        const cut = Math.floor(rng.next() * (s.length + 1));
        contexts.push(s.slice(0, cut)); // seen
        contexts.push([...s.slice(0, cut), pick(), pick()]); // partly seen
        contexts.push([pick(), 'never', pick()]); // unseen
        contexts.push([pick(), '</s>', ...s.slice(0, cut)]); // a line break inside the context
      }
      let mleSeen = 0;
      for (const lm of models) {
        for (const c of contexts) {
          let dist: Float64Array;
          try {
            dist = lm.distribution(c);
          } catch (e) {
            expect(lm.smoothing).toBe('mle');
            expect(e).toBeInstanceOf(ZeroProbabilityError);
            continue;
          }
          if (lm.smoothing === 'mle') mleSeen++;
          expect(Math.abs(sum(dist) - 1)).toBeLessThan(1e-9);
          expect(Math.abs(sum(probsOf(lm, c)) - 1)).toBeLessThan(1e-9);
          const w = Math.floor(rng.next() * dist.length);
          expect(Math.abs(dist[w]! - lm.prob(c, w))).toBeLessThanOrEqual(1e-15 * Math.max(1, dist[w]!));
        }
      }
      expect(mleSeen).toBeGreaterThan(40);
    });
  }

  it('tokenScores: the terms of perplexity(), and the largest probability of each context', () => {
    const kn = NgramLM.train(text, { tokenizer: tok, order: 3, smoothing: 'kn' });
    // kn has its own maxProb (sparse); katz takes the whole distribution; discounts 0 at order 2 make
    // those γ 0 (scored on training lines, where no probability is 0 then).
    const zeroD = kn.withSmoothing('kn', { discounts: [[0.5, 1, 1.5], [0, 0, 0], [0.5, 1, 1.5]] });
    for (const lm of [kn, kn.withSmoothing('katz'), zeroD]) {
      const ids = tok.encode(lm === zeroD ? text.split('\n').slice(0, 20).join('\n') + '\n' : randomCorpus(2, 20, 25));
      const { logProb, maxProb } = lm.tokenScores(ids, { maxProb: true });
      expect(-logProb.reduce((a, b) => a + b, 0) / ids.length).toBeCloseTo(lm.perplexity(ids).nll, 12);
      let start = 0;
      for (let i = 0; i < ids.length; i++) {
        const dist = lm.distribution(ids.subarray(start, i));
        expect(Math.abs(maxProb![i]! - Math.max(...dist))).toBeLessThan(1e-12);
        expect(maxProb![i]!).toBeGreaterThanOrEqual(Math.exp(logProb[i]!) - 1e-12);
        if (ids[i] === tok.eos) start = i + 1;
      }
      expect(lm.tokenScores(ids).maxProb).toBeUndefined();
    }
  });

  it('stupid backoff is flagged: scores do not sum to 1, perplexity refuses unless allowed', () => {
    const lm = NgramLM.train(text, { tokenizer: tok, order: 3, smoothing: 'stupid' });
    expect(lm.isDistribution).toBe(false);
    const s = sum(lm.distribution(['w1', 'w2']));
    expect(Math.abs(s - 1)).toBeGreaterThan(1e-3);
    expect(() => lm.perplexity(text)).toThrow(NotADistributionError);
    expect(() => lm.perplexity(text)).toThrow(/allowUnnormalized/);
    const r = lm.perplexity(text, { allowUnnormalized: true });
    expect(r.normalized).toBe(false);
    expect(Number.isFinite(r.ppl)).toBe(true);
    expect(() => lm.toARPA()).toThrow(/no backoff form/);
  });
});

describe('NgramLM: ARPA', () => {
  const text = randomCorpus(2, 200, 15);

  for (const smoothing of ['kn', 'katz'] as const) {
    it(`${smoothing}: export and import give the same probabilities`, () => {
      const lm = NgramLM.train(text, { order: 4, smoothing });
      const arpa = lm.toARPA();
      const again = NgramLM.fromARPA(arpa);
      expect(again.smoothing).toBe('arpa');
      expect(again.order).toBe(4);
      expect(again.vocab.tokens).toEqual(lm.vocab.tokens);
      const sentences = text.split('\n').filter(Boolean).slice(0, 30).map((s) => s.split(' '));
      const contexts = [[], ['w0', 'w1', 'w2'], ['never-seen'], ...sentences.map((s) => s.slice(0, 3))];
      for (const c of contexts) {
        const a = lm.distribution(c), b = again.distribution(c);
        for (let w = 0; w < a.length; w++) expect(Math.abs(a[w]! - b[w]!)).toBeLessThanOrEqual(1e-13 * a[w]!);
        expect(again.prob(c, 'w3')).toBeCloseTo(lm.prob(c, 'w3'), 14);
      }
      expect(again.perplexity(text).ppl).toBeCloseTo(lm.perplexity(text).ppl, 9);
      // Written again: the same n-grams, the same header.
      const again2 = again.toARPA().split('\n'), lines = arpa.split('\n');
      expect(again2.length).toBe(lines.length);
      expect(again2.slice(0, 6)).toEqual(lines.slice(0, 6));
    });
  }

  it('writes the standard layout: counts, <s> at −99 with a backoff, log10 values', () => {
    const lm = NgramLM.train(CORPUS_A, { order: 2, discounts: D_TOY.slice(0, 2) });
    const arpa = lm.toARPA();
    const lines = arpa.split('\n');
    expect(lines.slice(0, 3)).toEqual(['\\data\\', 'ngram 1=5', 'ngram 2=7']);
    expect(lines).toContain('\\1-grams:');
    expect(lines).toContain('\\2-grams:');
    expect(lines[lines.length - 2]).toBe('\\end\\');
    const field = (words: string) => lines.find((l) => l.split('\t')[1] === words)!.split('\t');
    expect(Number(field('a b')[0])).toBeCloseTo(Math.log10(61 / 175), 14);
    const bos = field('<s>');
    expect(bos[0]).toBe('-99');
    expect(Number(bos[2])).toBeCloseTo(Math.log10(0.5), 14); // γ(<s>) = 0.5
    expect(Number(field('a')[2])).toBeCloseTo(Math.log10(0.48), 14); // γ(a)
  });

  it('reads a hand-written ARPA file with backoff semantics', () => {
    const arpa = [
      'written by hand', '', '\\data\\', 'ngram 1=4', 'ngram 2=2', '',
      '\\1-grams:', '-0.5\ta\t-0.3', '-0.7 b', '-1.0\t</s>', '-99\t<s>\t-0.2', '',
      '\\2-grams:', '-0.1\ta b', '-0.4\t<s> a', '', '\\end\\', '',
    ].join('\n');
    const lm = NgramLM.fromARPA(arpa);
    expect(lm.vocab.tokens).toEqual(['a', 'b', '</s>']);
    expect(lm.prob('a', 'b')).toBeCloseTo(10 ** -0.1, 15);
    expect(lm.prob('a', '</s>')).toBeCloseTo(10 ** -0.3 * 10 ** -1.0, 15);
    expect(lm.prob('b', 'a')).toBeCloseTo(10 ** -0.5, 15); // b has no backoff weight: 1
    expect(lm.prob('', 'a')).toBeCloseTo(10 ** -0.4, 15);
    expect(lm.prob('', 'b')).toBeCloseTo(10 ** -0.2 * 10 ** -0.7, 15);
    expect(lm.predictNext('a', { topK: 1 })).toEqual([{ token: 'b', id: 1, prob: expect.closeTo(10 ** -0.1, 15) }]);
    expect(() => lm.prob('a', 'zzz')).toThrow(TokenizerError); // no <unk> in this model
    expect(() => lm.save()).toThrow(/has no counts/);
    expect(() => lm.withSmoothing('kn')).toThrow(/no counts/);
  });

  it('reads n-grams whose context is not listed (backoff 1) and trigrams of a 3-gram file', () => {
    const arpa = [
      '\\data\\', 'ngram 1=4', 'ngram 2=1', 'ngram 3=1', '',
      '\\1-grams:', '-0.6\ta\t-0.1', '-0.6\tb\t-0.2', '-0.5\t</s>', '-99\t<s>', '',
      '\\2-grams:', '-0.3\ta b\t-0.25', '',
      '\\3-grams:', '-0.05\tb a b', '',
      '\\end\\',
    ].join('\n');
    const lm = NgramLM.fromARPA(arpa);
    expect(lm.prob('b a', 'b')).toBeCloseTo(10 ** -0.05, 15); // listed, although (b a) is not
    expect(lm.prob('b a', 'a')).toBeCloseTo(10 ** -0.1 * 10 ** -0.6, 15); // (b a) unlisted → 1, then bow(a)
    expect(lm.prob('a b', 'a')).toBeCloseTo(10 ** -0.25 * 10 ** -0.2 * 10 ** -0.6, 15);
  });

  it('refuses malformed ARPA text with FileFormatError naming the line', () => {
    const good = ['\\data\\', 'ngram 1=3', 'ngram 2=1', '', '\\1-grams:', '-0.5\ta\t-0.1', '-0.5\t</s>', '-99\t<s>', '',
      '\\2-grams:', '-0.2\t<s> a', '', '\\end\\'];
    expect(() => NgramLM.fromARPA(good.join('\n'))).not.toThrow();
    const bad = (edit: (l: string[]) => void, message: RegExp) => {
      const l = good.slice();
      edit(l);
      expect(() => NgramLM.fromARPA(l.join('\n'))).toThrow(FileFormatError);
      expect(() => NgramLM.fromARPA(l.join('\n'))).toThrow(message);
    };
    bad((l) => l.splice(0, 1), /no \\data\\/);
    bad((l) => { l[1] = 'ngram 1=4'; }, /declares ngram 1=4 but the section lists 3/);
    bad((l) => { l[10] = '-0.2\t<s> zz'; }, /line 11: the word "zz" is not among the unigrams/);
    bad((l) => { l[10] = '-0.2\ta <s>'; }, /<s> can only begin/);
    bad((l) => { l[10] = '-0.2\t</s> a'; }, /<\/s> can only end/);
    bad((l) => { l[5] = 'x\ta'; }, /line 6: log10 p "x" is not a number/);
    bad((l) => { l[6] = '-0.5\ta'; }, /line 7: the unigram "a" is listed twice/);
    bad((l) => l.splice(12), /ends without \\end\\/);
    bad((l) => { l[6] = '-0.5\tb'; }, /do not include <\/s>/);
    bad((l) => { l[10] = '-0.2'; }, /needs log10 p, 2 words/);
    expect(() => NgramLM.fromARPA(42 as unknown as string)).toThrow(FileFormatError);
  });

  it('refuses to export a vocabulary that ARPA cannot hold', () => {
    const lm = NgramLM.train('ab a\nba\n', { tokenizer: CharTokenizer.fit('ab a\nba\n'), order: 2 });
    expect(() => lm.toARPA()).toThrow(/contains white space/);
  });
});

describe('NgramLM: model files', () => {
  const text = randomCorpus(3, 150, 12);

  for (const smoothing of ['mle', 'add', 'stupid', 'katz', 'kn'] as const) {
    it(`${smoothing}: save / load gives the same model`, () => {
      const lm = NgramLM.train(text, { order: 3, smoothing });
      const again = NgramLM.load(lm.save());
      expect(again.config).toEqual(lm.config);
      expect(again.vocab.tokens).toEqual(lm.vocab.tokens);
      expect(again.ngramCounts).toEqual(lm.ngramCounts);
      for (const c of [[], ['w1'], ['w2', 'w3'], ['w4', 'w4', 'w4']]) {
        const a = safeDistribution(lm, c), b = safeDistribution(again, c);
        expect(b).toEqual(a);
      }
    });
  }

  it('keeps given discounts and the character tokenizer', () => {
    const chars = 'abcab\nbca\ncab\n';
    const lm = NgramLM.train(chars, { tokenizer: CharTokenizer.fit(chars), order: 2, discounts: [[0.5, 1, 1.5], [0.4, 0.8, 1.2]] });
    const again = NgramLM.load(lm.save());
    expect(again.tokenizer.level).toBe('char');
    expect(again.config.discounts).toEqual([[0.5, 1, 1.5], [0.4, 0.8, 1.2]]);
    expect(again.prob('ab', 'c')).toBe(lm.prob('ab', 'c'));
  });

  it('refuses corrupt files with FileFormatError', () => {
    const lm = NgramLM.train(text, { order: 3 });
    const file = readSafetensors(lm.save());
    const rewrite = (edit: (t: Map<string, SafetensorsTensorInput>, m: Record<string, string>) => void): Uint8Array => {
      const tensors = new Map<string, SafetensorsTensorInput>();
      for (const [k, v] of file.tensors) tensors.set(k, { ...v, data: v.data.slice() as Int32Array });
      const meta = { ...file.metadata };
      edit(tensors, meta);
      return writeSafetensors(tensors, meta);
    };
    const bad = (bytes: Uint8Array, message: RegExp) => {
      expect(() => NgramLM.load(bytes)).toThrow(FileFormatError);
      expect(() => NgramLM.load(bytes)).toThrow(message);
    };
    expect(() => NgramLM.load(rewrite(() => {}))).not.toThrow();
    bad(new Uint8Array([1, 2, 3]), /too short/);
    bad(lm.save().subarray(0, 200), /.+/);
    bad(rewrite((_, m) => { m.format = 'mnemo-lm/1'; }), /format is 'mnemo-lm\/1'/);
    bad(rewrite((_, m) => { delete m.tokenizer; }), /tokenizer is missing/);
    bad(rewrite((_, m) => { m.config = '{"order":3,"smoothing":"magic"}'; }), /smoothing must be one of/);
    bad(rewrite((_, m) => { m.config = '{"order":0}'; }), /order must be an integer/);
    bad(rewrite((t) => t.delete('counts.2')), /'counts.2' is missing/);
    bad(rewrite((t) => t.set('extra', { dtype: 'I32', shape: [1], data: Int32Array.of(1) })), /unexpected tensor 'extra'/);
    bad(rewrite((t) => { const w = t.get('words.2')!.data; w[1] = w[0]!; }), /does not increase within its parent/);
    bad(rewrite((t) => { t.get('words.3')!.data[0] = 99999; }), /not a word id/);
    bad(rewrite((t) => { t.get('counts.3')!.data[0] = 0; }), /must be at least 1/);
    bad(rewrite((t) => { const f = t.get('first.1')!.data; f[f.length - 1]! -= 1; }), /first.1 must run from 0 to/);
    bad(rewrite((t) => { t.set('counts.1', { dtype: 'F32', shape: [1], data: Float32Array.of(1) }); }), /1-D I32 tensor/);
    // A trigram (p, x) whose suffix (last word of p, x) is not a stored bigram.
    bad(rewrite((t) => {
      const w2 = t.get('words.2')!.data as Int32Array, w3 = t.get('words.3')!.data as Int32Array;
      const f1 = t.get('first.1')!.data as Int32Array, f2 = t.get('first.2')!.data as Int32Array;
      for (let p = 0; p < w2.length; p++) {
        if (f2[p + 1]! - f2[p]! !== 1) continue; // one child: any word keeps it sorted
        const last = w2[p]!, seen = new Set(w2.subarray(f1[last]!, f1[last + 1]!));
        const x = Array.from({ length: f1.length - 2 }, (_, i) => i).find((i) => !seen.has(i));
        if (x === undefined) continue;
        w3[f2[p]!] = x;
        return;
      }
      throw new Error('no trigram to corrupt');
    }), /has no stored suffix of order 2/);
  });
});

/** distribution(), or the error's class name (mle in an unseen context). */
function safeDistribution(lm: NgramLM, c: string[]): Float64Array | string {
  try {
    return lm.distribution(c);
  } catch (e) {
    return (e as Error).name;
  }
}

describe('NgramLM: prediction and generation', () => {
  const text = randomCorpus(4, 300, 20);
  const lm = NgramLM.train(text, { order: 3 });

  it('predictNext: the most probable tokens of distribution(), with topK, prefix and partial words', () => {
    const dist = lm.distribution('w3 w4');
    const top = lm.predictNext('w3 w4', { topK: 5 });
    expect(top).toHaveLength(5);
    const order = Array.from(dist.keys()).sort((a, b) => dist[b]! - dist[a]! || a - b).slice(0, 5);
    expect(top.map((p) => p.id)).toEqual(order);
    expect(top.map((p) => p.prob)).toEqual(order.map((i) => dist[i]));
    expect(top.map((p) => p.token)).toEqual(order.map((i) => lm.vocab.tokens[i]));
    expect(lm.predictNext('w3 w4')).toHaveLength(10);
    const w1 = lm.predictNext('w3 w4', { prefix: 'w1' });
    expect(w1.every((p) => p.token.startsWith('w1'))).toBe(true);
    expect(lm.predictNext('w3 w4 w1', { partial: true })).toEqual(w1);
    // Text ending in a newline ends the line: the context restarts at <s>.
    expect(lm.predictNext('w3 w4\n')).toEqual(lm.predictNext(''));
    expect(lm.predictNext(['w3', '</s>'])).toEqual(lm.predictNext([]));
    expect(lm.predictNext(['w9', '<s>', 'w3'])).toEqual(lm.predictNext('w3'));
  });

  it('generate: seeded, repeatable; topK 1 is greedy; stopAtEos; the Predictor option checks', () => {
    const a = lm.generate('w1', { maxTokens: 30, seed: 5 });
    expect(lm.generate('w1', { maxTokens: 30, seed: 5 })).toBe(a);
    expect(lm.generate('w1', { maxTokens: 30, seed: 6 })).not.toBe(a);
    expect(a.split(/\s+/).filter(Boolean).length).toBeLessThanOrEqual(30);
    // Greedy: each token the argmax of the distribution after the text so far.
    const greedy = lm.generate('w1', { maxTokens: 6, topK: 1, seed: 1 });
    let ctx = ['w1'];
    const expected: string[] = [];
    for (let i = 0; i < 6; i++) {
      const best = lm.predictNext(ctx, { topK: 1 })[0]!.token;
      expected.push(best);
      ctx = best === '</s>' ? [] : [...ctx, best];
    }
    expect(greedy).toBe(lm.tokenizer.decode(expected.map((t) => lm.vocab.idOf(t))));
    const line = lm.generate('', { maxTokens: 200, seed: 2, stopAtEos: true });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(() => lm.generate('w1', { temperature: 0 })).toThrow(/temperature must be a finite number > 0/);
    expect(() => lm.generate('w1', { topP: 1.5 })).toThrow(/topP must be in \(0, 1\]/);
    expect(() => lm.generate('w1', { topK: 0 })).toThrow(/topK must be an integer ≥ 1/);
    expect(() => lm.generate('w1', { maxTokens: -1 })).toThrow(/maxTokens/);
    expect(() => lm.generate('w1', { seed: 0.5 })).toThrow(/seed/);
  });

  it('a character model generates characters', () => {
    const chars = 'the cat sat on the mat\nthe dog sat on the log\n';
    const c = NgramLM.train(chars, { tokenizer: CharTokenizer.fit(chars), order: 4 });
    const out = c.generate('the ', { maxTokens: 40, seed: 3, temperature: 0.5 });
    expect(out.length).toBe(40);
    expect(c.predictNext('the c', { topK: 1 })[0]!.token).toBe('a');
    expect(c.perplexity('the cat sat\n').ppl).toBeGreaterThan(1);
  });
});

describe('NgramLM: bad input', () => {
  it('names what is wrong', () => {
    expect(() => NgramLM.train('a b\n', { order: 0 })).toThrow(/order must be an integer in \[1, 64\], got 0/);
    expect(() => NgramLM.train('a b\n', { order: 2.5 })).toThrow(MnemoError);
    expect(() => NgramLM.train('a b\n', { smoothing: 'wb' as 'kn' })).toThrow(/smoothing must be one of 'mle', 'add', 'stupid', 'katz', 'kn', got "wb"/);
    expect(() => NgramLM.train('a b\n', { smoothing: 'kn', delta: 1 })).toThrow(/delta applies to smoothing 'add', not 'kn'/);
    expect(() => NgramLM.train('a b\n', { smoothing: 'add', delta: 0 })).toThrow(/delta must be a finite number > 0/);
    expect(() => NgramLM.train('a b\n', { smoothing: 'stupid', alpha: 1.5 })).toThrow(/alpha must be in \(0, 1\]/);
    expect(() => NgramLM.train('a b\n', { smoothing: 'katz', katzK: 0 })).toThrow(/katzK/);
    expect(() => NgramLM.train('a b\n', { order: 2, discounts: [[0.5, 1, 1.5]] })).toThrow(/2 triples/);
    expect(() => NgramLM.train('a b\n', { order: 1, discounts: [[1.5, 1, 1.5]] })).toThrow(/0 ≤ D1 ≤ 1/);
    expect(() => NgramLM.train('a b\n', { ordr: 2 } as object)).toThrow(/unknown option 'ordr'/);
    expect(() => NgramLM.train(Int32Array.of(0, 1))).toThrow(/needs options.tokenizer/);
    const tok = WordTokenizer.fit('a b\n');
    expect(() => NgramLM.train(Int32Array.of(0, 7), { tokenizer: tok })).toThrow(ShapeError);
    expect(() => NgramLM.train([['a', 'b c']])).toThrow(/without white space/);
    expect(() => NgramLM.train(42 as unknown as string)).toThrow(MnemoError);

    const lm = NgramLM.train([['a', 'b'], ['b', 'a']], { order: 2 });
    expect(lm.vocab.size).toBe(4);
    expect(() => lm.prob('a', 99)).toThrow(/token id 99 is out of range \[0, 4\)/);
    expect(() => lm.prob(42 as unknown as string, 'a')).toThrow(/context must be text/);
    expect(() => lm.predictNext('a', { topK: 0 })).toThrow(/topK must be an integer ≥ 1/);
    expect(() => lm.perplexity('')).toThrow(/no tokens/);
    expect(() => lm.perplexity(Int32Array.of(-1))).toThrow(ShapeError);
    expect(() => lm.withSmoothing('add').toARPA()).toThrow(/'add' has no backoff form/);
    // Unknown words become <unk>, an ordinary word.
    expect(lm.prob('zzz', 'a')).toBe(lm.prob('<unk>', 'a'));
    expect(lm.perplexity([['a', 'zzz']]).tokens).toBe(3);
  });
});
