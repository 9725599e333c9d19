// The README's training step, end to end: Embedding → 2-layer LSTM (dropout
// between layers) → Linear → cross-entropy, clipGradNorm, Adam, with the hidden
// state carried between windows as truncated BPTT does. On a repeating
// sequence the loss must fall far below its start, and a seeded run must repeat
// bit for bit. Also GRU and RNN in the same loop. Node and Chromium.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';

const V = 11, E = 8, H = 24, T = 10, B = 3;

function train(rt: mnemo.Runtime, cell: 'lstm' | 'gru' | 'rnn', steps: number): number[] {
  const embed = new mnemo.Embedding(rt, { numEmbeddings: V, embeddingDim: E, seed: 1 });
  const options = { inputSize: E, hiddenSize: H, numLayers: 2, dropout: 0.1, seed: 2 };
  const rnn = cell === 'lstm' ? new mnemo.LSTM(rt, options) : cell === 'gru' ? new mnemo.GRU(rt, options) : new mnemo.RNN(rt, options);
  const head = new mnemo.Linear(rt, { inFeatures: H, outFeatures: V, seed: 3 });
  const lossFn = new mnemo.CrossEntropyLoss(rt);
  const params = [...embed.parameters(), ...rnn.parameters(), ...head.parameters()];
  const opt = new mnemo.Adam(params, { lr: 1e-2 });
  // A repeating sequence 0, 1, …, V−1, 0, 1, … cut into B streams.
  const token = (i: number) => i % V;
  const ids = rt.intTensor([T, B]), targets = rt.intTensor([T * B]);
  const stateH = rt.tensor([2, B, H]), stateC = rt.tensor([2, B, H]);
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const pos = b * 1000 + s * T + t;
        ids.data[t * B + b] = token(pos);
        targets.data[t * B + b] = token(pos + 1);
      }
    }
    opt.zeroGrad();
    const x = embed.forward(ids);
    const state = cell === 'lstm' ? { h: stateH, c: stateC } : { h: stateH };
    const out = rnn.forward(x, state);
    const logits = head.forward(out.output);
    losses.push(lossFn.forward(logits.view([T * B, V]), targets));
    const dOut = head.backward(lossFn.backward().view([T, B, V]));
    embed.backward(rnn.backward(dOut).input);
    mnemo.clipGradNorm(params, 5);
    opt.step();
    // Truncated BPTT: the final state starts the next window, cut from the graph.
    stateH.data.set(out.h.data);
    if (out.c) stateC.data.set(out.c.data);
  }
  for (const m of [embed, rnn, head, lossFn]) m.dispose();
  opt.dispose();
  return losses;
}

describe('a training step (README example)', () => {
  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`${cell}: the loss falls on a repeating sequence, and a seeded run repeats bit for bit`, async () => {
      const rt = await mnemo.init();
      const a = train(rt, cell, 60);
      expect(a.every(Number.isFinite)).toBe(true);
      expect(a[0]).toBeGreaterThan(2); // ≈ ln 11 at the start
      expect(Math.min(...a.slice(-5))).toBeLessThan(0.3 * a[0]!);
      expect(train(rt, cell, 60)).toEqual(a);
    });
  }
});
