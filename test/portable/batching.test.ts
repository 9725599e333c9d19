// BpttBatcher: Zaremba et al.'s layout of B contiguous streams read in windows
// of T tokens, targets shifted by one, the short last window, AWD-LSTM jitter
// (seeded, repeatable), and getState/setState in the middle of an epoch.
// Runs in Node and in headless Chromium.
import { describe, expect, it } from 'vitest';
import { BpttBatcher, MnemoError, ShapeError, type BpttBatch } from 'mnemo';

/** 0, 1, …, n−1: every token is its own position, so the layout can be read off the ids. */
const iota = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

function epoch(batcher: BpttBatcher): BpttBatch[] {
  const out: BpttBatch[] = [];
  for (let w = batcher.next(); w !== null; w = batcher.next()) out.push(w);
  return out;
}

/** Column b of a (T, B) window. */
const column = (data: Int32Array, B: number, b: number): number[] => Array.from(data).filter((_, i) => i % B === b);

describe('BpttBatcher', () => {
  it('cuts the stream into B streams of L = floor((n−1)/B) tokens, windows of T, targets shifted by one', () => {
    const n = 53, B = 4, T = 5;
    const batcher = new BpttBatcher(iota(n), { batchSize: B, seqLen: T });
    expect(batcher.streamLength).toBe(13); // floor(52 / 4); token 52 is only a target (of stream 3)
    expect(batcher.epochSize()).toBe(3);   // ceil(13 / 5)
    const first = batcher.next()!;
    expect(first.seqLen).toBe(5);
    // inputs (T, B): row t holds position t of the 4 streams, which start at 0, 13, 26, 39
    expect(Array.from(first.inputs.subarray(0, 4))).toEqual([0, 13, 26, 39]);
    expect(Array.from(first.inputs.subarray(4, 8))).toEqual([1, 14, 27, 40]);
    expect(Array.from(first.targets)).toEqual(Array.from(first.inputs, (x) => x + 1));
    const rest = epoch(batcher);
    expect(rest.map((w) => w.seqLen)).toEqual([5, 3]); // 13 = 5 + 5 + 3: the last window is shorter
    expect(batcher.next()).toBeNull();
    expect(batcher.position).toBe(13);
  });

  it('concatenating each stream\'s windows reproduces the stream, and the targets cover tokens 1…B·L once', () => {
    const rng = (seed: number) => () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 1000;
    const next = rng(7);
    const stream = Int32Array.from({ length: 1000 }, next);
    for (const [B, T, jitter] of [[1, 7, false], [3, 10, false], [7, 6, true], [16, 35, false], [20, 1, false]] as const) {
      const batcher = new BpttBatcher(stream, { batchSize: B, seqLen: T, jitter, seed: 3 });
      const L = Math.floor((stream.length - 1) / B);
      const windows = epoch(batcher);
      for (let b = 0; b < B; b++) {
        const inputs = windows.flatMap((w) => column(w.inputs, B, b));
        const targets = windows.flatMap((w) => column(w.targets, B, b));
        expect(inputs).toEqual(Array.from(stream.subarray(b * L, (b + 1) * L)));
        expect(targets).toEqual(Array.from(stream.subarray(b * L + 1, (b + 1) * L + 1)));
      }
      for (const w of windows) {
        expect(w.inputs.length).toBe(w.seqLen * B);
        expect(w.targets.length).toBe(w.seqLen * B);
      }
    }
  });

  it('starts again after reset()', () => {
    const batcher = new BpttBatcher(iota(100), { batchSize: 3, seqLen: 8 });
    const a = epoch(batcher);
    expect(batcher.next()).toBeNull();
    batcher.reset();
    expect(batcher.position).toBe(0);
    expect(epoch(batcher)).toEqual(a);
  });

  it('jitter: lengths max(5, round(N(T or T/2, 5))), the same for the same seed, new in each epoch', () => {
    const stream = iota(20_001);
    const lengths = (seed: number, epochs = 1): number[][] => {
      const batcher = new BpttBatcher(stream, { batchSize: 2, seqLen: 35, jitter: true, seed });
      const out: number[][] = [];
      for (let e = 0; e < epochs; e++) {
        batcher.reset();
        out.push(epoch(batcher).map((w) => w.seqLen));
      }
      return out;
    };
    const [e1, e2] = lengths(5, 2) as [number[], number[]];
    expect(lengths(5, 2)).toEqual([e1, e2]);
    expect(lengths(6)[0]).not.toEqual(e1);
    expect(e2).not.toEqual(e1);
    const body = e1.slice(0, -1); // the last window is clipped to the end of the streams
    expect(body.reduce((s, x) => s + x, 0) + e1.at(-1)!).toBe(10_000);
    expect(Math.min(...body)).toBeGreaterThanOrEqual(5);
    const short = body.filter((x) => x < 26).length / body.length;   // windows drawn around T/2 = 17.5
    expect(short).toBeGreaterThan(0.01);
    expect(short).toBeLessThan(0.12);
    const long = body.filter((x) => x >= 26);
    const mean = long.reduce((s, x) => s + x, 0) / long.length;
    expect(Math.abs(mean - 35)).toBeLessThan(1.5);
    expect(Math.max(...body)).toBeLessThan(35 + 30);
    expect(Math.max(...body)).toBeGreaterThan(40);
  });

  it('getState/setState in the middle of an epoch gives the same windows as an uninterrupted run', () => {
    for (const jitter of [false, true]) {
      const stream = iota(5000);
      const options = { batchSize: 4, seqLen: 20, jitter, seed: 11 };
      const whole = new BpttBatcher(stream, options);
      const all = [...epoch(whole), ...(whole.reset(), epoch(whole))];

      const first = new BpttBatcher(stream, options);
      for (let i = 0; i < 9; i++) first.next();
      const saved = JSON.parse(JSON.stringify(first.getState()));
      const resumed = new BpttBatcher(stream, options);
      resumed.setState(saved);
      const rest = [...epoch(resumed), ...(resumed.reset(), epoch(resumed))];
      expect(rest).toEqual(all.slice(9));
      expect(saved.position).toBe(jitter ? all.slice(0, 9).reduce((s, w) => s + w.seqLen, 0) : 180);
    }
  });

  it('rejects bad arguments and mismatched states', () => {
    expect(() => new BpttBatcher(iota(4), { batchSize: 4, seqLen: 2 })).toThrow(/4 tokens is too short for batchSize 4: it needs at least 5/);
    expect(() => new BpttBatcher(iota(10), { batchSize: 0, seqLen: 2 })).toThrow(ShapeError);
    expect(() => new BpttBatcher(iota(10), { batchSize: 2, seqLen: 2.5 })).toThrow(/seqLen must be a positive integer, got 2.5/);
    expect(() => new BpttBatcher([1, 2, 3] as unknown as Int32Array, { batchSize: 1, seqLen: 2 })).toThrow(/Int32Array/);
    const a = new BpttBatcher(iota(100), { batchSize: 2, seqLen: 5 });
    const b = new BpttBatcher(iota(100), { batchSize: 3, seqLen: 5 });
    const j = new BpttBatcher(iota(100), { batchSize: 2, seqLen: 5, jitter: true });
    expect(() => b.setState(a.getState())).toThrow(/state is for batchSize 2, this batcher has 3/);
    expect(() => j.setState(a.getState())).toThrow(/without jitter/);
    expect(() => a.setState({ ...a.getState(), position: 50 })).toThrow(MnemoError);
  });
});
