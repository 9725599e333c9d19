// The Trainer: learning (loss and validation perplexity fall), bit-for-bit
// repeatability of a seeded run, resume from a mid-epoch checkpoint = the
// uninterrupted run (weights, losses, reports), early stop, schedules, and a
// named error when training diverges. Node and Chromium.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';

const TEXT = 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n'.repeat(12);
const VALID = 'the cat sat on the log\na dog sat on the mat\n'.repeat(3);

function setup(rt: mnemo.Runtime, cell: 'lstm' | 'gru' = 'lstm') {
  const tok = mnemo.CharTokenizer.fit(TEXT);
  const model = new mnemo.RNNLanguageModel(rt, {
    vocabSize: tok.vocab.size, embeddingDim: 12, hiddenSize: 24, numLayers: 2, cell, dropout: 0.1, seed: 5,
  });
  return { tok, model, data: { train: tok.encode(TEXT), valid: tok.encode(VALID), startToken: tok.eos } };
}

const OPTIONS: mnemo.TrainerOptions = { epochs: 4, batchSize: 4, seqLen: 12, lr: 1e-2, jitter: true, seed: 3 };

const weights = (m: mnemo.RNNLanguageModel) => m.parameters().map((p) => Array.from(p.value.data));

describe('Trainer', () => {
  it('learns: training loss and validation perplexity fall; the best epoch is kept', async () => {
    const rt = await mnemo.init();
    const { model, data, tok } = setup(rt);
    const reports: mnemo.TrainProgress[] = [];
    const result = await new mnemo.Trainer(model, data, { ...OPTIONS, epochs: 8, lr: 3e-2, onProgress: (p) => reports.push(p) }).train();
    expect(result.epochs).toHaveLength(8);
    // Progress reports: one at least at each epoch's end, never past the last epoch, always a finite loss.
    expect(reports.length).toBeGreaterThanOrEqual(8);
    for (const r of reports) {
      expect(r.epoch).toBeGreaterThanOrEqual(1);
      expect(r.epoch).toBeLessThanOrEqual(8);
      expect(Number.isFinite(r.loss)).toBe(true);
    }
    expect(reports.at(-1)!.epoch).toBe(8);
    const first = result.epochs[0]!, last = result.epochs[7]!;
    expect(last.trainLoss).toBeLessThan(0.6 * first.trainLoss);
    expect(last.validPpl!).toBeLessThan(0.5 * first.validPpl!);
    expect(result.bestValidPpl).toBe(Math.min(...result.epochs.map((e) => e.validPpl!)));
    expect(result.losses.length).toBeGreaterThan(6);
    expect(tok.vocab.size).toBeGreaterThan(10);
  });

  it('a seeded run repeats bit for bit', async () => {
    const rt = await mnemo.init();
    const a = setup(rt), b = setup(rt);
    const ra = await new mnemo.Trainer(a.model, a.data, OPTIONS).train();
    const rb = await new mnemo.Trainer(b.model, b.data, OPTIONS).train();
    expect(rb.losses).toEqual(ra.losses);
    expect(weights(b.model)).toEqual(weights(a.model));
  });

  it('resumes from a mid-epoch checkpoint exactly as if never stopped', async () => {
    const rt = await mnemo.init();
    const whole = setup(rt);
    const ref = await new mnemo.Trainer(whole.model, whole.data, OPTIONS).train();

    for (const stopAt of [3, 11, 17]) { // windows into the run: inside epochs 1 and 2
      const part = setup(rt);
      let windows = 0;
      const first = new mnemo.Trainer(part.model, part.data, { ...OPTIONS, shouldStop: () => ++windows >= stopAt });
      const r1 = await first.train();
      expect(r1.interrupted).toBe(true);
      const bytes = first.checkpoint();
      // A fresh model (as after a crash) continues from the checkpoint.
      const again = setup(rt);
      const r2 = await new mnemo.Trainer(again.model, again.data, OPTIONS, bytes).train();
      expect(r2.losses, `stopped after ${stopAt} windows`).toEqual(ref.losses);
      expect(r2.epochs.map((e) => e.validPpl)).toEqual(ref.epochs.map((e) => e.validPpl));
      expect(weights(again.model)).toEqual(weights(whole.model));
    }
  });

  it('rejects a checkpoint made with other settings, with a clear error', async () => {
    const rt = await mnemo.init();
    const a = setup(rt);
    const t = new mnemo.Trainer(a.model, a.data, { ...OPTIONS, shouldStop: () => true });
    await t.train();
    const bytes = t.checkpoint();
    const b = setup(rt);
    expect(() => new mnemo.Trainer(b.model, b.data, { ...OPTIONS, batchSize: 2 }, bytes)).toThrow(/same batchSize, seqLen and optimizer/);
    const c = setup(rt, 'gru');
    expect(() => new mnemo.Trainer(c.model, c.data, OPTIONS, bytes)).toThrow(/model config/);
    expect(() => new mnemo.Trainer(c.model, c.data, OPTIONS, new Uint8Array(5))).toThrow(mnemo.MnemoError);
  });

  it('early stop, step decay and plateau decay', async () => {
    const rt = await mnemo.init();
    const a = setup(rt);
    const r = await new mnemo.Trainer(a.model, a.data, { ...OPTIONS, epochs: 3, schedule: { type: 'step', startEpoch: 1, factor: 0.5 } }).train();
    // Zaremba: startEpoch epochs at the base lr, then × factor per epoch.
    expect(r.epochs.map((e) => e.lr)).toEqual([1e-2, 5e-3, 2.5e-3]);
    const b = setup(rt);
    // lr so small nothing improves after the first epoch → early stop after `patience` epochs.
    const rb = await new mnemo.Trainer(b.model, b.data, { ...OPTIONS, lr: 1e-9, epochs: 10, patience: 2, schedule: { type: 'plateau', factor: 0.5 } }).train();
    expect(rb.stoppedEarly || rb.epochs.length === 10).toBe(true);
    if (rb.stoppedEarly) expect(rb.epochs.length).toBeLessThan(10);
  });

  it('a diverging run throws NonFiniteLossError naming the epoch and window', async () => {
    const rt = await mnemo.init();
    const a = setup(rt);
    a.model.parameters()[0]!.value.data[0] = NaN;
    await expect(new mnemo.Trainer(a.model, a.data, OPTIONS).train()).rejects.toThrow(/diverged at epoch 1, window 1/);
  });
});
