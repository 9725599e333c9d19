// Predictor: feed/predictNext against the model's batched forward, the start
// context, incremental predictNextText (extend, rewind after an edit, restart)
// against a fresh predictor, word-level line ends and partial words, seeded
// generation (repeatable; topK 1, tiny topP and tiny temperature are greedy),
// the sampling distribution (temperature, topK, topP) against exact
// probabilities, and option validation. Node and Chromium.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';
import { topIds } from '../../src/lm/predictor.js';

const TEXT = 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n';

async function setup(options: Partial<mnemo.LMOptions> = {}, build?: 'simd' | 'relaxed') {
  const rt = await mnemo.init(build ? { build } : {});
  const tok = mnemo.WordTokenizer.fit(TEXT);
  const model = new mnemo.RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 8, hiddenSize: 12, numLayers: 2, seed: 2, ...options });
  const r = rng(4);
  for (const p of model.parameters()) {
    const d = p.value.data;
    for (let i = 0; i < d.length; i++) d[i] = r() * 0.8;
  }
  return { rt, tok, model };
}

/** log-softmax of the last row of the model's forward over [eos, ...ids] (T = n + 1, B = 1). */
function batchedLogProbs(rt: mnemo.Runtime, model: mnemo.RNNLanguageModel, eos: number, ids: number[]): Float32Array {
  const all = [eos, ...ids];
  const { logits } = model.forward(rt.intTensor([all.length, 1], all));
  const lp = mnemo.logSoftmax(logits);
  const V = model.config.vocabSize;
  const out = lp.toArray().slice((all.length - 1) * V);
  lp.dispose();
  return out;
}

describe('Predictor', () => {
  for (const cell of ['lstm', 'gru', 'rnn_tanh'] as const) {
    it(`${cell}: feed + predictNext = the batched forward from the start context`, async () => {
      const { rt, tok, model } = await setup({ cell });
      const p = new mnemo.Predictor(model, tok);
      const words = ['the', 'dog', 'sat', 'on', 'a', 'mat'];
      const ids = words.map((w) => tok.vocab.idOf(w));
      for (let n = 0; n <= words.length; n++) {
        if (n > 0) p.feed(words[n - 1]!);
        const ref = batchedLogProbs(rt, model, tok.eos, ids.slice(0, n));
        const got = p.logProbabilities();
        for (let v = 0; v < ref.length; v++) expect(Math.abs(got[v]! - ref[v]!)).toBeLessThan(2e-6);
        const top = p.predictNext({ topK: 3 });
        const order = Array.from(ref.keys()).sort((a, b) => ref[b]! - ref[a]! || a - b).slice(0, 3);
        expect(top.map((t) => t.id)).toEqual(order);
        expect(top.map((t) => t.token)).toEqual(order.map((i) => tok.vocab.tokenOf(i)));
        for (const t of top) expect(Math.abs(t.prob - Math.exp(ref[t.id]!))).toBeLessThan(1e-6);
      }
      expect(p.context).toEqual(ids);
      let sum = 0;
      for (const v of p.logProbabilities()) sum += Math.exp(v);
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
      p.reset();
      expect(p.context).toEqual([]);
      const fresh = batchedLogProbs(rt, model, tok.eos, []);
      expect(Array.from(p.logProbabilities()).every((v, i) => Math.abs(v - fresh[i]!) < 2e-6)).toBe(true);
      p.dispose();
      model.dispose();
    });
  }

  it('predictNextText is incremental (extend, rewind an edited word, restart) and equals a fresh predictor', async () => {
    const { tok, model } = await setup();
    const p = new mnemo.Predictor(model, tok);
    const long = Array.from({ length: 40 }, (_, i) => ['the', 'cat', 'sat', 'on', 'mat'][i % 5]).join(' ');
    const texts = ['the cat', 'the cat sat on', 'the cat sat on the', 'the cat sit', 'a dog', 'a dog\nthe', '',
      long, long + ' dog', long.replace(/mat$/, 'log'), long.replace(/^the/, 'a'), 'the cat sat on'];
    for (const text of texts) {
      const got = p.predictNextText(text, { topK: 5 });
      const q = new mnemo.Predictor(model, tok);
      const ids = Array.from(tok.encode(text));
      if (!text.endsWith('\n') && ids.length > 0 && ids[ids.length - 1] === tok.eos) ids.pop();
      for (const id of ids) q.feed(id);
      expect(p.context, text).toEqual(ids);
      expect(got, text).toEqual(q.predictNext({ topK: 5 }));
      expect(p.logProbabilities()).toEqual(q.logProbabilities()); // bit for bit
      q.dispose();
    }
    p.dispose();
    model.dispose();
  });

  it('word level: a line end is context only when the text ends a line; partial words complete by prefix', async () => {
    const { tok, model } = await setup();
    const p = new mnemo.Predictor(model, tok);
    const id = (w: string) => tok.vocab.idOf(w);
    p.predictNextText('the cat');
    expect(p.context).toEqual([id('the'), id('cat')]);
    p.predictNextText('the cat \n ');
    expect(p.context).toEqual([id('the'), id('cat'), tok.eos]);
    const completions = p.predictNextText('the cat sat on the m', { partial: true, topK: 20 });
    expect(p.context).toEqual(['the', 'cat', 'sat', 'on', 'the'].map(id));
    expect(completions.map((c) => c.token).sort()).toEqual(['mat']);
    const all = p.predictNext({ topK: tok.vocab.size });
    expect(completions[0]!.prob).toBe(all.find((c) => c.token === 'mat')!.prob); // not renormalised
    expect(p.predictNextText('the cat ', { partial: true }).length).toBe(10); // ends in a space: nothing partial
    expect(p.predictNext({ prefix: 'zz' })).toEqual([]);
    p.dispose();
    model.dispose();
  });

  it('character level: every character is context, generate returns characters', async () => {
    const rt = await mnemo.init();
    const tok = mnemo.CharTokenizer.fit(TEXT);
    const model = new mnemo.RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 6, hiddenSize: 10, cell: 'gru', seed: 1 });
    const p = new mnemo.Predictor(model, tok);
    p.predictNextText('the c');
    expect(p.context).toEqual(Array.from(tok.encode('the c')));
    const text = p.generate('the ', { maxTokens: 12, seed: 3 });
    expect(Array.from(text).length).toBe(12);
    expect(p.context.length).toBe(4 + 12);
    p.dispose();
    model.dispose();
  });

  it('generate: seeded and repeatable; topK 1, a tiny topP or a tiny temperature are greedy', async () => {
    const { tok, model } = await setup();
    const p = new mnemo.Predictor(model, tok);
    const a = p.generate('the cat', { maxTokens: 30, seed: 7 });
    expect(p.generate('the cat', { maxTokens: 30, seed: 7 })).toBe(a);
    expect(new mnemo.Predictor(model, tok).generate('the cat', { maxTokens: 30, seed: 7 })).toBe(a);
    const others = [8, 9, 10].map((seed) => p.generate('the cat', { maxTokens: 30, seed }));
    expect(others.some((o) => o !== a)).toBe(true);
    // Greedy by hand.
    p.predictNextText('the cat');
    const greedy: number[] = [];
    for (let i = 0; i < 20; i++) {
      const best = p.predictNext({ topK: 1 })[0]!.id;
      greedy.push(best);
      p.feed(best);
    }
    const text = tok.decode(greedy);
    expect(p.generate('the cat', { maxTokens: 20, topK: 1, seed: 1 })).toBe(text);
    expect(p.generate('the cat', { maxTokens: 20, topP: 1e-9, seed: 2 })).toBe(text);
    expect(p.generate('the cat', { maxTokens: 20, temperature: 1e-3, seed: 3 })).toBe(text);
    // stopAtEos ends after the first line end.
    const line = p.generate('', { maxTokens: 200, seed: 5, stopAtEos: true });
    expect(line.indexOf('\n')).toBeGreaterThanOrEqual(line.length - 1);
    p.dispose();
    model.dispose();
  });

  it('samples from the right distribution: temperature, topK and topP against exact probabilities', async () => {
    // A model whose next-token distribution ignores the context: every weight 0, decoder.bias = ln p.
    const rt = await mnemo.init();
    const tok = mnemo.WordTokenizer.fromVocabulary(['a', 'b', '</s>', 'c', 'd']);
    const model = new mnemo.RNNLanguageModel(rt, { vocabSize: 5, embeddingDim: 3, hiddenSize: 3, seed: 1 });
    for (const p of model.parameters()) p.value.data.fill(0);
    const probs = [0.15, 0.4, 0.1, 0.3, 0.05];
    model.decoder.bias!.value.set(probs.map(Math.log));
    const pred = new mnemo.Predictor(model, tok);
    const n = 20000;
    const check = (options: mnemo.GenerateOptions, expected: number[]) => {
      pred.generate('', { ...options, maxTokens: n, seed: 11 });
      const counts = [0, 0, 0, 0, 0];
      for (const id of pred.context) counts[id]!++;
      const sum = expected.reduce((x, y) => x + y, 0);
      expected.forEach((e, i) => {
        const q = e / sum;
        expect(Math.abs(counts[i]! / n - q), `${JSON.stringify(options)} id ${i}`).toBeLessThanOrEqual(4.5 * Math.sqrt(q * (1 - q) / n));
      });
    };
    check({}, probs);
    check({ temperature: 0.5 }, probs.map((p) => p * p));
    check({ temperature: 2 }, probs.map(Math.sqrt));
    check({ topK: 2 }, [0, 0.4, 0, 0.3, 0]);
    check({ topP: 0.6 }, [0, 0.4, 0, 0.3, 0]);          // 0.4 < 0.6 ≤ 0.4 + 0.3
    check({ topP: 0.8 }, [0.15, 0.4, 0, 0.3, 0]);        // 0.7 < 0.8 ≤ 0.85
    check({ topK: 3, topP: 0.9 }, [0.15, 0.4, 0, 0.3, 0]); // the nucleus of the renormalised top 3
    pred.dispose();
    model.dispose();
  });

  it('validates options and tokens with clear errors, and leaves the model\'s mode alone', async () => {
    const { rt, tok, model } = await setup();
    const p = new mnemo.Predictor(model, tok);
    expect(() => p.generate('the', { temperature: 0 })).toThrow(/temperature must be a finite number > 0, got 0/);
    expect(() => p.generate('the', { temperature: NaN })).toThrow(/temperature/);
    expect(() => p.generate('the', { topP: 0 })).toThrow(/topP must be in \(0, 1\], got 0/);
    expect(() => p.generate('the', { topP: 1.5 })).toThrow(/topP must be in \(0, 1\], got 1.5/);
    expect(() => p.generate('the', { topK: 0 })).toThrow(/topK must be an integer ≥ 1, got 0/);
    expect(() => p.generate('the', { maxTokens: -1 })).toThrow(/maxTokens must be an integer ≥ 0/);
    expect(() => p.predictNext({ topK: 1.5 })).toThrow(/topK must be an integer ≥ 1, got 1.5/);
    expect(() => p.feed(tok.vocab.size)).toThrow(/token id \d+ is out of range/);
    p.feed('zebra'); // unknown word: '<unk>'
    expect(p.context[p.context.length - 1]).toBe(tok.vocab.unkId);
    const small = new mnemo.RNNLanguageModel(rt, { vocabSize: 3, embeddingDim: 2, hiddenSize: 2, seed: 1 });
    expect(() => new mnemo.Predictor(small, tok)).toThrow(/the tokenizer has \d+ tokens but the model's vocabulary is 3/);
    model.train();
    p.predictNextText('the cat');
    expect(model.training).toBe(true);
    p.dispose();
    small.dispose();
    model.dispose();
  });
});

describe('topIds', () => {
  it('equals a full sort (descending, ties by lower id), with ties, −∞, k ≥ n and a filter', () => {
    const r = rng(9);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(r() * 40 + 20) % 60, k = 1 + Math.floor(Math.abs(r()) * 70) % 70;
      // Few distinct values, so that ties are common; some −∞ (a probability of 0).
      const v = Float32Array.from({ length: n }, () => (Math.abs(r()) < 0.1 ? -Infinity : Math.round(r() * 4) / 2));
      const keep = trial % 2 ? (id: number) => id % 3 !== 0 : undefined;
      const want = [...v.keys()].filter((i) => !keep || keep(i)).sort((a, b) => (v[b]! - v[a]!) || a - b).slice(0, k);
      expect(topIds(v, k, keep), `trial ${trial}`).toEqual(want);
    }
  });
});
