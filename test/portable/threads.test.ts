// Threads: a runtime with numThreads = 2 gives bit-for-bit the results of one
// thread (GEMM in every layout and on every tail, M = 1, prepacked B; softmax
// cross-entropy and log-softmax over rows; whole language-model training steps
// for every cell), falls back to one thread
// where shared memory or workers are missing (Chromium here: the test page is
// not cross-origin isolated), and keeps working after close(). Node and
// Chromium, both builds.
import { afterAll, describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';

const builds = ['simd', 'relaxed'] as const;
const canShare = typeof SharedArrayBuffer === 'function' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;

function fill(t: mnemo.Tensor, seed: number): mnemo.Tensor {
  const r = rng(seed);
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = r();
  return t;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length), y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

describe.each(builds)('threads (%s build)', (build) => {
  const runtimes: mnemo.Runtime[] = [];
  const make = async (numThreads: number) => {
    const rt = await mnemo.init({ build, numThreads });
    runtimes.push(rt);
    await rt.threadsReady;
    return rt;
  };
  afterAll(() => { for (const rt of runtimes) rt.close(); });

  it('uses the threads it was given where the runtime can share memory, else one', async () => {
    const rt = await make(2);
    expect(rt.threads).toBe(canShare ? 2 : 1);
    expect(rt.build).toBe(build);
    const one = await make(1);
    expect(one.threads).toBe(1);
    await expect(mnemo.init({ build, numThreads: 0 })).rejects.toThrow(/numThreads/);
    await expect(mnemo.init({ build, numThreads: 1.5 })).rejects.toThrow(/numThreads/);
  });

  it('GEMM: the same bits with 2 threads as with 1, in every layout and on every tail', async () => {
    const [one, two] = [await make(1), await make(2)];
    expect(two.threads).toBe(canShare ? 2 : 1);
    const shapes: [number, number, number][] = [
      [1, 10000, 256], [1, 37, 300], [3, 1000, 64], [20, 1024, 256], [35, 1029, 129], [700, 200, 256],
      [129, 67, 1030], [1000, 9, 70], [64, 64, 64], [8, 257, 3], [5, 3000, 7],
    ];
    for (const [m, n, k] of shapes) {
      for (const [transA, transB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        for (const [alpha, beta] of [[1, 0], [0.5, 1.5]]) {
          const out = [one, two].map((rt) => rt.scope(() => {
            const a = fill(rt.tensor(transA ? [k, m] : [m, k]), m * 7 + k);
            const b = fill(rt.tensor(transB ? [n, k] : [k, n]), n * 3 + k);
            const c = fill(rt.tensor([m, n]), m + n);
            mnemo.gemm(a, b, c, { transA, transB, alpha, beta });
            return Float32Array.from(c.data);
          }));
          expect(sameBits(out[0]!, out[1]!), `${m}×${n}×${k} transA=${transA} transB=${transB} beta=${beta}`).toBe(true);
        }
      }
    }
  });

  it.each(['lstm', 'gru', 'rnn_tanh'] as const)('%s language model: training steps give the same weights with 2 threads as with 1', async (cell) => {
    const result: Float32Array[][] = [];
    for (const threads of [1, 2]) {
      const rt = await make(threads);
      expect(rt.threads).toBe(canShare ? threads : 1);
      const model = new mnemo.RNNLanguageModel(rt, {
        vocabSize: 300, embeddingDim: 48, hiddenSize: 64, numLayers: 2, cell, dropout: 0.1, seed: 5,
      });
      const opt = new mnemo.Adam(model.parameters(), { lr: 0.01 });
      const r = rng(9);
      let state = model.initState(8);
      for (let step = 0; step < 3; step++) {
        rt.scope(() => {
          const ids = rt.intTensor([12, 8], Array.from({ length: 96 }, () => Math.floor(Math.abs(r()) * 1e6) % 300));
          const targets = rt.intTensor([96], Array.from({ length: 96 }, () => Math.floor(Math.abs(r()) * 1e6) % 300));
          opt.zeroGrad();
          const out = model.lossAndBackward(ids, targets, state);
          state = model.detachState(out.state, state);
          opt.step();
        });
      }
      result.push(model.parameters().map((p) => Float32Array.from(p.value.data)));
    }
    for (let i = 0; i < result[0]!.length; i++) expect(sameBits(result[0]![i]!, result[1]![i]!), `parameter ${i}`).toBe(true);
  });

  it('softmax cross-entropy and log-softmax: the same bits with 2 threads as with 1', async () => {
    const out: { loss: number; grad: Float32Array; logp: Float32Array }[] = [];
    for (const threads of [1, 2]) {
      const rt = await make(threads);
      out.push(rt.scope(() => {
        const n = 203, v = 1001;
        const logits = fill(rt.tensor([n, v]), 31);
        logits.data.forEach((x, i, d) => { d[i] = 8 * x; });
        const targets = rt.intTensor([n], Array.from({ length: n }, (_, i) => (i % 17 === 0 ? -100 : (i * 37) % v)));
        const lossFn = new mnemo.CrossEntropyLoss(rt, {});
        const loss = lossFn.forward(logits, targets);
        const grad = Float32Array.from(lossFn.backward(1).data);
        const logp = Float32Array.from(mnemo.logSoftmax(logits).data);
        lossFn.dispose();
        return { loss, grad, logp };
      }));
    }
    expect(Object.is(out[0]!.loss, out[1]!.loss)).toBe(true);
    expect(Number.isFinite(out[0]!.loss)).toBe(true);
    expect(sameBits(out[0]!.grad, out[1]!.grad)).toBe(true);
    expect(sameBits(out[0]!.logp, out[1]!.logp)).toBe(true);
  });

  it('keeps working on one thread after close()', async () => {
    const rt = await make(2);
    rt.close();
    expect(rt.threads).toBe(1);
    const c = mnemo.matmul(fill(rt.tensor([64, 300]), 1), fill(rt.tensor([300, 500]), 2));
    const ref = await make(1);
    const c1 = mnemo.matmul(fill(ref.tensor([64, 300]), 1), fill(ref.tensor([300, 500]), 2));
    expect(sameBits(Float32Array.from(c.data), Float32Array.from(c1.data))).toBe(true);
  });
});
