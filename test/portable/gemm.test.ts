// GEMM against a float64 reference, every layout, both builds. Runs in Node and
// in headless Chromium (vitest projects 'node' and 'chromium').
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import {
  caseName, gemmCases, PREPACKED_CASES, runGemmCase, runPrepackedCase, runStrideCase, STRIDE_CASES,
} from './gemm-checks.js';

const builds = ['simd', 'relaxed'] as const;

describe.each(builds)('gemm (%s build)', (build) => {
  const ready = mnemo.init({ build });
  const cases = gemmCases();
  // One test per group of cases, so the report stays readable.
  const groups = new Map<string, typeof cases>();
  for (const c of cases) {
    const key = `${c.layout} ${c.m === 1 ? 'M=1' : c.m <= 9 && c.n <= 17 && c.k < 20 ? 'tails' : 'shapes'}${c.alpha !== 1 || c.beta !== 0 || c.nanC ? ' alpha/beta' : ''}`;
    groups.set(key, [...(groups.get(key) ?? []), c]);
  }

  it('loads the requested build', async () => {
    const rt = await ready;
    expect(rt.build).toBe(build);
  });

  for (const [key, group] of groups) {
    it(`${key} (${group.length} cases)`, async () => {
      const rt = await ready;
      const failures = group.map((c) => ({ c, r: runGemmCase(mnemo, rt, c) })).filter(({ r }) => !r.ok)
        .map(({ c, r }) => `${caseName(c)}: error ${r.worst.toFixed(2)}x the allowance, ${r.detail}`);
      expect(failures).toEqual([]);
    });
  }

  it('scalar reference twin and strided operands (padding untouched)', async () => {
    const rt = await ready;
    const failures = STRIDE_CASES.map((s) => ({ s, r: runStrideCase(rt, s.layout, s.m, s.n, s.k) }))
      .filter(({ r }) => !r.ok).map(({ s, r }) => `${s.layout} ${s.m}x${s.n}x${s.k}: ${r.detail}`);
    expect(failures).toEqual([]);
  });

  it('B packed once, reused (gemm_pack_b + gemm_prepacked)', async () => {
    const rt = await ready;
    const failures = PREPACKED_CASES.map((s) => ({ s, r: runPrepackedCase(rt, s.layout, s.m, s.n, s.k) }))
      .filter(({ r }) => !r.ok).map(({ s, r }) => `${s.layout} ${s.m}x${s.n}x${s.k}: ${r.detail}`);
    expect(failures).toEqual([]);
  });

  it('rejects bad shapes with ShapeError naming the sizes', async () => {
    const rt = await ready;
    const a = rt.tensor([3, 4]), b = rt.tensor([5, 6]), c = rt.tensor([3, 6]);
    expect(() => mnemo.gemm(a, b, c)).toThrow(mnemo.ShapeError);
    expect(() => mnemo.gemm(a, b, c)).toThrow(/inner sizes differ: op\(A\) is \[3, 4\], op\(B\) is \[5, 6\]/);
    const b2 = rt.tensor([4, 6]), c2 = rt.tensor([6, 3]);
    expect(() => mnemo.gemm(a, b2, c2)).toThrow(/C must be \[3, 6\]/);
    expect(() => mnemo.matmul(rt.tensor([2, 3, 4]), b2)).toThrow(/must be 2-D/);
    expect(() => mnemo.gemm(a, b2, a as never)).toThrow(mnemo.ShapeError);
    expect(() => mnemo.gemm(a, b2, c, { alpha: NaN })).toThrow(/alpha and beta must be finite/);
    const big = rt.tensor([3, 6]);
    expect(() => mnemo.gemm(big, rt.tensor([6, 6]), big)).toThrow(/must not overlap/);
  });

  it('matmul returns a new tensor equal to gemm', async () => {
    const rt = await ready;
    const a = rt.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
    const b = rt.tensor([3, 2], [7, 8, 9, 10, 11, 12]);
    expect(Array.from(mnemo.matmul(a, b).toArray())).toEqual([58, 64, 139, 154]);
    expect(Array.from(mnemo.matmul(a, b, { transA: true, transB: true }).toArray())).toEqual([39, 49, 59, 54, 68, 82, 69, 87, 105]);
  });
});
