// Numerical faults in training: a NaN or an infinity is caught at the step
// where it appears and reported (NonFiniteError: epoch, window, tensor, phase)
// under onNonFinite 'stop'; under 'skip' the step leaves the weights and the
// optimizer state exactly as before it (an update is taken back) and the lr
// drops by skipLrFactor. Faults provoked for real (a NaN weight, an exploding
// ReLU RNN, a huge learning rate) and injected into one step (a gradient, an
// update that overflows). Node and Chromium.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';

const TEXT = 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n'.repeat(12);
const OPTIONS: mnemo.TrainerOptions = { epochs: 2, batchSize: 4, seqLen: 12, lr: 1e-2, seed: 3 };

function setup(rt: mnemo.Runtime, cell: mnemo.LMCell = 'lstm') {
  const tok = mnemo.CharTokenizer.fit(TEXT);
  const model = new mnemo.RNNLanguageModel(rt, {
    vocabSize: tok.vocab.size, embeddingDim: 12, hiddenSize: 24, numLayers: 2, cell, dropout: 0.1, seed: 5,
  });
  return { model, data: { train: tok.encode(TEXT), startToken: tok.eos } };
}

const param = (m: mnemo.RNNLanguageModel, name: string) => m.namedParameters().find(([n]) => n === name)![1];
const weights = (m: mnemo.RNNLanguageModel) => m.parameters().map((p) => p.value.toArray());
const finite = (a: Float32Array) => a.every(Number.isFinite);

/** Runs `t.train()` and returns what it threw. */
async function failure(t: mnemo.Trainer): Promise<mnemo.NonFiniteError> {
  const e = await t.train().then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(mnemo.NonFiniteError);
  expect(e).toBeInstanceOf(mnemo.NonFiniteLossError); // the former name
  return e as mnemo.NonFiniteError;
}

/**
 * Makes the model's `call`-th lossAndBackward (1-based) faulty: `poison` runs
 * after the real backward. `before` then holds the weights and the optimizer
 * state as they were when that step began.
 */
function injectAt(model: mnemo.RNNLanguageModel, call: number, poison: () => void, optimizer: () => mnemo.Optimizer) {
  const real = model.lossAndBackward.bind(model);
  const seen = { calls: 0, before: null as null | { weights: Float32Array[]; state: mnemo.OptimizerStateDict } };
  model.lossAndBackward = (ids, targets, state) => {
    seen.calls++;
    if (seen.calls === call) seen.before = { weights: weights(model), state: optimizer().stateDict() };
    const r = real(ids, targets, state);
    if (seen.calls === call) poison();
    return r;
  };
  return seen;
}

describe('non-finite values in training', () => {
  it('a NaN weight: NonFiniteError names the weight and the step, under both policies', async () => {
    const rt = await mnemo.init();
    for (const policy of ['stop', 'skip'] as const) {
      const { model, data } = setup(rt);
      param(model, 'rnn.weight_ih_l0').value.data[7] = NaN;
      const e = await failure(new mnemo.Trainer(model, data, { ...OPTIONS, onNonFinite: policy }));
      expect([e.epoch, e.step, e.tensor, e.phase], policy).toEqual([1, 1, 'rnn.weight_ih_l0', 'weights']);
      expect(e.message).toMatch(/^training diverged at epoch 1, window 1 of \d+: weight rnn\.weight_ih_l0 held non-finite values before the step/);
      model.dispose();
    }
  });

  it('an exploding ReLU RNN (finite weights, infinite activations): the loss is named; skip gives up after 10 in a row, weights untouched', async () => {
    const rt = await mnemo.init();
    const explode = (m: mnemo.RNNLanguageModel) => {
      // h_t = relu(W_ih x + 1e20·h_{t−1} + 1): past f32's range within a few steps.
      const whh = param(m, 'rnn.weight_hh_l0').value, H = 24;
      const w = new Float32Array(whh.size);
      for (let i = 0; i < H; i++) w[i * H + i] = 1e20;
      whh.set(w);
      param(m, 'rnn.bias_hh_l0').value.set(new Float32Array(H).fill(1));
    };
    const a = setup(rt, 'rnn_relu');
    explode(a.model);
    expect(a.model.parameters().every((p) => finite(p.value.toArray()))).toBe(true);
    const e = await failure(new mnemo.Trainer(a.model, a.data, OPTIONS));
    expect([e.epoch, e.step, e.tensor, e.phase]).toEqual([1, 1, 'loss', 'loss']);
    expect(e.message).toMatch(/window 1 of \d+: the loss is (NaN|Infinity) \(lower the learning rate/);

    const b = setup(rt, 'rnn_relu');
    explode(b.model);
    const start = weights(b.model);
    const skipped: mnemo.NonFiniteError[] = [];
    const t = new mnemo.Trainer(b.model, b.data, { ...OPTIONS, onNonFinite: 'skip', onSkip: (err) => skipped.push(err) });
    const e2 = await failure(t);
    expect(skipped.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(e2.step).toBe(10);
    expect(e2.message).toMatch(/10 steps skipped in a row/);
    expect(weights(b.model)).toEqual(start); // every step skipped: nothing changed
    expect(t.optimizer.stepCount).toBe(0);
    expect(t.optimizer.lr).toBe(OPTIONS.lr * 0.5 ** 9);
  });

  for (const clip of [5, 0]) {
    it(`a non-finite gradient (clip ${clip}): the first in backward order is named; skip leaves weights and Adam state as before the step`, async () => {
      const rt = await mnemo.init();
      const poisonGrads = (m: mnemo.RNNLanguageModel) => () => {
        param(m, 'rnn.weight_ih_l0').grad.data[3] = Infinity;
        param(m, 'rnn.weight_hh_l1').grad.data[5] = NaN;
      };
      const a = setup(rt);
      let ta: mnemo.Trainer | undefined;
      injectAt(a.model, 6, poisonGrads(a.model), () => ta!.optimizer);
      ta = new mnemo.Trainer(a.model, a.data, { ...OPTIONS, clip });
      const e = await failure(ta);
      // Backward runs decoder → layer 1 → layer 0 → encoder: layer 1's gradient comes first.
      expect([e.epoch, e.step, e.tensor, e.phase]).toEqual([1, 6, 'rnn.weight_hh_l1.grad', 'gradient']);
      expect(e.message).toMatch(/the gradient norm is NaN: non-finite gradient rnn\.weight_hh_l1\.grad and rnn\.weight_ih_l0\.grad/);

      const b = setup(rt);
      let tb: mnemo.Trainer | undefined;
      const seen = injectAt(b.model, 6, poisonGrads(b.model), () => tb!.optimizer);
      const skipped: mnemo.NonFiniteError[] = [];
      tb = new mnemo.Trainer(b.model, b.data, {
        ...OPTIONS, clip, onNonFinite: 'skip', skipLrFactor: 0.25, onSkip: (err) => skipped.push(err), shouldStop: () => seen.calls === 6,
      });
      const r = await tb.train();
      expect(r.interrupted).toBe(true);
      expect(skipped.map((s) => [s.step, s.tensor])).toEqual([[6, 'rnn.weight_hh_l1.grad']]);
      expect(weights(b.model)).toEqual(seen.before!.weights);
      expect(tb.optimizer.stateDict()).toEqual({ ...seen.before!.state, options: { ...seen.before!.state.options, lr: OPTIONS.lr * 0.25 } });
      expect(tb.optimizer.stepCount).toBe(5);
      // It goes on from there to the end, with finite weights; the epoch report counts the skip.
      const rest = await new mnemo.Trainer(b.model, b.data, { ...OPTIONS, clip, onNonFinite: 'skip' }, tb.checkpoint()).train();
      expect(rest.epochs.map((x) => x.skipped)).toEqual([1, 0]);
      expect(rest.epochs[1]!.lr).toBe(OPTIONS.lr * 0.25);
      expect(b.model.parameters().every((p) => finite(p.value.toArray()))).toBe(true);
    });
  }

  it('an update that overflows a weight (SGD, momentum, no clipping): stop names it; skip takes the update back', async () => {
    const rt = await mnemo.init();
    const sgd: mnemo.TrainerOptions = { ...OPTIONS, optimizer: 'sgd', momentum: 0.9, lr: 10, clip: 0 };
    // A finite but huge gradient: lr · 3e38 is past f32's range.
    const huge = (m: mnemo.RNNLanguageModel) => () => { param(m, 'decoder.bias').grad.data[2] = 3e38; };
    const a = setup(rt);
    let ta: mnemo.Trainer | undefined;
    injectAt(a.model, 4, huge(a.model), () => ta!.optimizer);
    ta = new mnemo.Trainer(a.model, a.data, sgd);
    const e = await failure(ta);
    expect([e.epoch, e.step, e.tensor, e.phase]).toEqual([1, 4, 'decoder.bias', 'update']);
    expect(e.message).toMatch(/the optimizer update made weight decoder\.bias non-finite; the weights are unusable now/);
    expect(finite(param(a.model, 'decoder.bias').value.toArray())).toBe(false);

    const b = setup(rt);
    let tb: mnemo.Trainer | undefined;
    const seen = injectAt(b.model, 4, huge(b.model), () => tb!.optimizer);
    tb = new mnemo.Trainer(b.model, b.data, { ...sgd, onNonFinite: 'skip', shouldStop: () => seen.calls === 4 });
    await tb.train();
    expect(weights(b.model)).toEqual(seen.before!.weights);
    const state = tb.optimizer.stateDict();
    expect(state.step).toBe(3);
    expect(state.state).toEqual(seen.before!.state.state); // the momentum buffers as before the step
    expect(tb.optimizer.lr).toBe(5);
  });

  it('a huge learning rate (Adam, no clipping): stopped at the update that overflowed, naming a weight that is non-finite', async () => {
    const rt = await mnemo.init();
    const { model, data } = setup(rt);
    const e = await failure(new mnemo.Trainer(model, data, { ...OPTIONS, lr: 1e30, clip: 0 }));
    expect(e.phase).toBe('update');
    expect(e.epoch).toBe(1);
    expect(e.step).toBeLessThanOrEqual(3);
    expect(finite(param(model, e.tensor).value.toArray())).toBe(false);
  });

  it('validates the policy options', async () => {
    const rt = await mnemo.init();
    const { model, data } = setup(rt);
    const bad = (o: Partial<mnemo.TrainerOptions>) => () => new mnemo.Trainer(model, data, { ...OPTIONS, ...o });
    expect(bad({ onNonFinite: 'ignore' as 'skip' })).toThrow(/onNonFinite must be 'stop' or 'skip', got "ignore"/);
    expect(bad({ skipLrFactor: 0 })).toThrow(/skipLrFactor must be in \(0, 1\], got 0/);
    expect(bad({ skipLrFactor: 2 })).toThrow(/skipLrFactor must be in \(0, 1\]/);
    expect(bad({ checkpointEvery: 1.5 })).toThrow(/checkpointEvery must be a positive integer/);
    expect(bad({ checkpointSeconds: -1 })).toThrow(/checkpointSeconds must be > 0/);
  });
});
