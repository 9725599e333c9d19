// Linear, Embedding, Dropout and CrossEntropyLoss (and their kernels in
// assembly/loss.ts, embed.ts, dropout.ts): forward values against float64
// references, and every backward against central finite differences.
// Both builds, Node and Chromium.
//
// Gradient checks: the loss is a fixed random linear functional of the output,
// L = Σ c·y (for CrossEntropyLoss, the loss itself), evaluated in float64 from
// the f32 forward values. Each input or weight element is moved by ±h (the f32
// values actually reached are used as the step) and the central difference
//   (L(x + h) − L(x − h)) / (2h)
// is compared with the analytic gradient. Tolerance: every element within
// FD_TOL = 1e-3 × the largest |gradient| of the check. Measured (h = 1e-2, both
// builds): worst 2.1e-5 (Linear dx), 6.3e-6 (cross-entropy), 3.9e-6 (Linear dW),
// 2.6e-6 (dropout), 6.3e-8 (embedding): the f32 rounding of the forward values,
// divided by 2h. A missing or wrong term (a dropped one-hot, repeated ids
// overwriting instead of adding, a mask without its 1/(1 − p) scale, one row
// left out of dW or db, W read with the wrong layout) measured ≥ 0.1 of it:
// each check also runs such a wrong gradient and requires it to fail (> 5·FD_TOL).
// Sizes are odd (3, 5, 7, 13, 37) so every SIMD tail runs.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';

const builds = ['simd', 'relaxed'] as const;
const FD_TOL = 1e-3;
const H = 1e-2;

type Rt = Awaited<ReturnType<typeof mnemo.init>>;

/** n seeded uniform values in [-scale, scale) (f32-representable). */
function rand(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed), a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * scale;
  return a;
}

/** Σ c·y in float64. */
function dot(c: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i]! * y[i]!;
  return s;
}

/**
 * Central differences of `loss` with respect to every element of the f32 array
 * `view()` returns (a fresh view each call), skipping `skip(i)`; NaN there.
 */
function finiteDifferences(view: () => Float32Array, loss: () => number, h = H,
                           skip: (i: number) => boolean = () => false): Float64Array {
  const n = view().length, fd = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (skip(i)) { fd[i] = NaN; continue; }
    const orig = view()[i]!;
    view()[i] = orig + h;
    const xp = view()[i]!;
    const lp = loss();
    view()[i] = orig - h;
    const xm = view()[i]!;
    const lm = loss();
    view()[i] = orig;
    fd[i] = (lp - lm) / (xp - xm);
  }
  return fd;
}

/** Largest |fd − analytic| over the checked elements, relative to the largest |analytic|. */
function fdError(fd: Float64Array, analytic: ArrayLike<number>): { rel: number; at: number; maxGrad: number } {
  let maxGrad = 0, worst = 0, at = -1;
  for (let i = 0; i < fd.length; i++) maxGrad = Math.max(maxGrad, Math.abs(analytic[i]!));
  for (let i = 0; i < fd.length; i++) {
    if (Number.isNaN(fd[i]!)) continue;
    const e = Math.abs(fd[i]! - analytic[i]!);
    if (!(e <= worst)) { worst = e; at = i; }
  }
  return { rel: worst / maxGrad, at, maxGrad };
}

/** Asserts the analytic gradient passes and every wrong variant fails the finite-difference check. */
function expectGradient(what: string, fd: Float64Array, analytic: ArrayLike<number>,
                        wrong: Record<string, ArrayLike<number>> = {}): void {
  const { rel, at, maxGrad } = fdError(fd, analytic);
  expect(maxGrad, `${what}: gradient is all zero`).toBeGreaterThan(0);
  expect(rel, `${what}: worst at element ${at}: fd ${fd[at]}, analytic ${analytic[at]}`).toBeLessThanOrEqual(FD_TOL);
  for (const [name, g] of Object.entries(wrong)) {
    expect(fdError(fd, g).rel, `${what}: the check must catch "${name}"`).toBeGreaterThan(5 * FD_TOL);
  }
}

// ---------------------------------------------------------------------------
// float64 references

/** Cross-entropy loss sum, count and dlogits = scale·(softmax − onehot) in float64. */
function xentRef(logits: Float32Array, targets: Int32Array, n: number, v: number, ignore: number, scale: number) {
  let sum = 0, count = 0;
  const grad = new Float64Array(n * v), logp = new Float64Array(n * v);
  for (let r = 0; r < n; r++) {
    let m = -Infinity;
    for (let j = 0; j < v; j++) m = Math.max(m, logits[r * v + j]!);
    let s = 0;
    for (let j = 0; j < v; j++) s += Math.exp(logits[r * v + j]! - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < v; j++) logp[r * v + j] = logits[r * v + j]! - lse;
    const t = targets[r]!;
    if (t === ignore) continue;
    count++;
    sum -= logp[r * v + t]!;
    for (let j = 0; j < v; j++) grad[r * v + j] = scale * (Math.exp(logp[r * v + j]!) - (j === t ? 1 : 0));
  }
  return { sum, count, grad, logp };
}

/** Linear forward in float64: y (rows, out) = x·Wᵀ + b, and the per-element magnitude Σ|x·w| + |b|. */
function linearRef(x: Float32Array, w: Float32Array, b: Float32Array | null, rows: number, inF: number, outF: number) {
  const y = new Float64Array(rows * outF), mag = new Float64Array(rows * outF);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0, a = b ? Math.abs(b[o]!) : 0;
      for (let i = 0; i < inF; i++) { s += x[r * inF + i]! * w[o * inF + i]!; a += Math.abs(x[r * inF + i]! * w[o * inF + i]!); }
      y[r * outF + o] = s; mag[r * outF + o] = a;
    }
  }
  return { y, mag };
}

/** MurmurHash3's finaliser, as in assembly/dropout.ts. */
function fmix(h: number): number {
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The dropout mask of (seed, counter), written out from the formula in assembly/dropout.ts. */
function dropoutMaskRef(n: number, p: number, seed: number, counter: number): Float32Array {
  const s = fmix((seed ^ 0x9e3779b9) >>> 0);
  const k1 = fmix((s ^ counter) >>> 0);
  const k2 = fmix((s + fmix((counter ^ 0x85ebca6b) >>> 0)) >>> 0);
  const pf = Math.fround(p), tf = pf * 4294967296;
  const t = tf <= 0 ? 0 : tf >= 4294967295 ? 4294967295 : Math.floor(tf);
  const scale = pf >= 1 ? 0 : Math.fround(1 / (1 - pf));
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = fmix((fmix((i ^ k1) >>> 0) + k2) >>> 0) >= t ? scale : 0;
  return mask;
}

// ---------------------------------------------------------------------------

describe.each(builds)('layers (%s build)', (build) => {
  const ready = mnemo.init({ build });

  it('loads the requested build', async () => {
    expect((await ready).build).toBe(build);
  });

  describe('CrossEntropyLoss and softmax_xent kernels', () => {
    const cases: [number, number][] = [[13, 37], [7, 3], [5, 5], [3, 7], [3, 1001]];

    it.each(cases)('forward and backward against float64 (N=%i, V=%i), ignore index, mean and sum', async (n, v) => {
      const rt = await ready;
      rt.scope(() => {
        const x = rand(n * v, 11 + v, 4);
        for (const ignoreIndex of [-100, 1]) {
          const tg = Int32Array.from({ length: n }, (_, i) => (i % 3 === 1 ? ignoreIndex : (i * 7 + 3) % v));
          const logits = rt.tensor([n, v], x), targets = rt.intTensor([n], tg);
          for (const reduction of ['mean', 'sum'] as const) {
            const loss = new mnemo.CrossEntropyLoss(rt, { ignoreIndex, reduction });
            const value = loss.forward(logits, targets);
            const ref = xentRef(x, tg, n, v, ignoreIndex, 1);
            const divisor = reduction === 'mean' ? ref.count : 1;
            expect(Math.abs(value - ref.sum / divisor)).toBeLessThanOrEqual(1e-6 * Math.abs(ref.sum / divisor));
            const gradLoss = 0.75;
            const d = loss.backward(gradLoss).toArray();
            let worst = 0;
            for (let i = 0; i < n * v; i++) worst = Math.max(worst, Math.abs(d[i]! - (gradLoss / divisor) * ref.grad[i]!));
            expect(worst).toBeLessThanOrEqual(1e-6 * gradLoss / divisor);
            // Ignored rows are exactly zero.
            for (let r = 0; r < n; r++) if (tg[r] === ignoreIndex) expect(d.subarray(r * v, (r + 1) * v).every((g) => g === 0)).toBe(true);
            loss.dispose();
          }
        }
      });
    });

    it.each(cases.slice(0, 4))('finite differences of the loss (N=%i, V=%i)', async (n, v) => {
      const rt = await ready;
      rt.scope(() => {
        const tg = Int32Array.from({ length: n }, (_, i) => (i === 1 ? -100 : (i * 5 + 2) % v));
        const logits = rt.tensor([n, v], rand(n * v, 5 + n, 3)), targets = rt.intTensor([n], tg);
        for (const reduction of ['mean', 'sum'] as const) {
          const loss = new mnemo.CrossEntropyLoss(rt, { reduction });
          loss.forward(logits, targets);
          const analytic = loss.backward(1).toArray();
          const fd = finiteDifferences(() => logits.data, () => loss.forward(logits, targets));
          // Wrong: the one-hot term dropped on one row.
          const noOnehot = Float32Array.from(analytic);
          noOnehot[tg[0]!] = noOnehot[tg[0]!]! + (reduction === 'mean' ? 1 / (n - 1) : 1);
          expectGradient(`xent ${reduction}`, fd, analytic, { 'no one-hot on row 0': noOnehot });
          loss.dispose();
        }
      });
    });

    it('kernel: scale, in place (dlogits = logits) equal to out of place; large logits stay exact', async () => {
      const rt = await ready;
      rt.scope(() => {
        const n = 13, v = 37, k = rt.kernels;
        const x = rand(n * v, 3, 5);
        const tg = Int32Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 7 : (i * 11) % v));
        const logits = rt.tensor([n, v], x), targets = rt.intTensor([n], tg), stats = rt.tensor([n, 4]);
        const out = rt.tensor([n, v]);
        const sum = k.softmax_xent_forward(logits.offset, targets.offset, n, v, 7, stats.offset);
        const ref = xentRef(x, tg, n, v, 7, -2.5);
        expect(Math.abs(sum - ref.sum)).toBeLessThanOrEqual(1e-6 * ref.sum);
        k.softmax_xent_backward(logits.offset, targets.offset, n, v, 7, stats.offset, -2.5, out.offset);
        k.softmax_xent_backward(logits.offset, targets.offset, n, v, 7, stats.offset, -2.5, logits.offset);
        expect(Array.from(logits.data)).toEqual(Array.from(out.data));
        let worst = 0;
        for (let i = 0; i < n * v; i++) worst = Math.max(worst, Math.abs(out.data[i]! - ref.grad[i]!));
        expect(worst).toBeLessThanOrEqual(2.5e-6);
        // Shifting every logit by 1000 changes nothing in exact arithmetic; the
        // f32 inputs lose bits (ulp(1000) = 6e-5), so compare with the reference of the shifted values.
        const shifted = x.map((a) => a + 1000);
        const big = rt.tensor([n, v], shifted);
        const sumBig = k.softmax_xent_forward(big.offset, targets.offset, n, v, 7, stats.offset);
        const refBig = xentRef(shifted, tg, n, v, 7, 1);
        expect(Math.abs(sumBig - refBig.sum)).toBeLessThanOrEqual(1e-6 * refBig.sum);
        k.softmax_xent_backward(big.offset, targets.offset, n, v, 7, stats.offset, 1, big.offset);
        worst = 0;
        for (let i = 0; i < n * v; i++) worst = Math.max(worst, Math.abs(big.data[i]! - refBig.grad[i]!));
        expect(worst).toBeLessThanOrEqual(1e-6);
      });
    });

    it('every target ignored: mean is NaN (as PyTorch), sum is 0, gradient zero', async () => {
      const rt = await ready;
      rt.scope(() => {
        const logits = rt.tensor([3, 5], rand(15, 1)), targets = rt.intTensor([3], [-100, -100, -100]);
        const mean = new mnemo.CrossEntropyLoss(rt);
        expect(mean.forward(logits, targets)).toBeNaN();
        expect(Array.from(mean.backward().data).every((g) => g === 0)).toBe(true);
        expect(new mnemo.CrossEntropyLoss(rt, { reduction: 'sum' }).forward(logits, targets)).toBe(0);
      });
    });

    it('a NaN logit anywhere in a row makes the loss NaN (never hidden by the row max)', async () => {
      const rt = await ready;
      rt.scope(() => {
        const v = 37;
        for (const at of [0, 1, 5, 8, 33, 36]) { // vector body lanes, second vector of a pair, tail
          const x = rand(2 * v, at + 1);
          x[v + at] = NaN;
          const loss = new mnemo.CrossEntropyLoss(rt).forward(rt.tensor([2, v], x), rt.intTensor([2], [3, 4]));
          expect(loss, `NaN at column ${at}`).toBeNaN();
        }
      });
    });

    it('backward in place writes over the logits and returns them', async () => {
      const rt = await ready;
      rt.scope(() => {
        const x = rand(5 * 7, 9, 2), tg = Int32Array.from([0, 6, 3, -100, 2]);
        const logits = rt.tensor([5, 7], x), targets = rt.intTensor([5], tg);
        const loss = new mnemo.CrossEntropyLoss(rt);
        loss.forward(logits, targets);
        const copy = loss.backward().toArray();
        loss.forward(logits, targets);
        const d = loss.backward(1, { inPlace: true });
        expect(d).toBe(logits);
        expect(Array.from(d.data)).toEqual(Array.from(copy));
        expect(() => loss.backward()).toThrow(/needs a preceding forward/);
      });
    });

    it('logSoftmax (log_softmax_rows) against float64, into a new tensor and in place', async () => {
      const rt = await ready;
      rt.scope(() => {
        for (const [n, v] of [[13, 37], [3, 1], [5, 3], [2, 1001]] as const) {
          const x = rand(n * v, n + v, 6);
          const ref = xentRef(x, new Int32Array(n).fill(-1), n, v, -1, 1).logp;
          const t = rt.tensor([n, v], x);
          const y = mnemo.logSoftmax(t).toArray();
          mnemo.logSoftmax(t, t);
          let worst = 0;
          for (let i = 0; i < n * v; i++) worst = Math.max(worst, Math.abs(y[i]! - ref[i]!) / Math.max(1, Math.abs(ref[i]!)));
          expect(worst).toBeLessThanOrEqual(5e-7);
          expect(Array.from(t.data)).toEqual(Array.from(y));
        }
      });
    });

    it('rejects bad shapes, dtypes and targets with clear errors', async () => {
      const rt = await ready;
      rt.scope(() => {
        const loss = new mnemo.CrossEntropyLoss(rt);
        const logits = rt.tensor([3, 5]);
        expect(() => loss.forward(logits, rt.intTensor([3], [0, 5, 1]))).toThrow(mnemo.ShapeError);
        expect(() => loss.forward(logits, rt.intTensor([3], [0, 5, 1]))).toThrow(/target 5 at index 1 is out of range \[0, 5\)/);
        expect(() => loss.forward(logits, rt.intTensor([3], [0, -1, 1]))).toThrow(/target -1 at index 1/);
        expect(() => loss.forward(logits, rt.intTensor([4]))).toThrow(/targets must have shape \[3\] for logits \[3, 5\], got \[4\]/);
        expect(() => loss.forward(rt.tensor([3, 5, 2]), rt.intTensor([3]))).toThrow(/must be 2-D \(N, V\), got \[3, 5, 2\]/);
        expect(() => loss.forward(logits, rt.tensor([3]) as never)).toThrow(/must be a int32 tensor/);
        expect(() => new mnemo.CrossEntropyLoss(rt).backward()).toThrow(mnemo.MnemoError);
        expect(() => new mnemo.CrossEntropyLoss(rt, { reduction: 'none' as never })).toThrow(/reduction/);
      });
    });
  });

  describe('Linear', () => {
    const shapes: { lead: number[]; inF: number; outF: number; bias: boolean }[] = [
      { lead: [3, 5], inF: 13, outF: 7, bias: true },
      { lead: [7], inF: 37, outF: 5, bias: true },
      { lead: [1], inF: 13, outF: 37, bias: true }, // M = 1: the gemv path
      { lead: [], inF: 5, outF: 3, bias: false }, // 1-D input
      { lead: [5], inF: 3, outF: 1, bias: true },
    ];

    it.each(shapes)('forward against float64: %o', async ({ lead, inF, outF, bias }) => {
      const rt = await ready;
      rt.scope(() => {
        const rows = lead.reduce((a, b) => a * b, 1);
        const lin = new mnemo.Linear(rt, { inFeatures: inF, outFeatures: outF, bias, seed: 3 });
        const xv = rand(rows * inF, 17);
        const y = lin.forward(rt.tensor([...lead, inF], xv));
        expect(y.shape).toEqual([...lead, outF]);
        const ref = linearRef(xv, lin.weight.value.toArray(), lin.bias?.value.toArray() ?? null, rows, inF, outF);
        const tol = Math.max(8 * Math.sqrt(inF), 16) * 2 ** -24;
        const yd = y.data;
        for (let i = 0; i < rows * outF; i++) expect(Math.abs(yd[i]! - ref.y[i]!)).toBeLessThanOrEqual(tol * ref.mag[i]!);
        lin.dispose();
      });
    });

    it.each(shapes)('finite differences of input, weight and bias: %o', async ({ lead, inF, outF, bias }) => {
      const rt = await ready;
      rt.scope(() => {
        const rows = lead.reduce((a, b) => a * b, 1);
        const lin = new mnemo.Linear(rt, { inFeatures: inF, outFeatures: outF, bias, seed: 5 });
        const x = rt.tensor([...lead, inF], rand(rows * inF, 23));
        const c = rand(rows * outF, 29);
        const gradOut = rt.tensor([...lead, outF], c);
        const L = () => dot(c, lin.forward(x).data);
        lin.forward(x);
        const dx = lin.backward(gradOut).toArray();
        const dW = lin.weight.grad.toArray(), db = lin.bias?.grad.toArray();
        // Wrong variants: dx with Wᵀ's rows misaligned (W read as (in, out)), dW missing the last row of x.
        const dxWrong = new Float32Array(dx.length);
        const w = lin.weight.value.toArray();
        for (let r = 0; r < rows; r++) for (let i = 0; i < inF; i++) {
          let s = 0;
          for (let o = 0; o < outF; o++) s += c[r * outF + o]! * w[(i * outF + o) % w.length]!;
          dxWrong[r * inF + i] = s;
        }
        const xv = x.toArray();
        const dWWrong = Float32Array.from(dW);
        for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) dWWrong[o * inF + i] = dWWrong[o * inF + i]! - c[(rows - 1) * outF + o]! * xv[(rows - 1) * inF + i]!;
        expectGradient('Linear dx', finiteDifferences(() => x.data, L), dx,
          outF > 1 && inF !== outF ? { 'W read as (in, out)': dxWrong } : {});
        expectGradient('Linear dW', finiteDifferences(() => lin.weight.value.data, L), dW,
          rows > 1 ? { 'last row of x left out': dWWrong } : {});
        if (db) {
          const dbWrong = Float32Array.from(db).map((g, o) => g - c[(rows - 1) * outF + o]!);
          expectGradient('Linear db', finiteDifferences(() => lin.bias!.value.data, L), db,
            rows > 1 ? { 'last row left out': dbWrong } : {});
        }
        lin.dispose();
      });
    });

    it('backward accumulates parameter gradients (beta = 1); zeroGrad clears them', async () => {
      const rt = await ready;
      rt.scope(() => {
        const lin = new mnemo.Linear(rt, { inFeatures: 13, outFeatures: 7, seed: 1 });
        const x = rt.tensor([5, 13], rand(65, 2)), g = rt.tensor([5, 7], rand(35, 3));
        lin.forward(x);
        lin.backward(g);
        const once = lin.weight.grad.toArray(), bOnce = lin.bias!.grad.toArray();
        lin.backward(g);
        const twice = lin.weight.grad.toArray(), bTwice = lin.bias!.grad.toArray();
        for (let i = 0; i < once.length; i++) expect(twice[i]).toBeCloseTo(2 * once[i]!, 5);
        for (let i = 0; i < bOnce.length; i++) expect(bTwice[i]).toBeCloseTo(2 * bOnce[i]!, 5);
        lin.zeroGrad();
        expect(lin.weight.grad.data.every((v) => v === 0)).toBe(true);
        expect(lin.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
      });
    });

    it('PyTorch initialisation U(±1/√in), seeded and reproducible', async () => {
      const rt = await ready;
      rt.scope(() => {
        const a = new mnemo.Linear(rt, { inFeatures: 64, outFeatures: 100, seed: 42 });
        const b = new mnemo.Linear(rt, { inFeatures: 64, outFeatures: 100, seed: 42 });
        const c = new mnemo.Linear(rt, { inFeatures: 64, outFeatures: 100 });
        const d = new mnemo.Linear(rt, { inFeatures: 64, outFeatures: 100 });
        const w = a.weight.value.toArray(), bound = 1 / 8;
        expect(w.every((v) => Math.abs(v) <= bound)).toBe(true);
        expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.99 * bound);
        const mean = w.reduce((s, v) => s + v, 0) / w.length;
        expect(Math.abs(mean)).toBeLessThan(0.01);
        expect(a.bias!.value.toArray().every((v) => Math.abs(v) <= bound)).toBe(true);
        expect(Array.from(b.weight.value.data)).toEqual(Array.from(w));
        expect(Array.from(c.weight.value.data)).not.toEqual(Array.from(d.weight.value.data));
        expect(new mnemo.Linear(rt, { inFeatures: 3, outFeatures: 2, bias: false }).namedParameters().map(([n]) => n)).toEqual(['weight']);
      });
    });

    it('rejects bad shapes with ShapeError naming the sizes; backward needs forward', async () => {
      const rt = await ready;
      rt.scope(() => {
        const lin = new mnemo.Linear(rt, { inFeatures: 13, outFeatures: 7 });
        expect(() => lin.forward(rt.tensor([3, 12]))).toThrow(mnemo.ShapeError);
        expect(() => lin.forward(rt.tensor([3, 12]))).toThrow(/input must have shape \[\.\.\., 13\] \(inFeatures = 13\), got \[3, 12\]/);
        expect(() => lin.forward(rt.intTensor([3, 13]) as never)).toThrow(/must be a float32 tensor/);
        expect(() => lin.backward(rt.tensor([3, 7]))).toThrow(/needs a preceding forward/);
        lin.forward(rt.tensor([3, 13]));
        expect(() => lin.backward(rt.tensor([3, 6]))).toThrow(/gradOut must have shape \[3, 7\], got \[3, 6\]/);
        expect(() => new mnemo.Linear(rt, { inFeatures: 2.5, outFeatures: 3 })).toThrow(/inFeatures must be an integer/);
      });
    });
  });

  describe('Embedding', () => {
    it('forward gathers rows exactly; padding row initialised to zero; N(0, 1) init', async () => {
      const rt = await ready;
      rt.scope(() => {
        const emb = new mnemo.Embedding(rt, { numEmbeddings: 7, embeddingDim: 13, paddingIdx: 2, seed: 4 });
        const w = emb.weight.value.toArray();
        expect(w.subarray(26, 39).every((v) => v === 0)).toBe(true);
        const ids = [[3, 3, 2, 6, 0], [1, 3, 5, 2, 4], [6, 6, 6, 0, 3]];
        const out = emb.forward(rt.intTensor([3, 5], ids.flat()));
        expect(out.shape).toEqual([3, 5, 13]);
        const o = out.toArray();
        ids.flat().forEach((id, i) => expect(Array.from(o.subarray(i * 13, i * 13 + 13))).toEqual(Array.from(w.subarray(id * 13, id * 13 + 13))));
        // Negative paddingIdx counts from the end, as PyTorch.
        expect(new mnemo.Embedding(rt, { numEmbeddings: 7, embeddingDim: 3, paddingIdx: -1 }).paddingIdx).toBe(6);
        // Initialisation: N(0, 1).
        const big = new mnemo.Embedding(rt, { numEmbeddings: 1000, embeddingDim: 101, seed: 9 }).weight.value.toArray();
        const mean = big.reduce((s, v) => s + v, 0) / big.length;
        const sd = Math.sqrt(big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length);
        expect(Math.abs(mean)).toBeLessThan(0.01);
        expect(Math.abs(sd - 1)).toBeLessThan(0.01);
        const within1 = big.filter((v) => Math.abs(v) < 1).length / big.length;
        expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.01);
      });
    });

    it('backward: repeated ids accumulate, padding row skipped (float64 reference and finite differences)', async () => {
      const rt = await ready;
      rt.scope(() => {
        for (const [num, dim, pad] of [[7, 13, 2], [5, 3, null], [37, 5, 0], [13, 37, 12]] as const) {
          const emb = new mnemo.Embedding(rt, { numEmbeddings: num, embeddingDim: dim, paddingIdx: pad, seed: 8 });
          const idv = Int32Array.from({ length: 15 }, (_, i) => (i * i + 3 * i) % Math.min(num, 5)); // repeats
          idv[4] = num - 1; idv[9] = pad ?? 1; idv[10] = pad ?? 1;
          const ids = rt.intTensor([5, 3], idv);
          const c = rand(15 * dim, 31 + dim);
          const gradOut = rt.tensor([5, 3, dim], c);
          emb.forward(ids);
          emb.backward(gradOut);
          const g = emb.weight.grad.toArray();
          const ref = new Float64Array(num * dim);
          idv.forEach((id, i) => { if (id !== pad) for (let j = 0; j < dim; j++) ref[id * dim + j] = ref[id * dim + j]! + c[i * dim + j]!; });
          for (let i = 0; i < g.length; i++) expect(Math.abs(g[i]! - ref[i]!)).toBeLessThanOrEqual(1e-6);
          if (pad !== null) expect(g.subarray(pad * dim, (pad + 1) * dim).every((v) => v === 0)).toBe(true);
          // Finite differences over every non-padding row (the padding row is used by forward but gets no gradient).
          const fd = finiteDifferences(() => emb.weight.value.data, () => dot(c, emb.forward(ids).data), H,
            (i) => pad !== null && Math.floor(i / dim) === pad);
          // Wrong: a repeated id counted once (the last occurrence overwrites instead of adding).
          const once = new Float64Array(num * dim);
          idv.forEach((id, i) => { if (id !== pad) for (let j = 0; j < dim; j++) once[id * dim + j] = c[i * dim + j]!; });
          expectGradient(`Embedding ${num}x${dim}`, fd, g, { 'repeats overwrite': once });
          emb.dispose();
        }
      });
    });

    it('rejects ids out of range and float ids with clear errors', async () => {
      const rt = await ready;
      rt.scope(() => {
        const emb = new mnemo.Embedding(rt, { numEmbeddings: 7, embeddingDim: 3 });
        expect(() => emb.forward(rt.intTensor([4], [1, 2, 7, 0]))).toThrow(mnemo.ShapeError);
        expect(() => emb.forward(rt.intTensor([4], [1, 2, 7, 0]))).toThrow(/token id 7 at index 2 is out of range \[0, 7\)/);
        expect(() => emb.forward(rt.intTensor([2], [-1, 0]))).toThrow(/token id -1 at index 0/);
        expect(() => emb.forward(rt.tensor([2]) as never)).toThrow(/must be a int32 tensor/);
        expect(() => emb.backward(rt.tensor([2, 3]))).toThrow(/needs a preceding forward/);
        emb.forward(rt.intTensor([2, 2], [1, 2, 3, 4]));
        expect(() => emb.backward(rt.tensor([4, 3]))).toThrow(/gradOut must have shape \[2, 2, 3\], got \[4, 3\]/);
        expect(() => new mnemo.Embedding(rt, { numEmbeddings: 7, embeddingDim: 3, paddingIdx: 7 })).toThrow(/paddingIdx/);
      });
    });
  });

  describe('Dropout', () => {
    it('mask: the documented counter-based hash, scale 1/(1 − p), x and y may alias; same seed and counter → same mask', async () => {
      const rt = await ready;
      rt.scope(() => {
        const k = rt.kernels;
        for (const [n, p, seed, counter] of [[37, 0.3, 1, 0], [13, 0.5, 0xdeadbeef, 7], [1003, 0.1, 12345, 0xffffffff], [5, 1, 3, 3], [7, 0, 3, 3]] as const) {
          const xv = rand(n, n, 2);
          const x = rt.tensor([n], xv), y = rt.tensor([n]), mask = rt.tensor([n]);
          k.dropout_forward(x.offset, y.offset, mask.offset, n, p, seed, counter);
          const ref = dropoutMaskRef(n, p, seed, counter);
          expect(Array.from(mask.data)).toEqual(Array.from(ref));
          expect(Array.from(y.data)).toEqual(Array.from(xv).map((v, i) => Math.fround(v * ref[i]!)));
          k.dropout_forward(x.offset, x.offset, mask.offset, n, p, seed, counter); // in place
          expect(Array.from(x.data)).toEqual(Array.from(y.data));
        }
      });
    });

    it('fraction of zeros ≈ p for large n (overall and per SIMD lane); masks of different counters independent', async () => {
      const rt = await ready;
      rt.scope(() => {
        const n = (1 << 20) + 3, p = 0.3;
        const drop = new mnemo.Dropout(rt, { p, seed: 77 });
        const x = rt.tensor([n], new Float32Array(n).fill(1));
        const first = drop.forward(x).toArray();
        const second = drop.forward(x).toArray();
        const sigma = Math.sqrt((p * (1 - p)) / n);
        let zeros = 0, both = 0;
        const lane = [0, 0, 0, 0];
        for (let i = 0; i < n; i++) {
          if (first[i] === 0) { zeros++; lane[i % 4]!++; if (second[i] === 0) both++; }
        }
        expect(Math.abs(zeros / n - p)).toBeLessThan(5 * sigma);
        for (const z of lane) expect(Math.abs(z / (n / 4) - p)).toBeLessThan(10 * sigma);
        expect(Math.abs(both / n - p * p)).toBeLessThan(5 * Math.sqrt((p * p * (1 - p * p)) / n));
        // Kept elements are scaled by exactly fround(1/(1 − p)).
        expect(first.find((v) => v !== 0)).toBe(Math.fround(1 / (1 - p)));
        expect(first.every((v) => v === 0 || v === Math.fround(1 / (1 - p)))).toBe(true);
        // The same seed and counter replay the same mask, whatever ran in between.
        const other = new mnemo.Dropout(rt, { p, seed: 77 });
        other.counter = 1;
        expect(Array.from(other.forward(x).data.subarray(0, 4096))).toEqual(Array.from(second.subarray(0, 4096)));
        drop.counter = 0;
        expect(Array.from(drop.forward(x).data.subarray(0, 4096))).toEqual(Array.from(first.subarray(0, 4096)));
      });
    });

    it('eval mode and p = 0 are the identity (x itself); p = 1 zeroes everything', async () => {
      const rt = await ready;
      rt.scope(() => {
        const x = rt.tensor([3, 5], rand(15, 3)), g = rt.tensor([3, 5], rand(15, 4));
        const drop = new mnemo.Dropout(rt, { p: 0.4, seed: 1 });
        drop.eval();
        expect(drop.forward(x)).toBe(x);
        expect(drop.backward(g)).toBe(g);
        expect(drop.counter).toBe(0);
        drop.train();
        expect(drop.forward(x)).not.toBe(x);
        expect(drop.counter).toBe(1);
        const zero = new mnemo.Dropout(rt, { p: 0 });
        expect(zero.forward(x)).toBe(x);
        const all = new mnemo.Dropout(rt, { p: 1, seed: 2 });
        expect(all.forward(x).toArray().every((v) => v === 0)).toBe(true);
        expect(all.backward(g).toArray().every((v) => v === 0)).toBe(true);
        expect(() => new mnemo.Dropout(rt, { p: 1.5 })).toThrow(/between 0 and 1/);
        expect(() => new mnemo.Dropout(rt).backward(g)).toThrow(/needs a preceding forward/);
        expect(() => drop.backward(rt.tensor([15]))).toThrow(/gradOut must have shape \[3, 5\], got \[15\]/);
      });
    });

    it.each([[37, 0.3], [13, 0.5], [7, 0.2]] as const)('finite differences of the input (n = %i, p = %f)', async (n, p) => {
      const rt = await ready;
      rt.scope(() => {
        const drop = new mnemo.Dropout(rt, { p, seed: 11 });
        const x = rt.tensor([n], rand(n, 6)), c = rand(n, 7), g = rt.tensor([n], c);
        const L = () => { drop.counter = 5; return dot(c, drop.forward(x).data); };
        L();
        const dx = drop.backward(g).toArray();
        const mask = dropoutMaskRef(n, p, 11, 5);
        expect(mask.some((m) => m === 0) && mask.some((m) => m !== 0)).toBe(true);
        // Wrong: the mask without its 1/(1 − p) scale.
        const unscaled = Float32Array.from(c, (ci, i) => (mask[i] ? ci : 0));
        expectGradient(`Dropout n=${n}`, finiteDifferences(() => x.data, L), dx, { 'unscaled mask': unscaled });
      });
    });
  });
});
