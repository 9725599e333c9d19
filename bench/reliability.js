#!/usr/bin/env node
/**
 * What the trainer's guards cost on the default recipe's shape (word LSTM 1 × 200, embedding
 * 200 tied, V = 13,845, B = 20, T = 35, Adam, clip 0.5): one training step, the pass over the
 * gradients (the global norm), the pass over the weights after the update, the copy that
 * onNonFinite: 'skip' makes before each step, and a checkpoint (serialise, then write
 * atomically: temporary file, fsync, rename, fsync of the folder). Medians over 12 steps.
 * Needs `npm run build` first.
 *
 *   node bench/reliability.js [--vocab V]
 */

import { closeSync, fsyncSync, mkdtempSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Adam, RNNLanguageModel, Trainer, clipGradNorm, init } from '../dist/src/node.js';

const { values } = parseArgs({ options: { vocab: { type: 'string' } } });
const V = Number(values.vocab ?? 13845), B = 20, T = 35, STEPS = 14;
const rt = await init();
const model = new RNNLanguageModel(rt, {
  vocabSize: V, embeddingDim: 200, hiddenSize: 200, tieWeights: true, embeddingDropout: 0.2, outputDropout: 0.2, seed: 1,
});
const params = model.parameters();
const optimizer = new Adam(params, { lr: 5e-3 });
const ids = rt.intTensor([T, B]), targets = rt.intTensor([T * B]);
for (let i = 0; i < T * B; i++) { ids.data[i] = (i * 7919) % V; targets.data[i] = (i * 104729) % V; }
const state = model.initState(B);
const sumSquares = (tensors) => tensors.reduce((s, t) => s + rt.kernels.sum_squares(t.offset, t.size), 0);
const copies = params.map((p) => new Float32Array(3 * p.value.size));
const time = (fn) => { const t0 = performance.now(); fn(); return performance.now() - t0; };
const median = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];

const ms = { step: [], gradients: [], weights: [], skipCopy: [] };
for (let i = 0; i < STEPS; i++) {
  const step = time(() => {
    optimizer.zeroGrad();
    const r = model.lossAndBackward(ids, targets, state);
    clipGradNorm(params, 0.5);
    optimizer.step();
    model.detachState(r.state, state);
  });
  const gradients = time(() => sumSquares(params.map((p) => p.grad)));
  const weights = time(() => sumSquares(params.map((p) => p.value)));
  const skipCopy = time(() => params.forEach((p, j) => {
    const s = optimizer.stateTensors(j), n = p.value.size;
    copies[j].set(p.value.data, 0); copies[j].set(s.exp_avg.data, n); copies[j].set(s.exp_avg_sq.data, 2 * n);
  }));
  if (i >= 2) { ms.step.push(step); ms.gradients.push(gradients); ms.weights.push(weights); ms.skipCopy.push(skipCopy); }
}

const trainer = new Trainer(model, { train: Int32Array.from({ length: 20_000 }, (_, i) => i % V), startToken: 0 },
  { epochs: 1, batchSize: B, seqLen: T, lr: 5e-3, shouldStop: () => true });
await trainer.train();
const dir = mkdtempSync(join(tmpdir(), 'mnemo-bench-'));
const serialise = [], write = [];
let size = 0;
for (let i = 0; i < 5; i++) {
  let bytes;
  serialise.push(time(() => { bytes = trainer.checkpoint(); }));
  size = bytes.length;
  write.push(time(() => {
    const fd = openSync(join(dir, 'c.tmp'), 'w');
    for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd); closeSync(fd);
    renameSync(join(dir, 'c.tmp'), join(dir, 'c.ckpt'));
    const d = openSync(dir, 'r'); fsyncSync(d); closeSync(d);
  }));
}
rmSync(dir, { recursive: true, force: true });

const step = median(ms.step), pct = (x) => `${(100 * x / step).toFixed(1)} %`;
console.log(`${model.numParameters.toLocaleString('en-US')} parameters, wasm build ${rt.build}; medians in ms`);
console.log(`training step                 ${step.toFixed(1)}`);
console.log(`gradient pass (norm)          ${median(ms.gradients).toFixed(2)}  ${pct(median(ms.gradients))}  (clipping computes it anyway)`);
console.log(`weight pass after the update  ${median(ms.weights).toFixed(2)}  ${pct(median(ms.weights))}`);
console.log(`'skip' copy before a step     ${median(ms.skipCopy).toFixed(2)}  ${pct(median(ms.skipCopy))}`);
console.log(`checkpoint of ${(size / 2 ** 20).toFixed(1)} MiB: serialise ${median(serialise).toFixed(0)}, atomic write ${median(write).toFixed(0)}`);
rt.close?.();
