// NgramLM on the Brown data of ../shared/data/brown (valid split only; the
// test split is held out): interpolated modified Kneser–Ney must match an
// independent implementation's valid perplexities for orders 2–5 within 1 %
// (173.76 / 164.97 / 164.23 / 163.95; each line restarted with <s>, every
// token and '</s>' predicted, N = 200,000). Also on real data: the model
// file and ARPA round trips give the same perplexity, Katz gives a finite
// one, and distributions sum to 1. Skipped, with a message, when the data
// are absent. Takes about 15 s.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NgramLM, WordTokenizer } from 'mnemo';

const dir = fileURLToPath(new URL('../../../shared/data/brown/', import.meta.url));
const have = existsSync(join(dir, 'train.txt')) && existsSync(join(dir, 'valid.txt')) && existsSync(join(dir, 'vocab.txt'));
if (!have) console.warn(`ngram-brown.test: ${dir} is absent, so the Brown perplexity targets are skipped`);

const TARGETS: Record<number, number> = { 2: 173.76, 3: 164.97, 4: 164.23, 5: 163.95 };

describe.skipIf(!have)('NgramLM on Brown', () => {
  const load = () => {
    const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[0]!);
    const tokenizer = WordTokenizer.fromVocabulary(vocab);
    return {
      tokenizer,
      train: tokenizer.encode(readFileSync(join(dir, 'train.txt'), 'utf8')),
      valid: tokenizer.encode(readFileSync(join(dir, 'valid.txt'), 'utf8')),
    };
  };
  const data = have ? load() : null;
  const models = new Map<number, NgramLM>();

  it('interpolated modified Kneser–Ney: valid perplexity of orders 2–5 within 1 % of the independent implementation', () => {
    const { tokenizer, train, valid } = data!;
    expect(tokenizer.vocab.size).toBe(13_845);
    expect(train.length).toBe(800_005);
    for (const order of [2, 3, 4, 5]) {
      const t0 = performance.now();
      const lm = NgramLM.train(train, { tokenizer, order, smoothing: 'kn' });
      const trainMs = performance.now() - t0;
      const r = lm.perplexity(valid);
      models.set(order, lm);
      const ngrams = lm.ngramCounts.reduce((a, b) => a + b, 0);
      console.log(`Brown KN ${order}-gram: valid ppl ${r.ppl.toFixed(3)} (target ${TARGETS[order]}), trained in ${trainMs.toFixed(0)} ms, `
        + `${ngrams} n-grams, ${(lm.byteLength / ngrams).toFixed(1)} bytes per n-gram (${(lm.trie.byteLength / ngrams).toFixed(1)} for the counts)`);
      expect(r.tokens).toBe(200_000);
      expect(r.lines).toBe(10_052);
      expect(Math.abs(r.ppl / TARGETS[order]! - 1)).toBeLessThan(0.01);
    }
  });

  it('the model file and ARPA give the same perplexity; distributions sum to 1', () => {
    const { tokenizer, train, valid } = data!;
    const lm5 = models.get(5) ?? NgramLM.train(train, { tokenizer, order: 5 });
    const ppl5 = lm5.perplexity(valid).ppl;
    const bytes = lm5.save();
    const loaded = NgramLM.load(bytes);
    expect(loaded.perplexity(valid).ppl).toBe(ppl5);
    console.log(`Brown KN 5-gram model file: ${(bytes.length / 1e6).toFixed(1)} MB`);

    const lm3 = models.get(3) ?? NgramLM.train(train, { tokenizer, order: 3 });
    const t0 = performance.now();
    const arpa = lm3.toARPA();
    const fromArpa = NgramLM.fromARPA(arpa);
    console.log(`Brown KN 3-gram ARPA: ${(arpa.length / 1e6).toFixed(1)} MB, written and read in ${(performance.now() - t0).toFixed(0)} ms`);
    const ppl3 = lm3.perplexity(valid).ppl;
    expect(Math.abs(fromArpa.perplexity(valid).ppl / ppl3 - 1)).toBeLessThan(1e-12);

    const lines = readFileSync(join(dir, 'valid.txt'), 'utf8').split('\n').slice(0, 50).map((l) => l.split(' '));
    for (const lm of [lm5, lm5.withSmoothing('katz'), fromArpa]) {
      for (const line of lines.slice(0, 10)) {
        const total = lm.distribution(line.slice(0, 3)).reduce((a, b) => a + b, 0);
        expect(Math.abs(total - 1)).toBeLessThan(lm.smoothing === 'arpa' ? 1e-12 : 1e-9);
      }
    }
  });

  it('katz gives a finite perplexity (no zero probabilities) and stupid backoff is refused', () => {
    const { tokenizer, train, valid } = data!;
    const lm = (models.get(3) ?? NgramLM.train(train, { tokenizer, order: 3 })).withSmoothing('katz');
    const r = lm.perplexity(valid);
    console.log(`Brown Katz 3-gram: valid ppl ${r.ppl.toFixed(2)}`);
    expect(Number.isFinite(r.ppl)).toBe(true);
    expect(r.ppl).toBeGreaterThan(TARGETS[3]!); // Kneser–Ney is the better method here
    expect(() => lm.withSmoothing('stupid').perplexity(valid)).toThrow(/not probabilities/);
  });
});
