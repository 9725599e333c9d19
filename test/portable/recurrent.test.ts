// Parity of RNN (tanh, relu), LSTM and GRU with PyTorch 1.13 on the same
// weights, inputs, initial states and upstream gradients (fixtures written by
// scripts/make-fixtures.py): outputs, final states, the input gradient, the
// initial-state gradients and every parameter gradient; 1 and 2 layers, uni-
// and bidirectional, batchFirst both ways, bias on and off, I=13, H=37 (17 for
// 2 layers), B=3, T=7. Both builds; Node and Chromium.
//
// Tolerances, relative to the largest magnitude of the reference tensor:
// forward 1e-5, gradients 1e-4.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { loadFixture } from './fixtures.js';

const FORWARD_TOL = 1e-5;
const GRAD_TOL = 1e-4;

interface CaseSpec {
  id: string; cell: 'rnn' | 'lstm' | 'gru'; nonlinearity?: 'tanh' | 'relu';
  inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; batchFirst: boolean; bias: boolean;
}

/** Largest |a − b| over the largest |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return d / (m || 1);
}

const files = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'] as const;

describe.each(['simd', 'relaxed'] as const)('recurrent layers match PyTorch (%s build)', (build) => {
  const ready = mnemo.init({ build });

  for (const file of files) {
    it(`${file}: every case`, async () => {
      const rt = await ready;
      const fx = await loadFixture(`${file}.safetensors`);
      const cases = JSON.parse(fx.metadata.cases!) as CaseSpec[];
      expect(cases.length).toBeGreaterThan(0);
      const problems: string[] = [];
      for (const spec of cases) {
        const get = (name: string) => {
          const t = fx.tensors.get(`${spec.id}/${name}`);
          if (!t) throw new Error(`fixture ${file}: missing ${spec.id}/${name}`);
          return t;
        };
        const options = {
          inputSize: spec.inputSize, hiddenSize: spec.hiddenSize, numLayers: spec.numLayers,
          bidirectional: spec.bidirectional, batchFirst: spec.batchFirst, bias: spec.bias,
        };
        const layer = spec.cell === 'lstm' ? new mnemo.LSTM(rt, options)
          : spec.cell === 'gru' ? new mnemo.GRU(rt, options)
            : new mnemo.RNN(rt, { ...options, nonlinearity: spec.nonlinearity ?? 'tanh' });
        try {
          const named = layer.namedParameters();
          // Same names, same order, same shapes as PyTorch's named_parameters().
          for (const [name, p] of named) {
            const ref = get(name);
            expect(p.value.shape, `${spec.id} ${name}`).toEqual(ref.shape);
            p.value.data.set(ref.data as Float32Array);
          }
          const tensor = (name: string) => { const r = get(name); return rt.tensor(r.shape, r.data as Float32Array); };
          const state = { h: tensor('h0'), ...(spec.cell === 'lstm' ? { c: tensor('c0') } : {}) };
          const input = tensor('input');
          const out = layer.forward(input, state);
          const check = (what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number) => {
            const e = relErr(got, want);
            if (!(e <= tol)) problems.push(`${spec.id} ${what}: relative error ${e.toExponential(2)} > ${tol}`);
          };
          check('output', out.output.data, get('output').data, FORWARD_TOL);
          check('h_n', out.h.data, get('h_n').data, FORWARD_TOL);
          if (spec.cell === 'lstm') check('c_n', out.c!.data, get('c_n').data, FORWARD_TOL);
          layer.zeroGrad();
          const grads = layer.backward(tensor('grad_output'), {
            h: tensor('grad_h_n'), ...(spec.cell === 'lstm' ? { c: tensor('grad_c_n') } : {}),
          });
          check('grad_input', grads.input.data, get('grad_input').data, GRAD_TOL);
          check('grad_h0', grads.h.data, get('grad_h0').data, GRAD_TOL);
          if (spec.cell === 'lstm') check('grad_c0', grads.c!.data, get('grad_c0').data, GRAD_TOL);
          for (const [name, p] of named) check(`grad.${name}`, p.grad.data, get(`grad.${name}`).data, GRAD_TOL);
        } finally {
          layer.dispose();
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
