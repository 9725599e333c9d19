// RNNLanguageModel and perplexity(): parameter names and shapes (PyTorch's
// word_language_model state_dict), weight tying (one Parameter, gradients of
// both uses added), forward against a float64 reference of the whole model,
// state carried between windows = one long window, gradients against central
// finite differences, dropout replay, a short training run, and perplexity
// against hand-computed cases: all-zero weights give exactly V, and a float64
// re-implementation of every cell gives the exact definition (batchSize 1) and
// the documented restart rule (batchSize > 1). Node and Chromium, both builds.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';

type Rt = mnemo.Runtime;
type Cell = mnemo.LMCell;
const builds = ['simd', 'relaxed'] as const;
const cells: Cell[] = ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'];

/** Fills every parameter with seeded uniform values in ±scale (the default init is too small to exercise much). */
function randomize(model: mnemo.RNNLanguageModel, seed: number, scale = 0.5): void {
  const r = rng(seed);
  for (const p of model.parameters()) {
    const d = p.value.data;
    for (let i = 0; i < d.length; i++) d[i] = r() * scale;
  }
}

/** The parameters by name, as float64 copies; with tying, decoder.weight is encoder.weight. */
function weights(model: mnemo.RNNLanguageModel): Map<string, Float64Array> {
  const w = new Map<string, Float64Array>();
  for (const [name, p] of model.namedParameters()) w.set(name, Float64Array.from(p.value.data));
  if (model.config.tieWeights) w.set('decoder.weight', w.get('encoder.weight')!);
  return w;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * Float64 reference of the whole model, one token at a time: the log-probability
 * of each target given the inputs so far, from a zero state. PyTorch's formulas:
 * LSTM gates i f g o; GRU r z n with b_hn inside the reset product; RNN tanh/relu.
 */
function referenceLogProbs(config: mnemo.LMConfig, w: Map<string, Float64Array>, inputs: number[], targets: number[]): number[] {
  const { vocabSize: V, embeddingDim: E, hiddenSize: H, numLayers: L, cell } = config;
  const h = Array.from({ length: L }, () => new Float64Array(H));
  const c = Array.from({ length: L }, () => new Float64Array(H));
  const G = (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * H;
  const out: number[] = [];
  const mv = (m: Float64Array, cols: number, x: Float64Array, bias: Float64Array) => {
    const y = new Float64Array(G);
    for (let r = 0; r < G; r++) {
      let s = bias[r]!;
      for (let k = 0; k < cols; k++) s += m[r * cols + k]! * x[k]!;
      y[r] = s;
    }
    return y;
  };
  for (let s = 0; s < inputs.length; s++) {
    let x = w.get('encoder.weight')!.slice(inputs[s]! * E, (inputs[s]! + 1) * E);
    for (let l = 0; l < L; l++) {
      const inDim = l === 0 ? E : H;
      const gx = mv(w.get(`rnn.weight_ih_l${l}`)!, inDim, x, w.get(`rnn.bias_ih_l${l}`)!);
      const gh = mv(w.get(`rnn.weight_hh_l${l}`)!, H, h[l]!, w.get(`rnn.bias_hh_l${l}`)!);
      const hn = new Float64Array(H);
      for (let j = 0; j < H; j++) {
        if (cell === 'lstm') {
          const i = sigmoid(gx[j]! + gh[j]!), f = sigmoid(gx[H + j]! + gh[H + j]!);
          const g = Math.tanh(gx[2 * H + j]! + gh[2 * H + j]!), o = sigmoid(gx[3 * H + j]! + gh[3 * H + j]!);
          c[l]![j] = f * c[l]![j]! + i * g;
          hn[j] = o * Math.tanh(c[l]![j]!);
        } else if (cell === 'gru') {
          const r = sigmoid(gx[j]! + gh[j]!), z = sigmoid(gx[H + j]! + gh[H + j]!);
          const n = Math.tanh(gx[2 * H + j]! + r * gh[2 * H + j]!);
          hn[j] = (1 - z) * n + z * h[l]![j]!;
        } else {
          const a = gx[j]! + gh[j]!;
          hn[j] = cell === 'rnn_tanh' ? Math.tanh(a) : Math.max(0, a);
        }
      }
      h[l] = hn;
      x = hn;
    }
    const dec = w.get('decoder.weight')!, bias = w.get('decoder.bias')!;
    const logits = new Float64Array(V);
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let t = bias[v]!;
      for (let k = 0; k < H; k++) t += dec[v * H + k]! * x[k]!;
      logits[v] = t;
      max = Math.max(max, t);
    }
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[v]! - max);
    out.push(logits[targets[s]!]! - max - Math.log(sum));
  }
  return out;
}

/** The exact definition: Σ −ln p over the stream from the start context (restarting at the given part starts). */
function referenceNll(config: mnemo.LMConfig, w: Map<string, Float64Array>, stream: Int32Array, start: number, partStarts = [0]): number {
  let total = 0;
  for (let k = 0; k < partStarts.length; k++) {
    const a = partStarts[k]!, b = partStarts[k + 1] ?? stream.length;
    const targets = Array.from(stream.subarray(a, b));
    const inputs = [start, ...targets.slice(0, -1)];
    total -= referenceLogProbs(config, w, inputs, targets).reduce((x, y) => x + y, 0);
  }
  return total / stream.length;
}

function model(rt: Rt, options: Partial<mnemo.LMOptions> = {}): mnemo.RNNLanguageModel {
  return new mnemo.RNNLanguageModel(rt, { vocabSize: 7, embeddingDim: 5, hiddenSize: 5, numLayers: 2, seed: 3, ...options });
}

describe('RNNLanguageModel: structure', () => {
  it('has word_language_model\'s parameter names and shapes, in state_dict order, for every cell', async () => {
    const rt = await mnemo.init();
    for (const cell of cells) {
      const m = new mnemo.RNNLanguageModel(rt, { vocabSize: 11, embeddingDim: 6, hiddenSize: 4, numLayers: 2, cell, seed: 1 });
      const g = cell === 'lstm' ? 16 : cell === 'gru' ? 12 : 4;
      expect(m.namedParameters().map(([n, p]) => [n, p.value.shape])).toEqual([
        ['encoder.weight', [11, 6]],
        ['rnn.weight_ih_l0', [g, 6]], ['rnn.weight_hh_l0', [g, 4]], ['rnn.bias_ih_l0', [g]], ['rnn.bias_hh_l0', [g]],
        ['rnn.weight_ih_l1', [g, 4]], ['rnn.weight_hh_l1', [g, 4]], ['rnn.bias_ih_l1', [g]], ['rnn.bias_hh_l1', [g]],
        ['decoder.weight', [11, 4]], ['decoder.bias', [11]],
      ]);
      expect(mnemo.parameterShapes(m.config)).toEqual(m.namedParameters().map(([n, p]) => [n, [...p.value.shape]]));
      expect(m.config).toEqual({ vocabSize: 11, embeddingDim: 6, hiddenSize: 4, numLayers: 2, cell, dropout: 0,
        embeddingDropout: 0, outputDropout: 0, tieWeights: false, seed: 1 });
      expect(JSON.parse(JSON.stringify(m.config))).toEqual(m.config);
      m.dispose();
    }
  });

  it('initialises as word_language_model (U(±0.1) encoder/decoder, zero decoder bias), the same for the same seed', async () => {
    const rt = await mnemo.init();
    const a = model(rt), b = model(rt), c = model(rt, { seed: 4 });
    const enc = a.encoder.weight.value.toArray();
    expect(Math.max(...enc.map(Math.abs))).toBeLessThanOrEqual(0.1);
    expect(Math.max(...enc.map(Math.abs))).toBeGreaterThan(0.05);
    expect(Array.from(a.decoder.bias!.value.data).every((v) => v === 0)).toBe(true);
    for (const [[, p], [, q]] of a.namedParameters().map((e, i) => [e, b.namedParameters()[i]!] as const)) {
      expect(p.value.toArray()).toEqual(q.value.toArray());
    }
    expect(c.encoder.weight.value.toArray()).not.toEqual(enc);
    for (const m of [a, b, c]) m.dispose();
  });

  it('ties weights: decoder.weight is encoder.weight, listed once; needs E = H', async () => {
    const rt = await mnemo.init();
    const m = model(rt, { tieWeights: true });
    expect(m.decoder.weight).toBe(m.encoder.weight);
    expect(m.namedParameters().map(([n]) => n)).not.toContain('decoder.weight');
    expect(new Set(m.parameters()).size).toBe(m.parameters().length);
    expect(m.numParameters).toBe(7 * 5 + 2 * (20 * 5 + 20 * 5 + 2 * 20) + 7); // E = H = 5, 4H = 20
    expect(() => model(rt, { tieWeights: true, embeddingDim: 6 })).toThrow(/tieWeights needs embeddingDim === hiddenSize, got 6 and 5/);
    m.dispose();
  });

  it('rejects bad options with messages that name them', async () => {
    const rt = await mnemo.init();
    expect(() => model(rt, { cell: 'lstn' as Cell })).toThrow(/cell must be one of 'lstm', 'gru', 'rnn_tanh', 'rnn_relu', got "lstn"/);
    expect(() => model(rt, { hiddenSize: 0 })).toThrow(mnemo.ShapeError);
    expect(() => model(rt, { vocabSize: 2.5 })).toThrow(/vocabSize must be a positive integer, got 2.5/);
    expect(() => model(rt, { outputDropout: 1 })).toThrow(/outputDropout must be a number in \[0, 1\), got 1/);
    const m = model(rt);
    expect(() => m.forward(rt.intTensor([3]))).toThrow(/ids must be a non-empty \(T, B\) int32 tensor, got \[3\]/);
    expect(() => m.forward(rt.intTensor([2, 1], [0, 7]))).toThrow(/token id 7 at index 1 is out of range \[0, 7\)/);
    expect(() => m.forward(rt.intTensor([2, 1]), { h: rt.zeros([2, 1, 5]) })).toThrow(/state.c must be given for an LSTM/);
    expect(() => m.backward(rt.zeros([2, 7]))).toThrow(/call forward first/);
    m.dispose();
  });
});

describe('RNNLanguageModel: forward and backward', () => {
  for (const build of builds) {
    it(`${build}: logits match a float64 reference for every cell, tied and untied`, async () => {
      const rt = await mnemo.init({ build });
      for (const cell of cells) {
        for (const tieWeights of [false, true]) {
          const m = model(rt, { cell, tieWeights });
          randomize(m, 11);
          const T = 4, B = 3;
          const ids = Array.from({ length: T * B }, (_, i) => (i * 5 + 2) % 7);
          const { logits } = m.forward(rt.intTensor([T, B], ids));
          const lp = mnemo.logSoftmax(logits);
          const got = lp.toArray();
          const w = weights(m);
          let worst = 0;
          for (let b = 0; b < B; b++) {
            const inputs = Array.from({ length: T }, (_, t) => ids[t * B + b]!);
            for (let v = 0; v < 7; v++) {
              const ref = referenceLogProbs(m.config, w, inputs, inputs.map(() => v));
              for (let t = 0; t < T; t++) worst = Math.max(worst, Math.abs(ref[t]! - got[(t * B + b) * 7 + v]!));
            }
          }
          expect(worst, `${cell} tied=${tieWeights}`).toBeLessThan(2e-5);
          lp.dispose();
          m.dispose();
        }
      }
    });
  }

  it('carrying the state between windows gives the logits of one long window', async () => {
    const rt = await mnemo.init();
    for (const cell of cells) {
      const m = model(rt, { cell });
      randomize(m, 5);
      const T = 6, B = 2;
      const ids = Array.from({ length: T * B }, (_, i) => (i * 3 + 1) % 7);
      const whole = m.forward(rt.intTensor([T, B], ids)).logits.toArray();
      const first = m.forward(rt.intTensor([2, B], ids.slice(0, 2 * B)));
      const part1 = first.logits.toArray();
      // Pass the returned state (the model's own buffers) straight back.
      const part2 = m.forward(rt.intTensor([T - 2, B], ids.slice(2 * B)), first.state).logits.toArray();
      const joined = new Float32Array([...part1, ...part2]);
      for (let i = 0; i < whole.length; i++) expect(Math.abs(joined[i]! - whole[i]!)).toBeLessThan(1e-6);
      m.dispose();
    }
  });

  it('initState, detachState: caller-owned zeros and copies', async () => {
    const rt = await mnemo.init();
    const m = model(rt);
    randomize(m, 2);
    const s = m.initState(3);
    expect(s.h.shape).toEqual([2, 3, 5]);
    expect(s.c!.shape).toEqual([2, 3, 5]);
    const out = m.forward(rt.intTensor([2, 3], [1, 2, 3, 4, 5, 6]), s);
    const kept = m.detachState(out.state);
    const hBefore = kept.h.toArray();
    m.forward(rt.intTensor([1, 1], [0])); // another batch size reallocates the model's buffers
    expect(kept.h.toArray()).toEqual(hBefore);
    expect(() => m.detachState(kept, m.initState(2))).toThrow(/h is \[2, 3, 5\] but the target is \[2, 2, 5\]/);
    m.dispose();
  });

  /**
   * Gradients of the mean cross-entropy against central differences (h = 1e-2,
   * the loss in float64 from f32 logits), for a few elements of every
   * parameter. Tolerance 2e-3 × the largest |gradient| (the f32 rounding of
   * the forward values over 2h).
   */
  for (const tieWeights of [false, true]) {
    it(`gradients match finite differences (lstm and gru, 2 layers, tied=${tieWeights})`, async () => {
      const rt = await mnemo.init();
      for (const cell of ['lstm', 'gru', 'rnn_tanh'] as Cell[]) {
        const m = model(rt, { cell, tieWeights });
        randomize(m, 7);
        const T = 3, B = 2;
        const ids = rt.intTensor([T, B], [1, 4, 2, 6, 0, 3]);
        const targets = rt.intTensor([T * B], [4, 2, 6, 0, 3, 5]);
        const lossFn = new mnemo.CrossEntropyLoss(rt);
        const loss = () => lossFn.forward(m.forward(ids).logits, targets);
        m.zeroGrad();
        m.lossAndBackward(ids, targets);
        const r = rng(3);
        for (const [name, p] of m.namedParameters()) {
          const grad = p.grad.toArray();
          const scale = Math.max(...grad.map(Math.abs));
          for (let k = 0; k < 6; k++) {
            const i = Math.floor((r() * 0.5 + 0.5) * p.value.size);
            const v = p.value.data, x0 = v[i]!;
            v[i] = x0 + 1e-2; const up = Math.fround(x0 + 1e-2) - x0; const lUp = loss();
            v[i] = x0 - 1e-2; const dn = x0 - Math.fround(x0 - 1e-2); const lDn = loss();
            v[i] = x0;
            const fd = (lUp - lDn) / (up + dn);
            expect(Math.abs(fd - grad[i]!), `${cell} ${name}[${i}]`).toBeLessThan(2e-3 * scale + 1e-7);
          }
        }
        lossFn.dispose();
        m.dispose();
      }
    });
  }

  it('a tied weight\'s gradient is the sum of the encoder\'s and the decoder\'s', async () => {
    const rt = await mnemo.init();
    const tied = model(rt, { tieWeights: true }), untied = model(rt);
    randomize(tied, 9);
    for (const [name, p] of untied.namedParameters()) {
      p.value.data.set(tied.namedParameters().find(([n]) => n === (name === 'decoder.weight' ? 'encoder.weight' : name))![1].value.data);
    }
    const ids = rt.intTensor([4, 2], [1, 2, 3, 4, 5, 6, 0, 1]), targets = rt.intTensor([8], [2, 3, 4, 5, 6, 0, 1, 2]);
    tied.zeroGrad(); untied.zeroGrad();
    const a = tied.lossAndBackward(ids, targets).loss, b = untied.lossAndBackward(ids, targets).loss;
    expect(a).toBe(b);
    const sum = untied.encoder.weight.grad.toArray().map((g, i) => g + untied.decoder.weight.grad.data[i]!);
    const got = tied.encoder.weight.grad.toArray();
    for (let i = 0; i < sum.length; i++) expect(Math.abs(got[i]! - sum[i]!)).toBeLessThan(1e-6);
    tied.dispose(); untied.dispose();
  });

  it('dropout: active in training only, replayed by setDropoutState', async () => {
    const rt = await mnemo.init();
    const m = model(rt, { dropout: 0.3, embeddingDropout: 0.2, outputDropout: 0.4 });
    randomize(m, 1);
    const ids = rt.intTensor([5, 2], [1, 2, 3, 4, 5, 6, 0, 1, 2, 3]), targets = rt.intTensor([10], [2, 3, 4, 5, 6, 0, 1, 2, 3, 4]);
    const saved = m.getDropoutState();
    const l1 = m.lossAndBackward(ids, targets).loss;
    const l2 = m.lossAndBackward(ids, targets).loss;
    expect(l1).not.toBe(l2); // new masks
    m.setDropoutState(saved);
    expect(m.lossAndBackward(ids, targets).loss).toBe(l1);
    expect(m.getDropoutState()).not.toEqual(saved);
    m.eval();
    const e1 = m.lossAndBackward(ids, targets).loss, e2 = m.lossAndBackward(ids, targets).loss;
    expect(e1).toBe(e2);
    m.train();
    m.dispose();
  });

  it('trains: Adam on a repeating sequence with the state carried, seeded runs repeat bit for bit', async () => {
    const rt = await mnemo.init();
    const run = () => {
      const m = new mnemo.RNNLanguageModel(rt, { vocabSize: 11, embeddingDim: 16, hiddenSize: 16, numLayers: 2, dropout: 0.1,
        tieWeights: true, seed: 5 });
      const opt = new mnemo.Adam(m.parameters(), { lr: 1e-2 });
      const T = 8, B = 3;
      const ids = rt.intTensor([T, B]), targets = rt.intTensor([T * B]);
      let state = m.initState(B);
      const losses: number[] = [];
      for (let s = 0; s < 60; s++) {
        for (let t = 0; t < T; t++) {
          for (let b = 0; b < B; b++) {
            const pos = b * 100 + s * T + t;
            ids.data[t * B + b] = pos % 11;
            targets.data[t * B + b] = (pos + 1) % 11;
          }
        }
        opt.zeroGrad();
        const r = m.lossAndBackward(ids, targets, state);
        state = r.state;
        losses.push(r.loss);
        mnemo.clipGradNorm(m.parameters(), 5);
        opt.step();
      }
      opt.dispose();
      m.dispose();
      return losses;
    };
    const a = run();
    expect(a[0]).toBeGreaterThan(2);
    expect(Math.min(...a.slice(-5))).toBeLessThan(0.3 * a[0]!);
    expect(run()).toEqual(a);
  });
});

describe('perplexity', () => {
  it('all-zero weights: the uniform distribution, ppl = V exactly', async () => {
    const rt = await mnemo.init();
    for (const cell of cells) {
      const m = new mnemo.RNNLanguageModel(rt, { vocabSize: 37, embeddingDim: 4, hiddenSize: 6, cell, seed: 1 });
      for (const p of m.parameters()) p.value.data.fill(0);
      const stream = Int32Array.from({ length: 101 }, (_, i) => (i * 7) % 37);
      for (const batchSize of [1, 4]) {
        const r = mnemo.perplexity(m, stream, { startToken: 0, batchSize, seqLen: 9 });
        expect(r.tokens).toBe(101);
        expect(Math.abs(r.ppl - 37)).toBeLessThan(37 * 1e-12);
        expect(Math.abs(r.nll - Math.log(37))).toBeLessThan(1e-12);
        expect(Math.abs(r.bitsPerToken - Math.log2(37))).toBeLessThan(1e-12);
      }
      m.dispose();
    }
  });

  it('a two-token hand computation: p from softmax of the decoder bias and one tanh step', async () => {
    // V = 3, E = H = 1, rnn_tanh. encoder = [0, 1, 2]ᵀ, w_ih = 1, w_hh = 0.5, biases 0,
    // decoder.weight = [1, −1, 0]ᵀ, decoder.bias = [0, 0, 1].
    // Stream [1, 2] from start token 0:
    //   step 1: x = 0, h1 = tanh(0) = 0 → logits [0, 0, 1] → p(1) = 1 / (2 + e)
    //   step 2: x = 1, h2 = tanh(1 + 0.5·0) = tanh 1 → logits [t, −t, 1] → p(2) = e / (e^t + e^−t + e)
    const rt = await mnemo.init();
    const m = new mnemo.RNNLanguageModel(rt, { vocabSize: 3, embeddingDim: 1, hiddenSize: 1, cell: 'rnn_tanh', seed: 1 });
    const set = (name: string, v: number[]) => m.namedParameters().find(([n]) => n === name)![1].value.set(v);
    set('encoder.weight', [0, 1, 2]); set('rnn.weight_ih_l0', [1]); set('rnn.weight_hh_l0', [0.5]);
    set('rnn.bias_ih_l0', [0]); set('rnn.bias_hh_l0', [0]); set('decoder.weight', [1, -1, 0]); set('decoder.bias', [0, 0, 1]);
    const t = Math.tanh(1), e = Math.E;
    const nll = -(Math.log(1 / (2 + e)) + Math.log(e / (Math.exp(t) + Math.exp(-t) + e))) / 2;
    const r = mnemo.perplexity(m, Int32Array.from([1, 2]), { startToken: 0, batchSize: 1 });
    expect(Math.abs(r.nll - nll)).toBeLessThan(1e-7);
    expect(Math.abs(r.ppl - Math.exp(nll)) / Math.exp(nll)).toBeLessThan(1e-7);
    m.dispose();
  });

  for (const build of builds) {
    it(`${build}: batchSize 1 is the exact definition, batchSize > 1 restarts at the reported part starts (float64 reference)`, async () => {
      const rt = await mnemo.init({ build });
      const EOS = 0;
      // Sentences of 2–6 tokens, each ended by EOS: 143 tokens.
      const r = rng(17), stream: number[] = [];
      while (stream.length < 140) {
        const n = 2 + Math.floor((r() * 0.5 + 0.5) * 5);
        for (let i = 0; i < n; i++) stream.push(1 + Math.floor((r() * 0.5 + 0.5) * 6));
        stream.push(EOS);
      }
      const s = Int32Array.from(stream);
      for (const cell of cells) {
        const m = model(rt, { cell, tieWeights: cell === 'gru' });
        randomize(m, 23);
        m.train(); // perplexity switches to eval mode itself and restores the mode
        const w = weights(m);
        const exact = referenceNll(m.config, w, s, EOS);
        const one = mnemo.perplexity(m, s, { startToken: EOS, batchSize: 1, seqLen: 10 });
        expect(one.partStarts).toEqual([0]);
        expect(Math.abs(one.nll - exact), cell).toBeLessThan(2e-6);
        expect(m.training).toBe(true);
        for (const seqLen of [1, 35]) {
          expect(Math.abs(mnemo.perplexity(m, s, { startToken: EOS, batchSize: 1, seqLen }).nll - exact)).toBeLessThan(2e-6);
        }
        const four = mnemo.perplexity(m, s, { startToken: EOS, batchSize: 4, seqLen: 7 });
        expect(four.batchSize).toBe(4);
        expect(four.cutsInsideLines).toBe(0);
        for (const p of four.partStarts.slice(1)) expect(s[p - 1]).toBe(EOS); // every cut follows a sentence end
        expect(Math.abs(four.nll - referenceNll(m.config, w, s, EOS, four.partStarts)), cell).toBeLessThan(2e-6);
        m.dispose();
      }
    });
  }

  it('adapt (dynamic evaluation): scores each window before learning from it, then restores the weights', async () => {
    const rt = await mnemo.init();
    const EOS = 0;
    // A period-6 stream the random model knows nothing about: adaptation must learn it.
    const s = Int32Array.from({ length: 240 }, (_, i) => [3, 1, 4, 1, 5, EOS][i % 6]!);
    for (const cell of cells) {
      const m = model(rt, { cell });
      randomize(m, 29, 0.3);
      m.train();
      const before = m.parameters().map((p) => p.value.toArray());
      const exact = referenceNll(m.config, weights(m), s, EOS);
      // One window holding the whole stream: nothing is learnt before it is scored, so it is the static definition.
      const whole = mnemo.perplexity(m, s, { startToken: EOS, adapt: { lr: 0.01 }, seqLen: s.length });
      expect(whole.adapted).toBe(true);
      expect(whole.batchSize).toBe(1);
      expect(Math.abs(whole.nll - exact), cell).toBeLessThan(2e-6);

      // The same loop written out with the public pieces: window, score, one Adam(beta1 0) step.
      const seqLen = 12, lr = 0.05;
      const ref = model(rt, { cell });
      ref.parameters().forEach((p, i) => p.value.set(before[i]!));
      ref.eval();
      const opt = new mnemo.Adam(ref.parameters(), { lr, betas: [0, 0.999] });
      let state = ref.initState(1), total = 0;
      for (let w = 0; w < s.length; w += seqLen) {
        const T = Math.min(seqLen, s.length - w);
        const ids = rt.intTensor([T, 1], Array.from({ length: T }, (_, t) => (w + t === 0 ? EOS : s[w + t - 1]!)));
        const targets = rt.intTensor([T], s.subarray(w, w + T));
        opt.zeroGrad();
        const r = ref.lossAndBackward(ids, targets, state);
        total += r.loss * T;
        state = ref.detachState(r.state, state);
        opt.step();
        ids.dispose(); targets.dispose();
      }
      const adapted = mnemo.perplexity(m, s, { startToken: EOS, adapt: { lr }, seqLen });
      expect(Math.abs(adapted.nll - total / s.length), cell).toBeLessThan(1e-9);
      expect(adapted.nll, cell).toBeLessThan(0.8 * exact); // it learns the period: far better than static
      // The model is as it was: same weights bit for bit, same mode.
      m.parameters().forEach((p, i) => expect(p.value.toArray()).toEqual(before[i]));
      expect(m.training).toBe(true);
      expect(Math.abs(mnemo.perplexity(m, s, { startToken: EOS, batchSize: 1 }).nll - exact)).toBeLessThan(2e-6);
      opt.dispose(); state.h.dispose(); state.c?.dispose(); ref.dispose();

      // An error halfway (here from the progress callback) restores the weights too.
      let calls = 0;
      expect(() => mnemo.perplexity(m, s, {
        startToken: EOS, adapt: { lr: 0.1 }, onProgress: () => { if (++calls === 3) throw new Error('stop here'); },
      })).toThrow('stop here');
      m.parameters().forEach((p, i) => expect(p.value.toArray()).toEqual(before[i]));
      m.dispose();
    }
  });

  it('mix: interpolation with an n-gram model, its weights learnt as the text is scored', async () => {
    const rt = await mnemo.init();
    const text = 'abcab\nbca\nabcabc\ncab\nba\n'.repeat(6);
    const tok = mnemo.CharTokenizer.fit(text);
    const s = tok.encode(text), N = s.length, V = tok.vocab.size;
    const m = model(rt, { vocabSize: V, numLayers: 1 });
    randomize(m, 31, 0.3);
    const w = weights(m);
    const ngram = mnemo.NgramLM.train(text.slice(0, 30), { order: 3, tokenizer: tok }); // has seen part of the text
    const { logProb, maxProb } = ngram.tokenScores(s, { maxProb: true });
    // maxProb: the highest probability of the n-gram's distribution in each token's context (its history restarts after '\n').
    for (const i of [0, 1, 5, 6, 17, N - 1]) {
      expect(Math.abs(maxProb![i]! - Math.max(...ngram.distribution(s.subarray(0, i)))), `position ${i}`).toBeLessThan(1e-12);
      expect(Math.abs(logProb[i]! - Math.log(ngram.prob(s.subarray(0, i), s[i]!))), `position ${i}`).toBeLessThan(1e-12);
    }
    // The rule of the file comment, written out: one weight per quarter of maxProb, from 0.25, 2 % of the way to the posterior.
    const mixed = (modelLogProb: number[]) => {
      const lambda = [0.25, 0.25, 0.25, 0.25];
      let total = 0, sum = 0;
      modelLogProb.forEach((lp, i) => {
        const q = Math.min(3, Math.floor(maxProb![i]! * 4)), l = lambda[q]!;
        const pn = Math.exp(logProb[i]!), p = (1 - l) * Math.exp(lp) + l * pn;
        total -= Math.log(p); sum += l;
        lambda[q] = Math.min(0.999, Math.max(0.001, l + 0.02 * (l * pn / p - l)));
      });
      return { nll: total / N, weight: sum / N };
    };
    const mix = { ngram, tokenizer: tok };
    const staticLp = referenceLogProbs(m.config, w, [tok.eos, ...Array.from(s.subarray(0, -1))], Array.from(s));
    const want = mixed(staticLp);
    const one = mnemo.perplexity(m, s, { startToken: tok.eos, batchSize: 1, mix });
    expect(Math.abs(one.nll - want.nll)).toBeLessThan(2e-6);
    expect(Math.abs(one.ngramWeight! - want.weight)).toBeLessThan(1e-6);
    expect(one.nll).toBeLessThan(-staticLp.reduce((a, b) => a + b, 0) / N); // the n-gram knows the text, the random model does not
    // Parts side by side: each token's model probability comes from its own part, in stream order.
    const four = mnemo.perplexity(m, s, { startToken: tok.eos, batchSize: 4, mix });
    expect(four.partStarts.length).toBe(4);
    const partLp = four.partStarts.flatMap((a, k) => {
      const b = four.partStarts[k + 1] ?? N, targets = Array.from(s.subarray(a, b));
      return referenceLogProbs(m.config, w, [tok.eos, ...targets.slice(0, -1)], targets);
    });
    expect(Math.abs(four.nll - mixed(partLp).nll)).toBeLessThan(2e-6);
    // With adapt and one window holding the whole stream nothing is learnt before it is scored: the static mixture.
    const adapted = mnemo.perplexity(m, s, { startToken: tok.eos, adapt: { lr: 0.01 }, seqLen: N, mix });
    expect(adapted.adapted).toBe(true);
    expect(Math.abs(adapted.nll - want.nll)).toBeLessThan(2e-6);
    // Without mix nothing changes, and there is no weight to report.
    expect(mnemo.perplexity(m, s, { startToken: tok.eos, batchSize: 1 }).ngramWeight).toBeUndefined();

    // Another vocabulary, another level, no tokenizer: named errors.
    const other = mnemo.CharTokenizer.fit('cba\n');
    const swapped = mnemo.NgramLM.train('cba\n', { order: 2, tokenizer: other });
    expect(other.vocab.size).toBe(V);
    expect(() => mnemo.perplexity(m, s, { startToken: tok.eos, mix: { ngram: swapped, tokenizer: tok } }))
      .toThrow(/the n-gram model's vocabulary differs from the model's at id 0 \("\\n" vs "a"\)/);
    const words = mnemo.NgramLM.train('a b\n', { order: 2 });
    expect(() => mnemo.perplexity(m, s, { startToken: tok.eos, mix: { ngram: words, tokenizer: tok } })).toThrow(/the n-gram model is word-level and the model char-level/);
    expect(() => mnemo.perplexity(m, s, { startToken: tok.eos, mix: { ngram } as never })).toThrow(/mix\.tokenizer must be the Tokenizer that made the stream/);
    expect(() => mnemo.perplexity(m, s, { startToken: tok.eos, mix: { ngram: ngram.withSmoothing('stupid'), tokenizer: tok } }))
      .toThrow(/mix\.ngram uses smoothing 'stupid', which gives scores, not probabilities/);
    expect(() => mnemo.perplexity(m, s, { startToken: tok.eos, mix: { ngram: {}, tokenizer: tok } as never })).toThrow(/mix\.ngram must be an NgramLM/);
    m.dispose();
  });

  it('cutStream: even cuts moved to the nearest sentence start, kept when there is none', () => {
    // Sentence end (0) at index 6: the cut after it (7) is within a quarter part of the even cut 8.
    const s = Int32Array.from([5, 5, 5, 5, 5, 5, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
    expect(mnemo.cutStream(s, 1, 0)).toEqual([0]);
    expect(mnemo.cutStream(s, 2, 0)).toEqual([0, 7]);
    expect(mnemo.cutStream(s, 4, 0)).toEqual([0, 4, 7, 12]);
    expect(mnemo.cutStream(Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), 4, 0)).toEqual([0, 2, 4, 6]);
    expect(mnemo.cutStream(Int32Array.from([1, 2]), 5, 0)).toEqual([0, 1]);
  });

  it('rejects bad input with clear errors', async () => {
    const rt = await mnemo.init();
    const m = model(rt);
    expect(() => mnemo.perplexity(m, new Int32Array(0), { startToken: 0 })).toThrow(/the stream is empty/);
    expect(() => mnemo.perplexity(m, Int32Array.from([1, 9]), { startToken: 0 })).toThrow(/token id 9 at position 1 is out of range \[0, 7\)/);
    expect(() => mnemo.perplexity(m, Int32Array.from([1]), { startToken: 7 })).toThrow(/startToken must be a token id in \[0, 7\), got 7/);
    expect(() => mnemo.perplexity(m, Int32Array.from([1]), { startToken: 0, batchSize: 0 })).toThrow(/batchSize must be a positive integer/);
    expect(() => mnemo.perplexity(m, Int32Array.from([1]), { startToken: 0, adapt: { lr: 0.1 }, batchSize: 4 }))
      .toThrow(/adapt \(dynamic evaluation\) needs batchSize 1, got 4/);
    for (const lr of [0, -1, NaN, Infinity]) {
      expect(() => mnemo.perplexity(m, Int32Array.from([1]), { startToken: 0, adapt: { lr } })).toThrow(/adapt\.lr must be a finite number > 0/);
    }
    m.dispose();
  });
});
