// The arena and tensors on the one memory: alignment, views that survive
// memory.grow, scopes, reuse of freed blocks, the memory maximum, bad input.
// Runs in Node and Chromium.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';

const MiB = 1 << 20;

describe('tensors and the arena', () => {
  it('aligns every tensor to 64 bytes (so 16 for SIMD)', async () => {
    const rt = await mnemo.init();
    for (const shape of [[1], [3], [5, 7], [13, 37], [0], [2, 0, 3]]) {
      const t = rt.tensor(shape);
      expect(t.offset % 64).toBe(0);
      expect(t.offset % 16).toBe(0);
    }
  });

  it.each([1, 2])('re-derives views after memory.grow; a view taken before the grow is stale (numThreads %i)', async (numThreads) => {
    const rt = await mnemo.init({ initialMemory: 4 * MiB, numThreads });
    const shared = typeof SharedArrayBuffer === 'function' && rt.memory.buffer instanceof SharedArrayBuffer;
    const t = rt.tensor([4], [1, 2, 3, 4]);
    const before = rt.memory.buffer.byteLength;
    const stale = t.data;
    const big = rt.tensor([8 * MiB / 4]); // 8 MiB: forces memory.grow
    expect(rt.memory.buffer.byteLength).toBeGreaterThan(before);
    // A grow detaches the old buffer, or (shared memory, threads) leaves it at
    // its old length: either way old views miss the new memory, so views are
    // never cached.
    if (shared) expect(stale.buffer.byteLength).toBe(before);
    else expect(stale.length).toBe(0);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4]);
    big.data[big.size - 1] = 5;
    expect(big.toArray()[big.size - 1]).toBe(5);
    // Kernels see the same memory after the grow.
    const c = mnemo.matmul(rt.tensor([1, 4], [1, 1, 1, 1]), rt.tensor([4, 1], [1, 2, 3, 4]));
    expect(Array.from(c.data)).toEqual([10]);
    rt.close();
  });

  it('scope() frees what it created and keeps what it returns, even on throw', async () => {
    const rt = await mnemo.init();
    const used0 = rt.memoryStats().usedBytes;
    const kept = rt.scope(() => {
      rt.tensor([100]);
      const inner = rt.scope(() => ({ x: rt.tensor([10]), y: [rt.tensor([20])], z: rt.tensor([30]) }));
      expect(inner.x.isLive && inner.y[0]!.isLive && inner.z.isLive).toBe(true);
      return inner.x; // y and z stay owned by this scope and die with it
    });
    expect(kept.isLive).toBe(true);
    expect(rt.memoryStats().usedBytes).toBe(used0 + 64);
    let leaked: mnemo.Tensor | undefined;
    expect(() => rt.scope(() => { leaked = rt.tensor([1000]); throw new Error('boom'); })).toThrow('boom');
    expect(leaked!.isLive).toBe(false);
    expect(() => leaked!.data).toThrow(mnemo.DisposedError);
    kept.dispose();
    expect(rt.memoryStats().usedBytes).toBe(used0);
    expect(() => rt.scope(() => Promise.resolve(1))).toThrow(/synchronous/);
  });

  it('reuses freed blocks and returns the top: create and dispose repeatedly without growth', async () => {
    const rt = await mnemo.init();
    const next = rng(42);
    const live: mnemo.Tensor[] = [];
    const base = rt.memoryStats();
    for (let i = 0; i < 3000; i++) {
      if (live.length > 0 && next() < 0) live.splice(Math.floor((next() + 1) / 2 * live.length), 1)[0]!.dispose();
      else live.push(rt.tensor([1 + Math.floor((next() + 1) * 2000)]));
      // Invariant: live blocks never overlap.
      if (i % 300 === 0) {
        const spans = live.map((t) => [t.offset, t.offset + t.byteLength] as const).sort((a, b) => a[0] - b[0]);
        for (let j = 1; j < spans.length; j++) expect(spans[j]![0]).toBeGreaterThanOrEqual(spans[j - 1]![1]);
      }
    }
    for (const t of live) t.dispose();
    const end = rt.memoryStats();
    expect(end.usedBytes).toBe(base.usedBytes);
    expect(end.liveBlocks).toBe(base.liveBlocks);
    const a = rt.tensor([1000]);
    const offset = a.offset;
    a.dispose();
    expect(rt.tensor([1000]).offset).toBe(offset);
  });

  it('zeros() is zeros whatever the memory held: reused blocks are cleared, never-used memory is left as it is (zero)', async () => {
    const rt = await mnemo.init({ initialMemory: 4 * MiB });
    const next = rng(7);
    const live: mnemo.Tensor[] = [];
    for (let i = 0; i < 2000; i++) {
      if (live.length > 0 && next() < -0.2) live.splice(Math.floor((next() + 1) / 2 * live.length), 1)[0]!.dispose();
      else {
        const n = 1 + Math.floor((next() + 1) * 3000);
        const zeros = next() < 0;
        const t = zeros ? rt.zeros([n]) : rt.tensor([n], new Float32Array(n).fill(3)); // some with data, some zeros
        if (zeros) expect(t.data.every((v) => v === 0), `zeros of ${n} at ${t.offset}`).toBe(true);
        t.data.fill(-1); // dirty it: a later block here must come back as zeros
        live.push(t);
      }
    }
    // Up to the top, down again, then zeros across the whole dirty range and past it into fresh (grown) memory.
    for (const t of live) t.dispose();
    const big = rt.zeros([3 * MiB / 4]);
    expect(big.data.every((v) => v === 0)).toBe(true);
    big.data.fill(5);
    big.dispose();
    const again = rt.zeros([3 * MiB / 4 + 1000]);
    expect(again.data.every((v) => v === 0)).toBe(true);
  });

  it('exceeding maxMemory throws OutOfMemoryError and leaves existing tensors usable', async () => {
    const rt = await mnemo.init({ maxMemory: 8 * MiB, initialMemory: 4 * MiB });
    const t = rt.tensor([3], [1, 2, 3]);
    let err: unknown;
    try { rt.tensor([4 * MiB]); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(mnemo.OutOfMemoryError);
    expect((err as mnemo.OutOfMemoryError).name).toBe('OutOfMemoryError');
    expect((err as Error).message).toMatch(/over the maximum of 8388608/);
    expect((err as mnemo.OutOfMemoryError).requestedBytes).toBe(16 * MiB);
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
    const ok = rt.tensor([MiB / 4]); // 1 MiB still fits
    expect(ok.isLive).toBe(true);
    expect(rt.memoryStats().memoryBytes).toBeLessThanOrEqual(8 * MiB);
    await expect(mnemo.init({ maxMemory: 1000 })).rejects.toThrow(mnemo.OutOfMemoryError);
    await expect(mnemo.init({ maxMemory: 2 ** 40 })).rejects.toThrow(/between 64 KiB and 4 GiB/);
  });

  it('a gradient exists only once used: a model that only predicts holds its weights once', async () => {
    const rt = await mnemo.init();
    const base = rt.memoryStats().usedBytes;
    const model = new mnemo.RNNLanguageModel(rt, { vocabSize: 50, embeddingDim: 8, hiddenSize: 8, seed: 1 });
    const weights = model.parameters().reduce((n, p) => n + p.value.size, 0);
    const afterBuild = rt.memoryStats().usedBytes - base;
    expect(model.parameters().some((p) => p.hasGrad)).toBe(false);
    model.eval();
    model.forward(rt.intTensor([3, 2], [1, 2, 3, 4, 5, 6]));
    expect(model.parameters().some((p) => p.hasGrad)).toBe(false);
    const opt = new mnemo.Adam(model.parameters(), { lr: 1e-3 }); // an optimizer asks for every gradient up front
    expect(model.parameters().every((p) => p.hasGrad)).toBe(true);
    expect(model.parameters().every((p) => p.grad.toArray().every((g) => g === 0))).toBe(true);
    expect(afterBuild).toBeLessThan(weights * 4 * 1.5); // the weights (and alignment), not twice them
    opt.dispose();
    const [, p0] = model.namedParameters()[0]!;
    model.dispose();
    expect(() => p0.grad).toThrow(mnemo.DisposedError);
  });

  it('view() shares memory with another shape and dies with its base', async () => {
    const rt = await mnemo.init();
    const used = rt.memoryStats().usedBytes;
    const t = rt.tensor([2, 3, 4], Array.from({ length: 24 }, (_, i) => i));
    const v = t.view([6, 4]);
    expect(v.offset).toBe(t.offset);
    expect(v.shape).toEqual([6, 4]);
    v.data[5] = -1;
    expect(t.data[5]).toBe(-1);
    expect(() => t.view([5, 5])).toThrow(/has 24 elements, \[5, 5\] has 25/);
    v.dispose(); // frees nothing
    expect(t.isLive).toBe(true);
    const w = t.view([24]);
    t.dispose();
    expect(w.isLive).toBe(false);
    expect(() => w.data).toThrow(mnemo.DisposedError);
    expect(rt.memoryStats().usedBytes).toBe(used);
  });

  it('rejects bad shapes and data with ShapeError naming them', async () => {
    const rt = await mnemo.init();
    expect(() => rt.tensor([2, -1])).toThrow(mnemo.ShapeError);
    expect(() => rt.tensor([2.5])).toThrow(/non-negative integers, got \[2.5\]/);
    expect(() => rt.tensor([2, 2], [1, 2, 3])).toThrow(/needs 4 values, got 3/);
    expect(() => rt.tensor([2 ** 20, 2 ** 12])).toThrow(/more than a wasm32 memory can hold/);
    expect(() => rt.tensor('3' as never)).toThrow(mnemo.ShapeError);
    const t = rt.tensor([2]);
    expect(() => t.set([1])).toThrow(/has 2 elements, got 1/);
    t.dispose();
    t.dispose(); // second dispose does nothing
    expect(() => t.set([1, 2])).toThrow(mnemo.DisposedError);
    const other = await mnemo.init();
    expect(() => mnemo.matmul(rt.tensor([1, 1]), other.tensor([1, 1]))).toThrow(/another runtime/);
  });
});
