// WindowLanguageModel (Bengio et al. 2003) and its tanh_backward kernel:
// parameter names and shapes (PyTorch's nn.Embedding / nn.Linear state_dict),
// initialisation; forward against a float64 re-implementation of the whole
// model (contexts padded with each stream's first token); the carried state
// (windows of any length, T < C included) = one long window; gradients of
// every parameter against central finite differences (direct connections,
// tied weights); dropout replay; tanh_backward against finite differences of
// vec_tanh; the Trainer (loss falls, resume is exact), perplexity() against
// the float64 reference (batchSize 1 and the restart rule of batchSize > 1),
// the Predictor against the batched forward; and clear errors. Node and
// Chromium, both builds where the kernels differ.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';

type Rt = mnemo.Runtime;
const builds = ['simd', 'relaxed'] as const;

function model(rt: Rt, options: Partial<mnemo.WindowLMOptions> = {}): mnemo.WindowLanguageModel {
  return new mnemo.WindowLanguageModel(rt, {
    vocabSize: 7, contextSize: 3, embeddingDim: 4, hiddenSize: 5, directConnections: true, seed: 3, ...options,
  });
}

/** Every parameter ~ U(±scale), seeded (the default init leaves direct.weight at 0). */
function randomize(m: mnemo.WindowLanguageModel, seed: number, scale = 0.5): void {
  const r = rng(seed);
  for (const p of m.parameters()) {
    const d = p.value.data;
    for (let i = 0; i < d.length; i++) d[i] = r() * scale;
  }
}

function weights(m: mnemo.WindowLanguageModel): Map<string, Float64Array> {
  const w = new Map<string, Float64Array>();
  for (const [name, p] of m.namedParameters()) w.set(name, Float64Array.from(p.value.data));
  if (m.config.tieWeights) w.set('decoder.weight', w.get('encoder.weight')!);
  return w;
}

/**
 * Float64 reference: log p(targets[t] | context) for one stream read from the
 * empty history; the context of step t is inputs[t − C + 1 .. t], positions
 * before the stream's start taking inputs[0].
 */
function referenceLogProbs(c: mnemo.WindowLMConfig, w: Map<string, Float64Array>, inputs: number[], targets: number[]): number[] {
  const { vocabSize: V, contextSize: C, embeddingDim: m, hiddenSize: H } = c;
  const D = C * m;
  const enc = w.get('encoder.weight')!, hw = w.get('hidden.weight')!, hb = w.get('hidden.bias')!;
  const dw = w.get('decoder.weight')!, db = w.get('decoder.bias')!, xw = w.get('direct.weight');
  return inputs.map((_, t) => {
    const x = new Float64Array(D);
    for (let j = 0; j < C; j++) {
      const id = inputs[Math.max(0, t - C + 1 + j)]!;
      for (let k = 0; k < m; k++) x[j * m + k] = enc[id * m + k]!;
    }
    const h = new Float64Array(H);
    for (let r = 0; r < H; r++) {
      let s = hb[r]!;
      for (let k = 0; k < D; k++) s += hw[r * D + k]! * x[k]!;
      h[r] = Math.tanh(s);
    }
    const logits = new Float64Array(V);
    for (let v = 0; v < V; v++) {
      let s = db[v]!;
      for (let k = 0; k < H; k++) s += dw[v * H + k]! * h[k]!;
      if (xw) for (let k = 0; k < D; k++) s += xw[v * D + k]! * x[k]!;
      logits[v] = s;
    }
    const max = Math.max(...logits);
    let sum = 0;
    for (const l of logits) sum += Math.exp(l - max);
    return logits[targets[t]!]! - max - Math.log(sum);
  });
}

/** Mean −ln p over a stream from the start context, restarting at the given part starts. */
function referenceNll(c: mnemo.WindowLMConfig, w: Map<string, Float64Array>, stream: Int32Array, start: number, partStarts = [0]): number {
  let total = 0;
  partStarts.forEach((a, k) => {
    const targets = Array.from(stream.subarray(a, partStarts[k + 1] ?? stream.length));
    total -= referenceLogProbs(c, w, [start, ...targets.slice(0, -1)], targets).reduce((x, y) => x + y, 0);
  });
  return total / stream.length;
}

/** log-softmax of (T·B, V) logits as rows of float64. */
function logSoftmaxRows(logits: Float32Array, V: number): number[][] {
  const out: number[][] = [];
  for (let r = 0; r < logits.length / V; r++) {
    const row = Array.from(logits.subarray(r * V, (r + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, l) => s + Math.exp(l - max), 0));
    out.push(row.map((l) => l - lse));
  }
  return out;
}

describe('WindowLanguageModel: structure', () => {
  it('has PyTorch names and shapes in state_dict order (direct connections, tied weights)', async () => {
    const rt = await mnemo.init();
    const a = model(rt, { vocabSize: 11, contextSize: 4, embeddingDim: 6, hiddenSize: 5 });
    expect(a.namedParameters().map(([n, p]) => [n, p.value.shape])).toEqual([
      ['encoder.weight', [11, 6]], ['hidden.weight', [5, 24]], ['hidden.bias', [5]],
      ['decoder.weight', [11, 5]], ['decoder.bias', [11]], ['direct.weight', [11, 24]],
    ]);
    expect(a.config).toEqual({ model: 'window', vocabSize: 11, contextSize: 4, embeddingDim: 6, hiddenSize: 5,
      directConnections: true, embeddingDropout: 0, hiddenDropout: 0, tieWeights: false, seed: 3 });
    expect(JSON.parse(JSON.stringify(a.config))).toEqual(a.config);
    expect(a.featureSize).toBe(5 + 24);
    const b = model(rt, { embeddingDim: 5, directConnections: false, tieWeights: true });
    expect(b.namedParameters().map(([n, p]) => [n, p.value.shape])).toEqual([
      ['encoder.weight', [7, 5]], ['hidden.weight', [5, 15]], ['hidden.bias', [5]], ['decoder.bias', [7]],
    ]);
    expect(b.decoder.weight).toBe(b.encoder.weight);
    expect(b.featureSize).toBe(5);
    for (const m of [a, b]) {
      expect(mnemo.windowParameterShapes(m.config)).toEqual(m.namedParameters().map(([n, p]) => [n, [...p.value.shape]]));
      expect(mnemo.isWindowConfig(m.config)).toBe(true);
      expect(m.numParameters).toBe(m.parameters().reduce((s, p) => s + p.value.size, 0));
    }
    a.dispose(); b.dispose();
  });

  it('initialises encoder U(±0.1), decoder.bias and direct.weight 0; the same for the same seed', async () => {
    const rt = await mnemo.init();
    const a = model(rt), b = model(rt), c = model(rt, { seed: 4 });
    const enc = a.encoder.weight.value.toArray();
    expect(Math.max(...enc.map(Math.abs))).toBeLessThanOrEqual(0.1);
    expect(Math.max(...enc.map(Math.abs))).toBeGreaterThan(0.05);
    expect(a.decoder.bias!.value.toArray().every((v) => v === 0)).toBe(true);
    expect(a.direct!.weight.value.toArray().every((v) => v === 0)).toBe(true);
    const hw = a.hidden.weight.value.toArray(); // U(±1/√(C·m)) = U(±0.2887)
    expect(Math.max(...hw.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(12));
    a.namedParameters().forEach(([, p], i) => expect(p.value.toArray()).toEqual(b.namedParameters()[i]![1].value.toArray()));
    expect(c.encoder.weight.value.toArray()).not.toEqual(enc);
    for (const m of [a, b, c]) m.dispose();
  });
});

describe('WindowLanguageModel: forward', () => {
  for (const build of builds) {
    it(`${build}: logits = the float64 reference, contexts padded with each stream's first token`, async () => {
      const rt = await mnemo.init({ build });
      for (const options of [{}, { directConnections: false }, { tieWeights: true, embeddingDim: 5 }, { contextSize: 1 }]) {
        const m = model(rt, options);
        randomize(m, 11);
        m.eval();
        const T = 6, B = 3, r = rng(5);
        const streams = Array.from({ length: B }, () => Array.from({ length: T + 1 }, () => Math.floor((r() * 0.5 + 0.5) * 7)));
        const ids = rt.intTensor([T, B]), flat = ids.data;
        for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) flat[t * B + b] = streams[b]![t]!;
        const lp = logSoftmaxRows(m.forward(ids).logits.toArray(), 7);
        const w = weights(m);
        for (let b = 0; b < B; b++) {
          const ref = referenceLogProbs(m.config, w, streams[b]!.slice(0, T), streams[b]!.slice(1));
          for (let t = 0; t < T; t++) expect(Math.abs(lp[t * B + b]![streams[b]![t + 1]!]! - ref[t]!)).toBeLessThan(2e-5);
        }
        m.dispose();
      }
    });
  }

  it('the returned state carries the history: windows of any length (T < C too) = one long window', async () => {
    const rt = await mnemo.init();
    const m = model(rt, { contextSize: 4 });
    randomize(m, 2);
    m.eval();
    const T = 9, B = 2;
    const all = Array.from({ length: T * B }, (_, i) => (i * 5 + 3) % 7);
    const whole = m.forward(rt.intTensor([T, B], all)).logits.toArray();
    for (const lengths of [[1, 1, 1, 1, 1, 1, 1, 1, 1], [2, 5, 2], [4, 5], [3, 1, 5]]) {
      let state = m.initState(B), t0 = 0;
      const got: number[] = [];
      for (const L of lengths) {
        const out = m.forward(rt.intTensor([L, B], all.slice(t0 * B, (t0 + L) * B)), state);
        got.push(...out.logits.toArray());
        state = out.state; // the model's own buffer, passed straight back
        t0 += L;
      }
      for (let i = 0; i < whole.length; i++) expect(Math.abs(got[i]! - whole[i]!), `${lengths} [${i}]`).toBeLessThan(1e-5);
      // The state is the last C tokens, id + 1, oldest first.
      expect(Array.from(state.h.toArray())).toEqual([0, 1].flatMap((b) => all.filter((_, i) => i % B === b).slice(-4).map((id) => id + 1)));
    }
    // detachState copies; a forward with another batch size leaves the copy alone.
    const out = m.forward(rt.intTensor([2, 2], [1, 2, 3, 4]));
    const kept = m.detachState(out.state);
    m.forward(rt.intTensor([1, 1], [5]));
    expect(kept.h.shape).toEqual([1, 2, 4]);
    // The history: [none, none, 1, 3] for stream 0 and [none, none, 2, 4] for stream 1, as ids + 1.
    expect(Array.from(kept.h.toArray())).toEqual([0, 0, 2, 4, 0, 0, 3, 5]);
    m.dispose();
  });

  it('decode(forwardHidden(ids)) = forward(ids), with and without direct connections', async () => {
    const rt = await mnemo.init();
    for (const directConnections of [true, false]) {
      const m = model(rt, { directConnections });
      randomize(m, 8);
      m.eval();
      const ids = rt.intTensor([3, 2], [1, 2, 3, 4, 5, 6]);
      const ref = m.forward(ids).logits.toArray();
      const { output } = m.forwardHidden(ids);
      expect(output.shape).toEqual([3, 2, m.featureSize]);
      const got = m.decode(output.view([6, m.featureSize])).toArray();
      for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-6);
      m.dispose();
    }
  });
});

describe('WindowLanguageModel: gradients', () => {
  /**
   * The mean cross-entropy's gradient against central differences (h = 1e-2, the
   * loss in float64 from f32 logits) for elements of every parameter, as for the
   * recurrent model: tolerance 2e-3 × the largest |gradient|.
   */
  for (const options of [{}, { tieWeights: true, embeddingDim: 5, directConnections: false }, { contextSize: 1 }]) {
    it(`match finite differences (${JSON.stringify(options)})`, async () => {
      const rt = await mnemo.init();
      const m = model(rt, options);
      randomize(m, 7);
      const T = 3, B = 2;
      const ids = rt.intTensor([T, B], [1, 4, 2, 6, 0, 3]);
      const targets = rt.intTensor([T * B], [4, 2, 6, 0, 3, 5]);
      const state = m.initState(B);
      // A history (ids + 1; 0 = none): with C = 3, stream 0 has read two tokens and stream 1 three.
      state.h.data.set(m.config.contextSize === 1 ? [6, 2] : [0, 3, 6, 2, 5, 1]);
      const lossFn = new mnemo.CrossEntropyLoss(rt);
      const loss = () => lossFn.forward(m.forward(ids, state).logits, targets);
      m.zeroGrad();
      m.lossAndBackward(ids, targets, state);
      const r = rng(3);
      for (const [name, p] of m.namedParameters()) {
        const grad = p.grad.toArray();
        const scale = Math.max(...grad.map(Math.abs));
        expect(scale, name).toBeGreaterThan(0);
        for (let k = 0; k < 8; k++) {
          const i = Math.floor((r() * 0.5 + 0.5) * p.value.size);
          const v = p.value.data, x0 = v[i]!;
          v[i] = x0 + 1e-2; const up = Math.fround(x0 + 1e-2) - x0; const lUp = loss();
          v[i] = x0 - 1e-2; const dn = x0 - Math.fround(x0 - 1e-2); const lDn = loss();
          v[i] = x0;
          const fd = (lUp - lDn) / (up + dn);
          expect(Math.abs(fd - grad[i]!), `${name}[${i}]`).toBeLessThan(2e-3 * scale + 1e-7);
        }
      }
      lossFn.dispose();
      m.dispose();
    });
  }

  it('dropout: active in training only, replayed by setDropoutState', async () => {
    const rt = await mnemo.init();
    const m = model(rt, { embeddingDropout: 0.3, hiddenDropout: 0.4 });
    randomize(m, 1);
    const ids = rt.intTensor([5, 2], [1, 2, 3, 4, 5, 6, 0, 1, 2, 3]), targets = rt.intTensor([10], [2, 3, 4, 5, 6, 0, 1, 2, 3, 4]);
    const saved = m.getDropoutState();
    m.zeroGrad();
    const l1 = m.lossAndBackward(ids, targets).loss;
    const g1 = m.parameters().map((p) => p.grad.toArray());
    const l2 = m.lossAndBackward(ids, targets).loss;
    expect(l2).not.toBe(l1); // new masks
    expect(m.getDropoutState()).toEqual({ embedding: saved.embedding + 2, hidden: saved.hidden + 2 });
    m.setDropoutState(saved);
    m.zeroGrad();
    expect(m.lossAndBackward(ids, targets).loss).toBe(l1);
    m.parameters().forEach((p, i) => expect(p.grad.toArray()).toEqual(g1[i]));
    m.eval();
    const e1 = m.forward(ids).logits.toArray(), e2 = m.forward(ids).logits.toArray();
    expect(e1).toEqual(e2);
    expect(() => m.setDropoutState({ embedding: -1, hidden: 0 })).toThrow(/embedding must be a u32/);
    m.dispose();
  });
});

describe('tanh_backward kernel', () => {
  for (const build of builds) {
    it(`${build}: dx = dy·(1 − y²), against finite differences of vec_tanh, on odd sizes (SIMD tails), in place`, async () => {
      const rt = await mnemo.init({ build });
      const k = rt.kernels;
      for (const n of [1, 3, 5, 7, 13, 37]) {
        const r = rng(n);
        const x = rt.tensor([n]), y = rt.tensor([n]), dy = rt.tensor([n]), dx = rt.tensor([n]), tmp = rt.tensor([n]);
        x.data.set(Array.from({ length: n }, () => r() * 3));
        dy.data.set(Array.from({ length: n }, () => r()));
        k.vec_tanh(x.offset, y.offset, n);
        k.tanh_backward(y.offset, dy.offset, dx.offset, n);
        const yv = y.toArray(), dyv = dy.toArray(), dxv = dx.toArray();
        for (let i = 0; i < n; i++) {
          // The formula in f32, as the kernel computes it.
          expect(dxv[i]).toBe(Math.fround(dyv[i]! * Math.fround(1 - Math.fround(yv[i]! * yv[i]!))));
          // Central differences of L(x) = Σ dy·tanh(x) through the wasm forward.
          const tanhAt = (v: number) => { tmp.data.set(x.data); tmp.data[i] = v; k.vec_tanh(tmp.offset, tmp.offset, n); return tmp.data[i]!; };
          const x0 = x.data[i]!, h = 1e-2;
          const fd = dyv[i]! * (tanhAt(x0 + h) - tanhAt(x0 - h)) / (Math.fround(x0 + h) - Math.fround(x0 - h));
          expect(Math.abs(fd - dxv[i]!), `n=${n} i=${i}`).toBeLessThan(1e-4 + 2e-3 * Math.abs(dyv[i]!));
        }
        k.tanh_backward(y.offset, dy.offset, dy.offset, n); // in place
        expect(dy.toArray()).toEqual(dxv);
        for (const t of [x, y, dy, dx, tmp]) t.dispose();
      }
    });
  }
});

const TEXT = 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n';

describe('WindowLanguageModel with the Trainer, perplexity() and Predictor', () => {
  const setup = (rt: Rt, options: Partial<mnemo.WindowLMOptions> = {}) => {
    const tok = mnemo.WordTokenizer.fit(TEXT);
    const m = new mnemo.WindowLanguageModel(rt, { vocabSize: tok.vocab.size, contextSize: 3, embeddingDim: 8, hiddenSize: 16,
      directConnections: true, embeddingDropout: 0.1, hiddenDropout: 0.1, seed: 5, ...options });
    return { tok, m, data: { train: tok.encode(TEXT.repeat(12)), valid: tok.encode('the dog sat on the log\na cat and a dog\n'), startToken: tok.eos } };
  };
  const OPTIONS: mnemo.TrainerOptions = { epochs: 6, batchSize: 4, seqLen: 7, lr: 1e-2, seed: 3, evalBatchSize: 1 };

  it('trains: training loss and validation perplexity fall', async () => {
    const rt = await mnemo.init();
    const { m, data } = setup(rt);
    const result = await new mnemo.Trainer(m, data, OPTIONS).train();
    const first = result.epochs[0]!, last = result.epochs.at(-1)!;
    expect(last.trainLoss).toBeLessThan(0.5 * first.trainLoss);
    expect(last.validPpl!).toBeLessThan(0.5 * first.validPpl!);
    expect(last.validPpl!).toBeLessThan(3); // 11 tokens, 3 sentences, most words predictable from 3 before
    m.dispose();
  });

  it('resumes from a mid-epoch checkpoint exactly (the carried history is in the checkpoint)', async () => {
    const rt = await mnemo.init();
    const a = setup(rt), b = setup(rt);
    const ra = await new mnemo.Trainer(a.m, a.data, OPTIONS).train();
    let steps = 0;
    const first = new mnemo.Trainer(b.m, b.data, { ...OPTIONS, shouldStop: () => ++steps === 17 });
    expect((await first.train()).interrupted).toBe(true);
    const bytes = first.checkpoint();
    const c = setup(rt);
    const rc = await new mnemo.Trainer(c.m, c.data, OPTIONS, bytes).train();
    expect(rc.losses).toEqual(ra.losses);
    a.m.parameters().forEach((p, i) => expect(c.m.parameters()[i]!.value.toArray()).toEqual(p.value.toArray()));
    for (const x of [a, b, c]) x.m.dispose();
  });

  it('perplexity = the float64 reference: batchSize 1 exactly, batchSize > 1 restarting each part from the start context', async () => {
    const rt = await mnemo.init();
    const { m, tok } = setup(rt, { embeddingDropout: 0, hiddenDropout: 0 });
    randomize(m, 3);
    const stream = tok.encode(TEXT.repeat(3));
    const w = weights(m);
    const one = mnemo.perplexity(m, stream, { startToken: tok.eos, batchSize: 1, seqLen: 5 });
    expect(Math.abs(one.nll - referenceNll(m.config, w, stream, tok.eos))).toBeLessThan(2e-6);
    const three = mnemo.perplexity(m, stream, { startToken: tok.eos, batchSize: 3, seqLen: 4 });
    expect(three.partStarts.length).toBe(3);
    expect(Math.abs(three.nll - referenceNll(m.config, w, stream, tok.eos, three.partStarts))).toBeLessThan(2e-6);
    expect(m.training).toBe(true); // restored
    m.dispose();
  });

  it('Predictor: feed + predictNext = the batched forward from the start context; generate is seeded', async () => {
    const rt = await mnemo.init();
    const { m, tok } = setup(rt);
    randomize(m, 6);
    const p = new mnemo.Predictor(m, tok);
    const words = ['the', 'dog', 'sat', 'on', 'a', 'mat'];
    const ids = words.map((x) => tok.vocab.idOf(x));
    for (let n = 0; n <= words.length; n++) {
      if (n > 0) p.feed(words[n - 1]!);
      m.eval();
      const all = [tok.eos, ...ids.slice(0, n)];
      const rows = logSoftmaxRows(m.forward(rt.intTensor([all.length, 1], all)).logits.toArray(), tok.vocab.size);
      m.train();
      const ref = rows.at(-1)!, got = p.logProbabilities();
      for (let v = 0; v < ref.length; v++) expect(Math.abs(got[v]! - ref[v]!)).toBeLessThan(2e-6);
    }
    // Incremental text prediction equals a fresh predictor (rewinds restore the history).
    const q = new mnemo.Predictor(m, tok);
    p.predictNextText('the cat sat on the');
    expect(p.predictNextText('the cat sat on a', { topK: 4 })).toEqual(q.predictNextText('the cat sat on a', { topK: 4 }));
    expect(p.generate('the', { maxTokens: 10, seed: 2 })).toBe(q.generate('the', { maxTokens: 10, seed: 2 }));
    p.dispose(); q.dispose();
    m.dispose();
  });
});

describe('WindowLanguageModel: errors', () => {
  it('bad options, ids, states and shapes fail with named errors', async () => {
    const rt = await mnemo.init();
    const base = { vocabSize: 7, contextSize: 3, embeddingDim: 4, hiddenSize: 5 };
    for (const [options, msg] of [
      [{ ...base, contextSize: 0 }, /contextSize must be an integer in \[1, 256\], got 0/],
      [{ ...base, vocabSize: 2 ** 24 + 1 }, /vocabSize must be an integer in \[1, 16777216\]/],
      [{ ...base, hiddenSize: 2.5 }, /hiddenSize must be an integer/],
      [{ ...base, tieWeights: true }, /tieWeights needs embeddingDim === hiddenSize, got 4 and 5/],
      [{ ...base, hiddenDropout: 1 }, /hiddenDropout must be a number in \[0, 1\), got 1/],
      [{ ...base, directConnections: 'yes' }, /directConnections must be a boolean/],
      [{ ...base, model: 'rnn' }, /model must be 'window', got "rnn"/],
    ] as const) {
      expect(() => new mnemo.WindowLanguageModel(rt, options as unknown as mnemo.WindowLMOptions)).toThrow(msg);
    }
    const m = model(rt);
    expect(() => m.backward(rt.zeros([2, 7]))).toThrow(/call forward first/);
    expect(() => m.forward(rt.intTensor([2, 1], [1, 7]))).toThrow(/token id 7 at index 1 is out of range \[0, 7\)/);
    expect(() => m.forward(rt.intTensor([4], [1, 2, 3, 4]))).toThrow(mnemo.ShapeError);
    expect(() => m.forward(rt.intTensor([2, 2], [1, 2, 3, 4]), m.initState(3))).toThrow(/state\.h must have shape \[1, 2, 3\]/);
    const bad = m.initState(1);
    bad.h.data.set([0, 8, 1]);
    expect(() => m.forward(rt.intTensor([1, 1], [1]), bad)).toThrow(/state\.h\[1\] = 8 is not a token id \+ 1 in \[0, 7\]/);
    bad.h.data.set([0, 1.5, 1]);
    expect(() => m.forward(rt.intTensor([1, 1], [1]), bad)).toThrow(/state\.h\[1\] = 1\.5/);
    expect(() => m.forward(rt.intTensor([1, 1], [1]), { h: m.initState(1).h, c: rt.zeros([1, 1, 3]) })).toThrow(/has no c/);
    expect(() => m.decode(rt.zeros([2, 5]))).toThrow(/hidden must have shape \[N, 17\]/);
    m.forward(rt.intTensor([2, 1], [1, 2]));
    expect(() => m.backward(rt.zeros([3, 7]))).toThrow(/dlogits must have shape \[2, 7\]/);
    expect(() => m.initState(0)).toThrow(/batch must be a positive integer/);
    m.dispose();
  });

  it('a model too large for maxMemory throws OutOfMemoryError and frees what it had allocated', async () => {
    const rt = await mnemo.init({ maxMemory: 64 * 2 ** 20 });
    const before = rt.memoryStats().usedBytes;
    // encoder.weight takes 2 MB and direct.weight 20 MB; decoder.weight would take 60 MB more.
    expect(() => new mnemo.WindowLanguageModel(rt, { vocabSize: 50_000, contextSize: 10, embeddingDim: 10, hiddenSize: 300,
      directConnections: true })).toThrow(mnemo.OutOfMemoryError);
    expect(rt.memoryStats().usedBytes).toBe(before);
  });
});
