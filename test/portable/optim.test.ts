// Optimizers, gradient clipping and learning-rate schedules, both builds.
// Runs in Node and in headless Chromium.
//
// Each optimizer runs several steps over parameters of odd sizes (1, 3, 5, 37,
// 7×143 = 1001: SIMD tails and multiple parameters) against two references of
// PyTorch 1.13's single-tensor algorithm written here in JS:
//   - float64 (no rounding): the algorithm itself. Tolerance: every value
//     (parameters and state buffers) within 1e-6·(|ref| + max|ref| of its buffer).
//   - float32, PyTorch's operation order, every op rounded with Math.fround and
//     multiply-adds fused as PyTorch's AVX2 CPU kernels fuse them: the kernels
//     must match it bit for bit (the plain build always; the relaxed build when
//     relaxed_madd fuses, which a probe checks). This emulation was checked to
//     reproduce Debian's python3-torch 1.13 bit for bit (see assembly/optim.ts).
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { rng } from './gemm-checks.js';

const builds = ['simd', 'relaxed'] as const;
const SHAPES: number[][] = [[1], [3], [5], [37], [7, 143]];
const f32 = Math.fround;
const id = (x: number): number => x;

type Kind = 'SGD' | 'Adam' | 'AdamW';
interface Config { kind: Kind; options: Record<string, unknown>; lrs: number[] }

// Learning rate per step; the last SGD and Adam configs change it between steps (as a schedule does).
const CONFIGS: Config[] = [
  { kind: 'SGD', options: { lr: 0.1 }, lrs: [0.1, 0.1, 0.1, 0.1, 0.1] },
  { kind: 'SGD', options: { lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }, lrs: [0.1, 0.1, 0.1, 0.1, 0.1] },
  { kind: 'SGD', options: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 }, lrs: [0.05, 0.05, 0.025, 0.0125, 0.0125] },
  { kind: 'Adam', options: {}, lrs: [1e-3, 1e-3, 1e-3, 1e-3, 1e-3] },
  { kind: 'Adam', options: { lr: 3e-3, betas: [0.8, 0.95], eps: 1e-6, weightDecay: 0.1 }, lrs: [3e-3, 3e-3, 1e-3, 1e-3, 5e-4] },
  { kind: 'AdamW', options: { lr: 1e-2 }, lrs: [1e-2, 1e-2, 1e-2, 1e-2, 1e-2] },
  { kind: 'AdamW', options: { lr: 3e-3, betas: [0.85, 0.99], eps: 1e-7, weightDecay: 0.3 }, lrs: [3e-3, 3e-3, 3e-3, 3e-3, 3e-3] },
];

// ---------------------------------------------------------------------------
// References: one code path, `R` rounds (fround for the f32 emulation, identity for f64).

interface RefParam { p: Float64Array; buf: Float64Array | null; m: Float64Array; v: Float64Array }

function sgdRef(ps: RefParam[], grads: Float64Array[], o: Record<string, unknown>, lr: number, R: (x: number) => number): void {
  const fma = (a: number, b: number, c: number): number => R(a * b + c);
  const momentum = (o.momentum as number) ?? 0, dampening = (o.dampening as number) ?? 0;
  const weightDecay = (o.weightDecay as number) ?? 0, nesterov = (o.nesterov as boolean) ?? false;
  const negLr = R(-lr), mom = R(momentum), damp1 = R(1 - dampening), wd = R(weightDecay);
  ps.forEach((s, j) => {
    const g = grads[j]!;
    const first = momentum !== 0 && s.buf === null;
    if (first) s.buf = new Float64Array(s.p.length);
    for (let i = 0; i < s.p.length; i++) {
      let d = g[i]!;
      if (weightDecay !== 0) d = fma(s.p[i]!, wd, d);
      if (momentum !== 0) {
        const b = first ? d : fma(d, damp1, R(s.buf![i]! * mom));
        s.buf![i] = b;
        d = nesterov ? fma(b, mom, d) : b;
      }
      s.p[i] = fma(d, negLr, s.p[i]!);
    }
  });
}

function adamRef(ps: RefParam[], grads: Float64Array[], o: Record<string, unknown>, lr: number, step: number,
  decoupled: boolean, R: (x: number) => number): void {
  const fma = (a: number, b: number, c: number): number => R(a * b + c);
  const [beta1, beta2] = (o.betas as number[]) ?? [0.9, 0.999];
  const eps = (o.eps as number) ?? 1e-8, weightDecay = (o.weightDecay as number) ?? (decoupled ? 1e-2 : 0);
  const bc1 = 1 - beta1! ** step, bc2 = 1 - beta2! ** step;
  const stepSize = R(lr / bc1), bc2Sqrt = R(Math.sqrt(bc2));
  const b1 = R(beta1!), b2 = R(beta2!), omb1 = R(1 - beta1!), omb2 = R(1 - beta2!);
  const wd = R(weightDecay), decay = R(1 - lr * weightDecay), epsR = R(eps);
  ps.forEach((s, j) => {
    const g = grads[j]!;
    for (let i = 0; i < s.p.length; i++) {
      let p = s.p[i]!, gi = g[i]!;
      if (decoupled) p = R(p * decay);
      else if (weightDecay !== 0) gi = fma(p, wd, gi);
      const m = fma(gi, omb1, R(s.m[i]! * b1));
      const v = fma(R(omb2 * gi), gi, R(s.v[i]! * b2));
      s.m[i] = m;
      s.v[i] = v;
      const denom = R(R(R(Math.sqrt(v)) / bc2Sqrt) + epsR);
      s.p[i] = R(p - R(R(stepSize * m) / denom));
    }
  });
}

function makeOptimizer(kind: Kind, params: mnemo.Parameter[], options: Record<string, unknown>): mnemo.Optimizer {
  if (kind === 'SGD') return new mnemo.SGD(params, options as unknown as mnemo.SGDOptions);
  return kind === 'Adam' ? new mnemo.Adam(params, options) : new mnemo.AdamW(params, options);
}

/** Worst |x − ref| / (|ref| + max|ref|) over a buffer. */
function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]!));
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i]! - ref[i]!) / (Math.abs(ref[i]!) + scale || 1);
    worst = Math.max(worst, Number.isNaN(e) ? Infinity : e);
  }
  return worst;
}

/** Indices where two float32 buffers differ in bits (NaN-safe). */
function bitDiffs(got: Float32Array, ref: ArrayLike<number>): number {
  const want = Float32Array.from(ref);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length), b = new Uint32Array(want.buffer);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

/** True when the build's multiply-add in sgd_update fuses (one rounding): p = fma(g, −lr, p) on a full vector. */
function fusesMultiplyAdd(rt: mnemo.Runtime): boolean {
  const e = 2 ** -12;
  const p = rt.tensor([4], [-1, -1, -1, -1]), g = rt.tensor([4], [1 + e, 1 + e, 1 + e, 1 + e]);
  rt.kernels.sgd_update(p.offset, g.offset, 0, 4, -(1 + e), 0, 0, 0, 0, 0); // p − lr·g with lr = −(1 + 2^-12)
  // (1 + 2^-12)² − 1 = 2^-11 + 2^-24 exactly when fused; 2^-11 when the product is rounded first.
  const fused = p.data[0] === 2 ** -11 + 2 ** -24;
  p.dispose();
  g.dispose();
  return fused;
}

/** Runs a config in the runtime and in both references; returns the worst f64 error and the f32 bit differences. */
function runConfig(rt: mnemo.Runtime, c: Config, seed: number) {
  const next = rng(seed);
  const init = SHAPES.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => next()));
  const params = init.map((v, j) => new mnemo.Parameter(rt.tensor(SHAPES[j]!, v)));
  const opt = makeOptimizer(c.kind, params, c.options);
  const refs = { f64: init.map(newRef), f32: init.map(newRef) };
  let gradsUntouched = true;
  c.lrs.forEach((lr, s) => {
    const grads = init.map((v) => Float32Array.from(v, () => f32(0.5 * next())));
    params.forEach((p, j) => p.grad.set(grads[j]!));
    opt.lr = lr;
    opt.step();
    params.forEach((p, j) => { if (bitDiffs(p.grad.data, grads[j]!) !== 0) gradsUntouched = false; });
    const g64 = grads.map((g) => Float64Array.from(g));
    for (const [mode, R] of [['f64', id], ['f32', f32]] as const) {
      if (c.kind === 'SGD') sgdRef(refs[mode], g64, c.options, lr, R);
      else adamRef(refs[mode], g64, c.options, lr, s + 1, c.kind === 'AdamW', R);
    }
  });
  const sd = opt.stateDict();
  let worst = 0, bits = 0;
  params.forEach((p, j) => {
    const got = p.value.toArray();
    const st = sd.state[j]!;
    const pairs: [Float32Array, keyof RefParam][] = [[got, 'p']];
    if (c.kind === 'SGD' && st.momentum_buffer) pairs.push([st.momentum_buffer, 'buf']);
    if (c.kind !== 'SGD') pairs.push([st.exp_avg!, 'm'], [st.exp_avg_sq!, 'v']);
    for (const [buf, key] of pairs) {
      worst = Math.max(worst, relError(buf, refs.f64[j]![key] as Float64Array));
      bits += bitDiffs(buf, refs.f32[j]![key] as Float64Array);
    }
  });
  opt.dispose();
  params.forEach((p) => p.dispose());
  return { worst, bits, gradsUntouched, steps: sd.step };
}

function newRef(v: Float32Array): RefParam {
  return { p: Float64Array.from(v), buf: null, m: new Float64Array(v.length), v: new Float64Array(v.length) };
}

function configName(c: Config): string {
  return `${c.kind} ${JSON.stringify(c.options)}`;
}

describe.each(builds)('optimizers (%s build)', (build) => {
  const ready = mnemo.init({ build });

  it('loads the requested build; the plain build always fuses multiply-adds (through f64)', async () => {
    const rt = await ready;
    expect(rt.build).toBe(build);
    if (build === 'simd') expect(fusesMultiplyAdd(rt)).toBe(true);
  });

  for (const [ci, c] of CONFIGS.entries()) {
    it(`${configName(c)}: ${c.lrs.length} steps match PyTorch's algorithm (f64 within 1e-6, f32 emulation bit for bit)`, async () => {
      const rt = await ready;
      const r = runConfig(rt, c, 100 + ci);
      expect(r.steps).toBe(c.lrs.length);
      expect(r.gradsUntouched).toBe(true);
      expect(r.worst).toBeLessThan(1e-6);
      if (build === 'simd' || fusesMultiplyAdd(rt)) expect(r.bits).toBe(0);
    });
  }

  it('SGD without momentum keeps no state; Adam allocates its state on the first step', async () => {
    const rt = await ready;
    const p = new mnemo.Parameter(rt.tensor([5], [1, 2, 3, 4, 5]));
    const sgd = new mnemo.SGD([p], { lr: 0.5 });
    p.grad.set([1, 1, 1, 1, 1]);
    sgd.step();
    expect(Array.from(p.value.data)).toEqual([0.5, 1.5, 2.5, 3.5, 4.5]);
    expect(sgd.stateDict().state).toEqual([{}]);
    const adam = new mnemo.Adam([p]);
    expect(adam.stateDict().state).toEqual([{}]);
    const before = rt.memoryStats();
    adam.step();
    expect(Object.keys(adam.stateDict().state[0]!)).toEqual(['exp_avg', 'exp_avg_sq']);
    expect(rt.memoryStats().liveBlocks).toBe(before.liveBlocks + 2);
    adam.dispose();
    expect(rt.memoryStats().usedBytes).toBe(before.usedBytes);
    expect(() => adam.step()).toThrow(mnemo.DisposedError);
    p.dispose();
  });

  it('state created by a first step inside runtime.scope() survives the scope', async () => {
    const rt = await ready;
    const init = Array.from({ length: 37 }, (_, i) => f32(i / 37));
    const p = new mnemo.Parameter(rt.tensor([37], init));
    const opt = new mnemo.SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
    p.grad.data.fill(0.25);
    rt.scope(() => opt.step());
    const filler = rt.tensor([64], new Array(64).fill(123)); // would reuse a buffer the scope had freed
    // First step: momentum_buffer = g + wd·p.
    const expected = init.map((x) => f32(x * f32(0.01) + 0.25));
    expect(bitDiffs(opt.stateDict().state[0]!.momentum_buffer!, expected)).toBe(0);
    filler.dispose();
    opt.dispose();
    p.dispose();
  });

  it('a parameter listed twice (tied weights) is updated once', async () => {
    const rt = await ready;
    const p = new mnemo.Parameter(rt.tensor([3], [1, 1, 1]));
    p.grad.set([1, 2, 3]);
    const opt = new mnemo.SGD([p, p], { lr: 0.5 });
    expect(opt.params.length).toBe(1);
    opt.step();
    expect(Array.from(p.value.data)).toEqual([0.5, 0, -0.5]);
    p.dispose();
  });

  it('stateDict / loadStateDict: a restored optimizer continues identically', async () => {
    const rt = await ready;
    for (const c of [CONFIGS[2]!, CONFIGS[4]!, CONFIGS[6]!]) {
      const next = rng(7);
      const shapes = [[3], [37]];
      const init = shapes.map(([n]) => Array.from({ length: n! }, () => next()));
      const gradsAt = Array.from({ length: 6 }, () => shapes.map(([n]) => Array.from({ length: n! }, () => 0.5 * next())));
      const a = init.map((v, j) => new mnemo.Parameter(rt.tensor(shapes[j]!, v)));
      const optA = makeOptimizer(c.kind, a, c.options);
      const run = (ps: mnemo.Parameter[], opt: mnemo.Optimizer, from: number, to: number) => {
        for (let s = from; s < to; s++) {
          ps.forEach((p, j) => p.grad.set(gradsAt[s]![j]!));
          opt.step();
        }
      };
      run(a, optA, 0, 3);
      optA.lr = optA.lr / 2;
      const saved = optA.stateDict();
      const savedValues = a.map((p) => p.value.toArray());
      run(a, optA, 3, 6);
      // The dict holds copies: later steps do not change it.
      expect(saved.step).toBe(3);
      expect(saved.options.lr).toBe(c.lrs[0]! / 2);
      // A new optimizer over copies of the parameters, built with other options, restored from the dict.
      const b = savedValues.map((v, j) => new mnemo.Parameter(rt.tensor(shapes[j]!, v)));
      const optB = makeOptimizer(c.kind, b, c.kind === 'SGD' ? { lr: 1, momentum: 0.5 } : { lr: 1 });
      optB.loadStateDict(saved);
      expect(optB.lr).toBe(c.lrs[0]! / 2);
      expect(optB.stepCount).toBe(3);
      run(b, optB, 3, 6);
      b.forEach((p, j) => expect(bitDiffs(p.value.data, a[j]!.value.data)).toBe(0));
      const sa = optA.stateDict(), sb = optB.stateDict();
      expect(sb.step).toBe(6);
      sa.state.forEach((entry, j) => {
        for (const [name, buf] of Object.entries(entry)) expect(bitDiffs(sb.state[j]![name]!, buf)).toBe(0);
      });
      // Mismatches are refused before anything changes.
      expect(() => optB.loadStateDict({ ...saved, type: c.kind === 'SGD' ? 'Adam' : 'SGD' })).toThrow(mnemo.OptimizerOptionError);
      expect(() => optB.loadStateDict({ ...saved, state: saved.state.slice(1) })).toThrow(mnemo.ShapeError);
      const wrongSize = saved.state.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v.subarray(1)])));
      expect(() => optB.loadStateDict({ ...saved, state: wrongSize })).toThrow(/has 2 values, the parameter has 3/);
      expect(() => optB.loadStateDict({ ...saved, options: { ...saved.options, lr: -1 } })).toThrow(mnemo.OptimizerOptionError);
      expect(optB.stepCount).toBe(6);
      for (const p of [...a, ...b]) p.dispose();
      optA.dispose();
      optB.dispose();
    }
  });

  it('Adam state dict without buffers after step 0 is refused', async () => {
    const rt = await ready;
    const p = new mnemo.Parameter(rt.tensor([3]));
    const opt = new mnemo.Adam([p]);
    expect(() => opt.loadStateDict({ type: 'Adam', step: 2, options: {}, state: [{}] })).toThrow(/needs both exp_avg and exp_avg_sq at step 2/);
    opt.loadStateDict({ type: 'Adam', step: 0, options: { lr: 0.01 }, state: [{}] });
    expect(opt.lr).toBe(0.01);
    p.dispose();
  });
});

describe.each(builds)('clipGradNorm (%s build)', (build) => {
  const ready = mnemo.init({ build });

  const makeParams = (rt: mnemo.Runtime, scale: number, seed: number) => {
    const next = rng(seed);
    return SHAPES.map((s) => {
      const p = new mnemo.Parameter(rt.tensor(s));
      p.grad.set(Array.from({ length: p.grad.size }, () => scale * next()));
      return p;
    });
  };
  const sumSquares = (ps: mnemo.Parameter[]) => ps.reduce((acc, p) => acc + p.grad.toArray().reduce((a, x) => a + x * x, 0), 0);

  it('below maxNorm: returns the global L2 norm (f64 sum of squares) and leaves the gradients as they are', async () => {
    const rt = await ready;
    const ps = makeParams(rt, 0.01, 1);
    const before = ps.map((p) => p.grad.toArray());
    const expected = Math.sqrt(sumSquares(ps));
    const norm = mnemo.clipGradNorm(ps, 10);
    expect(Math.abs(norm - expected) / expected).toBeLessThan(1e-14);
    ps.forEach((p, j) => expect(bitDiffs(p.grad.data, before[j]!)).toBe(0));
    ps.forEach((p) => p.dispose());
  });

  it('above maxNorm: every gradient scaled by PyTorch\'s f32 coefficient maxNorm/(norm + 1e-6), bit for bit', async () => {
    const rt = await ready;
    const ps = makeParams(rt, 1, 2);
    const before = ps.map((p) => p.grad.toArray());
    const expected = Math.sqrt(sumSquares(ps));
    const norm = mnemo.clipGradNorm(ps, 1.5);
    expect(Math.abs(norm - expected) / expected).toBeLessThan(1e-14);
    const coef = f32(f32(1 / f32(f32(norm) + f32(1e-6))) * f32(1.5));
    ps.forEach((p, j) => expect(bitDiffs(p.grad.data, before[j]!.map((g) => f32(g * coef)))).toBe(0));
    expect(Math.abs(Math.sqrt(sumSquares(ps)) - 1.5) / 1.5).toBeLessThan(1e-6);
    ps.forEach((p) => p.dispose());
  });

  it('matches values printed by PyTorch 1.13 clip_grad_norm_', async () => {
    const rt = await ready;
    const a = new mnemo.Parameter(rt.tensor([2])), b = new mnemo.Parameter(rt.tensor([1]));
    a.grad.set([3, 4]);
    b.grad.set([12]);
    expect(mnemo.clipGradNorm([a, b], 1)).toBe(13);
    expect([...a.grad.data, ...b.grad.data]).toEqual([0.23076921701431274, 0.307692289352417, 0.923076868057251]);
    a.grad.set([0.3, -0.4]);
    b.grad.set([1.2]);
    expect(f32(mnemo.clipGradNorm([a, b], 0.7))).toBe(1.3000000715255737);
    expect([...a.grad.data, ...b.grad.data]).toEqual([0.16153834760189056, -0.21538446843624115, 0.6461533904075623]);
    a.dispose();
    b.dispose();
  });

  it('non-finite norm: NonFiniteNormError (or the norm with errorIfNonfinite: false), gradients untouched', async () => {
    const rt = await ready;
    const ps = makeParams(rt, 1, 3);
    for (const bad of [NaN, Infinity]) {
      ps[3]!.grad.data[5] = bad;
      const before = ps.map((p) => p.grad.toArray());
      let caught: unknown;
      try {
        mnemo.clipGradNorm(ps, 1);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(mnemo.NonFiniteNormError);
      expect(caught).toBeInstanceOf(mnemo.MnemoError);
      expect((caught as mnemo.NonFiniteNormError).norm).toBe(bad);
      expect(mnemo.clipGradNorm(ps, 1, 2, { errorIfNonfinite: false })).toBe(bad);
      ps.forEach((p, j) => expect(bitDiffs(p.grad.data, before[j]!)).toBe(0));
    }
    ps.forEach((p) => p.dispose());
  });

  it('counts a repeated parameter once; empty list → 0; bad arguments are refused', async () => {
    const rt = await ready;
    const p = new mnemo.Parameter(rt.tensor([2]));
    p.grad.set([3, 4]);
    expect(mnemo.clipGradNorm([p, p], 100)).toBe(5);
    expect(mnemo.clipGradNorm([], 1)).toBe(0);
    expect(() => mnemo.clipGradNorm([p], -1)).toThrow(mnemo.OptimizerOptionError);
    expect(() => mnemo.clipGradNorm([p], NaN)).toThrow(/maxNorm must be a finite number/);
    expect(() => mnemo.clipGradNorm([p], 1, 1)).toThrow(/only normType 2/);
    p.dispose();
  });
});

describe('learning-rate schedules', () => {
  it('StepDecay: Zaremba et al. — base lr for startEpoch epochs, then ×factor per epoch', () => {
    const opt = { lr: 1 };
    const s = new mnemo.StepDecay(opt, { startEpoch: 4, factor: 0.5 });
    const seen = [opt.lr];
    for (let e = 1; e < 8; e++) seen.push(s.step());
    expect(seen).toEqual([1, 1, 1, 1, 0.5, 0.25, 0.125, 0.0625]);
    expect(opt.lr).toBe(0.0625);
    expect(s.lrAt(2)).toBe(1);
    // Medium model of the paper: lr 1, decay 1/1.2 after 6 epochs.
    const m = new mnemo.StepDecay({ lr: 1 }, { startEpoch: 6, factor: 1 / 1.2 });
    expect(m.lrAt(5)).toBe(1);
    expect(m.lrAt(6)).toBeCloseTo(1 / 1.2, 15);
    expect(m.lrAt(38)).toBeCloseTo(1.2 ** -33, 15);
  });

  it('CosineAnnealing: PyTorch CosineAnnealingLR values without warmup', () => {
    const opt = { lr: 0.1 };
    const s = new mnemo.CosineAnnealing(opt, { tMax: 10, etaMin: 0.001 });
    // Printed by torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001), PyTorch 1.13.
    const torch = [0.1, 0.09757729755661011, 0.0905463412215599, 0.07959536998847742, 0.0657963412215599, 0.0505,
      0.03520365877844011, 0.02140463001152259, 0.010453658778440109, 0.0034227024433899004, 0.001];
    const seen = [opt.lr];
    for (let t = 1; t <= 10; t++) seen.push(s.step());
    seen.forEach((lr, t) => expect(lr).toBeCloseTo(torch[t]!, 15));
    expect(s.lrAt(11)).toBe(0.001);
    expect(s.lrAt(1000)).toBe(0.001);
  });

  it('CosineAnnealing with linear warmup', () => {
    const opt = { lr: 0.3 };
    const s = new mnemo.CosineAnnealing(opt, { tMax: 4, warmup: 3 });
    expect(opt.lr).toBeCloseTo(0.1, 15);
    expect([s.lrAt(0), s.lrAt(1), s.lrAt(2), s.lrAt(3)].map((x) => +x.toFixed(12))).toEqual([0.1, 0.2, 0.3, 0.3]);
    expect(s.lrAt(5)).toBeCloseTo(0.15, 15);
    expect(s.lrAt(7)).toBe(0);
    s.step();
    expect(opt.lr).toBeCloseTo(0.2, 15);
  });

  it('drives an optimizer; stateDict round trip; bad options refused', async () => {
    const rt = await mnemo.init();
    const p = new mnemo.Parameter(rt.tensor([1]));
    const opt = new mnemo.SGD([p], { lr: 1 });
    const s = new mnemo.StepDecay(opt, { startEpoch: 1, factor: 0.1 });
    s.step();
    s.step();
    expect(opt.lr).toBeCloseTo(0.01, 15);
    const saved = s.stateDict();
    expect(saved).toEqual({ t: 2, baseLr: 1 });
    opt.lr = 5;
    const s2 = new mnemo.StepDecay(opt, { startEpoch: 1, factor: 0.1 });
    s2.loadStateDict(saved);
    expect(opt.lr).toBeCloseTo(0.01, 15);
    expect(s2.step()).toBeCloseTo(0.001, 15);
    for (const bad of [{ startEpoch: -1, factor: 0.5 }, { startEpoch: 1.5, factor: 0.5 }, { startEpoch: 1, factor: 0 }, { startEpoch: 1, factor: NaN }]) {
      expect(() => new mnemo.StepDecay({ lr: 1 }, bad)).toThrow(mnemo.OptimizerOptionError);
    }
    for (const bad of [{ tMax: 0 }, { tMax: 2.5 }, { tMax: 10, warmup: -1 }, { tMax: 10, etaMin: -1 }]) {
      expect(() => new mnemo.CosineAnnealing({ lr: 1 }, bad)).toThrow(mnemo.OptimizerOptionError);
    }
    expect(() => s.lrAt(-1)).toThrow(/index must be an integer/);
    p.dispose();
  });
});

describe('optimizer options are validated as PyTorch does', () => {
  it('refuses bad options with OptimizerOptionError naming the option', async () => {
    const rt = await mnemo.init();
    const ps = [new mnemo.Parameter(rt.tensor([3]))];
    const sgd = (o: Record<string, unknown>) => () => new mnemo.SGD(ps, o as unknown as mnemo.SGDOptions);
    const adam = (o: Record<string, unknown>) => () => new mnemo.Adam(ps, o);
    const cases: [() => unknown, RegExp][] = [
      [sgd({}), /SGD: lr is required/],
      [sgd({ lr: -0.1 }), /SGD: lr must be a finite number ≥ 0, got -0.1/],
      [sgd({ lr: NaN }), /SGD: lr must be/],
      [sgd({ lr: 0.1, momentum: -0.5 }), /momentum must be/],
      [sgd({ lr: 0.1, weightDecay: -1 }), /weightDecay must be/],
      [sgd({ lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum > 0 and zero dampening/],
      [sgd({ lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }), /Nesterov momentum requires/],
      [sgd({ lr: 0.1, weight_decay: 0.1 }), /unknown option 'weight_decay' \(did you mean weightDecay\?\)/],
      [adam({ lr: -1 }), /Adam: lr must be/],
      [adam({ betas: [1, 0.999] }), /betas\[0\] must be a finite number in \[0, 1\), got 1/],
      [adam({ betas: [0.9, -0.1] }), /betas\[1\] must be/],
      [adam({ betas: [0.9] }), /betas must be a pair/],
      [adam({ eps: -1e-8 }), /eps must be/],
      [adam({ weightDecay: -0.1 }), /weightDecay must be/],
      [adam({ amsgrad: true }), /unknown option 'amsgrad'/],
      [() => new mnemo.AdamW(ps, { betas: [0.9, 1] }), /AdamW: betas\[1\] must be/],
      [() => new mnemo.Adam([]), /params must be a non-empty array/],
    ];
    for (const [make, message] of cases) {
      expect(make).toThrow(mnemo.OptimizerOptionError);
      expect(make).toThrow(message);
    }
    const opt = new mnemo.AdamW(ps);
    expect(opt.weightDecay).toBe(1e-2);
    expect(new mnemo.Adam(ps).weightDecay).toBe(0);
    expect(() => { opt.lr = -1; }).toThrow(/lr must be/);
    opt.lr = 0.5;
    expect(opt.lr).toBe(0.5);
    ps[0]!.dispose();
    expect(() => opt.step()).toThrow(mnemo.DisposedError);
  });
});
