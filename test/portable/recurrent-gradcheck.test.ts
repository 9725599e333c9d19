// Finite-difference gradient checks of the recurrent backward kernels (RNN
// tanh/relu, LSTM, GRU), 2 layers, bidirectional, B = 1 (the unpacked gemv
// path) and B = 3 (packed weights), odd sizes, both builds.
//
// loss = Σ output·G + Σ h_n·Gh (+ Σ c_n·Gc), accumulated in float64 from the
// float32 forward values. For a seeded sample of entries of every parameter,
// the input and the initial states: (loss(θ+ε) − loss(θ−ε)) / 2ε with ε = 3e-3
// must match the analytic gradient within 2e-2 of the largest analytic
// gradient of that tensor. Rounding of the f32 forward (~1e-6 on the loss)
// allows no tighter bound at this ε; a dropped or wrong term is off by the
// size of the gradient itself. The data are seeded, so the result is fixed.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';

const EPS = 3e-3;
const TOL = 2e-2;

type Cell = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

function makeLayer(rt: mnemo.Runtime, cell: Cell) {
  const options = { inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 7 };
  if (cell === 'lstm') return new mnemo.LSTM(rt, options);
  if (cell === 'gru') return new mnemo.GRU(rt, options);
  return new mnemo.RNN(rt, { ...options, nonlinearity: cell === 'rnn_relu' ? 'relu' : 'tanh' });
}

describe.each(['simd', 'relaxed'] as const)('recurrent finite-difference gradients (%s build)', (build) => {
  const ready = mnemo.init({ build });
  for (const cell of ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'] as const) {
    for (const batch of [1, 3]) {
      it(`${cell}, B = ${batch}`, async () => {
        const rt = await ready;
        const layer = makeLayer(rt, cell);
        const T = 4, H = 5, D = 2, L = 2;
        const next = rng(batch * 100 + cell.length);
        const fill = (shape: number[]) => rt.tensor(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b) }, next));
        const x = fill([T, batch, 3]);
        const h0 = fill([D * L, batch, H]);
        const c0 = cell === 'lstm' ? fill([D * L, batch, H]) : undefined;
        const G = Float64Array.from({ length: T * batch * D * H }, next);
        const Gh = Float64Array.from({ length: D * L * batch * H }, next);
        const Gc = Float64Array.from({ length: D * L * batch * H }, next);
        const state = () => (c0 ? { h: h0, c: c0 } : { h: h0 });
        const loss = (): number => {
          const out = layer.forward(x, state());
          let s = 0;
          out.output.data.forEach((v, i) => { s += v * G[i]!; });
          out.h.data.forEach((v, i) => { s += v * Gh[i]!; });
          out.c?.data.forEach((v, i) => { s += v * Gc[i]!; });
          return s;
        };
        // Analytic gradients.
        loss();
        layer.zeroGrad();
        const gOut = rt.tensor([T, batch, D * H], Float32Array.from(G));
        const grads = layer.backward(gOut, { h: rt.tensor([D * L, batch, H], Float32Array.from(Gh)),
          ...(c0 ? { c: rt.tensor([D * L, batch, H], Float32Array.from(Gc)) } : {}) });
        const targets: [string, mnemo.Tensor, Float32Array][] = [
          ['input', x, grads.input.toArray()],
          ['h0', h0, grads.h.toArray()],
          ...(c0 ? [['c0', c0, grads.c!.toArray()] as [string, mnemo.Tensor, Float32Array]] : []),
          ...layer.namedParameters().map(([n, p]) => [n, p.value, p.grad.toArray()] as [string, mnemo.Tensor, Float32Array]),
        ];
        const problems: string[] = [];
        for (const [name, tensor, analytic] of targets) {
          const scale = analytic.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
          for (let s = 0; s < 5; s++) {
            const i = Math.floor((next() + 1) / 2 * tensor.size);
            const v = tensor.data[i]!;
            tensor.data[i] = v + EPS; const up = loss();
            tensor.data[i] = v - EPS; const down = loss();
            tensor.data[i] = v;
            const fd = (up - down) / (2 * EPS);
            if (!(Math.abs(fd - analytic[i]!) <= TOL * scale)) {
              problems.push(`${name}[${i}]: finite difference ${fd.toFixed(5)}, backward ${analytic[i]!.toFixed(5)} (scale ${scale.toFixed(3)})`);
            }
          }
        }
        layer.dispose();
        expect(problems).toEqual([]);
      });
    }
  }
});
