// Optimizers against PyTorch 1.13 (fixture test/fixtures/optim.safetensors):
// an LSTM(5, 7) with fixed input and upstream gradient, 10 steps of zeroGrad,
// forward, backward, clipGradNorm(0.5), step — Adam, AdamW (wd 0.1), SGD with
// momentum, SGD with Nesterov momentum and weight decay. Checked each step: the
// loss and the gradient norm before clipping; after steps 1 and 10: every
// parameter. Both builds; Node and Chromium.
//
// Tolerances, relative to the largest magnitude: loss and norm 1e-5, parameters
// after step 1 1e-5, after step 10 1e-4 (f32 differences in the gradients are
// amplified by Adam's m/√v over the steps).
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { loadFixture } from './fixtures.js';

interface Run { id: string; optimizer: 'Adam' | 'AdamW' | 'SGD'; hyperparameters: Record<string, number | boolean | number[]> }

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return d / (m || 1);
}

describe.each(['simd', 'relaxed'] as const)('optimizers match PyTorch over 10 steps on an LSTM (%s build)', (build) => {
  const ready = mnemo.init({ build });
  const fixture = loadFixture('optim.safetensors');

  for (const id of ['adam', 'adamw', 'sgd_momentum', 'sgd_nesterov_wd']) {
    it(id, async () => {
      const rt = await ready;
      const fx = await fixture;
      const run = (JSON.parse(fx.metadata.runs!) as Run[]).find((r) => r.id === id)!;
      const get = (name: string) => {
        const t = fx.tensors.get(name);
        if (!t) throw new Error(`fixture optim: missing ${name}`);
        return t;
      };
      const lstm = new mnemo.LSTM(rt, { inputSize: 5, hiddenSize: 7 });
      for (const [name, p] of lstm.namedParameters()) p.value.data.set(get(`init/${name}`).data as Float32Array);
      const params = lstm.parameters();
      const hp = run.hyperparameters;
      const opt = run.optimizer === 'SGD'
        ? new mnemo.SGD(params, { lr: hp.lr as number, momentum: hp.momentum as number, dampening: hp.dampening as number,
          weightDecay: hp.weight_decay as number, nesterov: hp.nesterov as boolean })
        : new (run.optimizer === 'Adam' ? mnemo.Adam : mnemo.AdamW)(params, {
          lr: hp.lr as number, betas: hp.betas as [number, number], eps: hp.eps as number, weightDecay: hp.weight_decay as number });
      const input = rt.tensor(get('input').shape, get('input').data as Float32Array);
      const G = rt.tensor(get('grad_output').shape, get('grad_output').data as Float32Array);
      const wantLoss = get(`${id}/loss`).data, wantNorm = get(`${id}/grad_norm`).data;
      const problems: string[] = [];
      for (let step = 1; step <= 10; step++) {
        opt.zeroGrad();
        const { output } = lstm.forward(input);
        let loss = 0;
        output.data.forEach((v, i) => { loss += v * G.data[i]!; });
        lstm.backward(G);
        const norm = mnemo.clipGradNorm(params, 0.5);
        opt.step();
        if (relErr([loss], [wantLoss[step - 1]!]) > 1e-5) problems.push(`step ${step}: loss ${loss}, PyTorch ${wantLoss[step - 1]}`);
        if (relErr([norm], [wantNorm[step - 1]!]) > 1e-5) problems.push(`step ${step}: grad norm ${norm}, PyTorch ${wantNorm[step - 1]}`);
        if (step === 1 || step === 10) {
          for (const [name, p] of lstm.namedParameters()) {
            const e = relErr(p.value.data, get(`${id}/step${step}/${name}`).data);
            if (e > (step === 1 ? 1e-5 : 1e-4)) problems.push(`step ${step}: ${name} relative error ${e.toExponential(2)}`);
          }
        }
      }
      opt.dispose();
      lstm.dispose();
      expect(problems).toEqual([]);
    });
  }
});
