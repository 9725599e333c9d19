// Optimizer updates and the squared norm for gradient clipping, f32, on raw
// pointers: f32x4 over groups of 4 elements, then a scalar tail.
//
// The per-element arithmetic is PyTorch 1.13's single-tensor (foreach=False)
// CPU path, operation for operation, so the f32 roundings are the same:
//
//   torch op                       its CPU kernel (AVX2 build)         here
//   x.add(y, alpha=a)              vec::fmadd(y, a, x): fused          fma(y, a, x)
//   x.mul_(a)                      x·a                                 mul
//   x.addcmul_(y, z, value=a)      x + (a·y)·z, contracted by GCC      fma(a·y, z, x)
//   x.addcdiv_(y, z, value=a)      x + (a·y)/z                         mul, div, add
//
// PyTorch's AVX2 kernels are fused wherever they multiply then add (the
// fmadd intrinsic, and GCC contracting a·b + c, scalar tails included). This
// was checked against the Debian python3-torch 1.13 build: with the same
// fusions, an f32 emulation reproduced its SGD, Adam and AdamW results bit for
// bit on 1001 elements over 6 steps; with none, 1–30% of the elements differed.
//
// The fused multiply-add: the relaxed build uses f32x4.relaxed_madd, which V8
// compiles to vfmadd on x86 with FMA3 and to fmla on arm64 (a true fma; it
// falls back to mul + add on CPUs without FMA; other engines may not fuse, and
// then the relaxed build is within rounding of PyTorch rather than equal to
// it). The plain build, and the
// scalar tails of both, compute it through f64: the product of two f32 is
// exact in f64, the sum rounds in f64, then to f32. That double rounding
// differs from a true fma (by 1 ulp) only when the f64 sum is inexact
// (exponents over ~5 apart) AND lands exactly halfway between two f32, about
// one such case in 2^29. So both builds give PyTorch's bits (checked: test/portable/optim.test.ts). The f64 path
// costs about 2.3x the time of relaxed_madd (≈2.7 vs 1.2 ns/element for SGD
// with momentum, Node 20), a small part of a training step.
//
// Scalars arrive as f64 and are rounded to f32 where PyTorch rounds them
// (`Scalar.to<float>()`): 1 − β, 1 − dampening, −lr, 1 − lr·wd are formed in f64
// first, as Python does.

/** a·b + c, lane-wise, fused: relaxed_madd in the relaxed build, else through f64 (see above). */
// @ts-ignore: decorator
@inline function fma4(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(a), f64x2.promote_low_f32x4(b)), f64x2.promote_low_f32x4(c));
  const ah = i64x2.shuffle(a, a, 1, 1), bh = i64x2.shuffle(b, b, 1, 1), ch = i64x2.shuffle(c, c, 1, 1);
  const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(ah), f64x2.promote_low_f32x4(bh)), f64x2.promote_low_f32x4(ch));
  return i64x2.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 2);
}

/** a·b + c for one float, as one lane of fma4's f64 path. */
// @ts-ignore: decorator
@inline function fma1(a: f32, b: f32, c: f32): f32 {
  return <f32>(<f64>a * <f64>b + <f64>c);
}

/**
 * torch.optim.SGD on one tensor of n floats:
 *   d = g + wd·p                                   (if wd ≠ 0)
 *   buf = d                    on the first step   (if momentum ≠ 0)
 *   buf = momentum·buf + (1 − dampening)·d  later
 *   d = nesterov ? d + momentum·buf : buf
 *   p = p − lr·d
 * `grad` is not modified. `buf` is not touched (may be 0) when momentum = 0.
 */
export function sgd_update(param: usize, grad: usize, buf: usize, n: i32, lr: f64, momentum: f64,
  dampening: f64, weightDecay: f64, nesterov: i32, first: i32): void {
  const negLr = <f32>(-lr), mom = <f32>momentum, damp1 = <f32>(1.0 - dampening), wd = <f32>weightDecay;
  const useWd = weightDecay != 0, useMom = momentum != 0, isFirst = first != 0, useNesterov = nesterov != 0;
  const negLrV = f32x4.splat(negLr), momV = f32x4.splat(mom), damp1V = f32x4.splat(damp1), wdV = f32x4.splat(wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const p = v128.load(param + o);
    let d = v128.load(grad + o);
    if (useWd) d = fma4(p, wdV, d);                                  // d_p.add(param, alpha=wd)
    if (useMom) {
      let b = d;                                                     // clone(d_p)
      if (!isFirst) b = fma4(d, damp1V, f32x4.mul(v128.load(buf + o), momV)); // buf.mul_(m).add_(d_p, alpha=1-damp)
      v128.store(buf + o, b);
      d = useNesterov ? fma4(b, momV, d) : b;                        // d_p.add(buf, alpha=m)
    }
    v128.store(param + o, fma4(d, negLrV, p));                       // param.add_(d_p, alpha=-lr)
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const p = load<f32>(param + o);
    let d = load<f32>(grad + o);
    if (useWd) d = fma1(p, wd, d);
    if (useMom) {
      let b = d;
      if (!isFirst) b = fma1(d, damp1, load<f32>(buf + o) * mom);
      store<f32>(buf + o, b);
      d = useNesterov ? fma1(b, mom, d) : b;
    }
    store<f32>(param + o, fma1(d, negLr, p));
  }
}

/**
 * torch.optim.Adam (decoupled = 0) and AdamW (decoupled = 1) on one tensor of
 * n floats, with the bias corrections bc1 = 1 − β1^step and bc2 = 1 − β2^step of the
 * step count including this update (1 on the first), formed by the caller:
 *   AdamW: p = p·(1 − lr·wd)        Adam: g = g + wd·p   (if wd ≠ 0)
 *   m = β1·m + (1 − β1)·g
 *   v = β2·v + (1 − β2)·g·g
 *   denom = sqrt(v) / sqrt(bc2) + eps
 *   p = p − (lr / bc1)·m / denom
 * The step size and sqrt(bc2) are formed in f64, as PyTorch does them in Python
 * floats, then rounded to f32. `grad` is not modified. (The caller's powers come
 * from JavaScript's Math.pow, which differs from glibc's, Python's, in the last bit
 * of 3.7 % of β^step for the usual betas; the f32 step size and sqrt(bc2) were the
 * same in all 1.4 M cases checked: 7 betas, steps 1 to 200,000.)
 */
export function adam_update(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f64, beta1: f64,
  beta2: f64, eps: f64, weightDecay: f64, decoupled: i32, bc1: f64, bc2: f64): void {
  const stepSize = <f32>(lr / bc1), bc2Sqrt = <f32>Math.sqrt(bc2);
  const b1 = <f32>beta1, b2 = <f32>beta2, omb1 = <f32>(1.0 - beta1), omb2 = <f32>(1.0 - beta2);
  const epsF = <f32>eps, wd = <f32>weightDecay, decay = <f32>(1.0 - lr * weightDecay);
  const isDecoupled = decoupled != 0, coupledWd = !isDecoupled && weightDecay != 0;
  const stepSizeV = f32x4.splat(stepSize), bc2SqrtV = f32x4.splat(bc2Sqrt), epsV = f32x4.splat(epsF);
  const b1V = f32x4.splat(b1), b2V = f32x4.splat(b2), omb1V = f32x4.splat(omb1), omb2V = f32x4.splat(omb2);
  const wdV = f32x4.splat(wd), decayV = f32x4.splat(decay);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    let p = v128.load(param + o);
    let g = v128.load(grad + o);
    if (isDecoupled) p = f32x4.mul(p, decayV);                       // param.mul_(1 - lr*wd)
    else if (coupledWd) g = fma4(p, wdV, g);                         // grad.add(param, alpha=wd)
    const mi = fma4(g, omb1V, f32x4.mul(v128.load(m + o), b1V));     // m.mul_(b1).add_(g, alpha=1-b1)
    const vi = fma4(f32x4.mul(omb2V, g), g, f32x4.mul(v128.load(v + o), b2V)); // v.mul_(b2).addcmul_(g, g, value=1-b2)
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), bc2SqrtV), epsV); // (v.sqrt() / bc2_sqrt).add_(eps)
    v128.store(param + o, f32x4.sub(p, f32x4.div(f32x4.mul(stepSizeV, mi), denom))); // addcdiv_(m, denom, value=-step_size)
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let p = load<f32>(param + o);
    let g = load<f32>(grad + o);
    if (isDecoupled) p = p * decay;
    else if (coupledWd) g = fma1(p, wd, g);
    const mi = fma1(g, omb1, load<f32>(m + o) * b1);
    const vi = fma1(omb2 * g, g, load<f32>(v + o) * b2);
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    const denom = Mathf.sqrt(vi) / bc2Sqrt + epsF;
    store<f32>(param + o, p - stepSize * mi / denom);
  }
}

/**
 * Σ x² over n floats, accumulated in f64. Each square of an f32 is exact in
 * f64 (48 significant bits), so the only rounding is the f64 summation: relative
 * error about n·2⁻⁵³, far below f32 precision, and no overflow below 1e154.
 */
export function sum_squares(ptr: usize, n: i32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const x = v128.load(ptr + (<usize>i << 2));
    const y = v128.load(ptr + (<usize>i << 2), 16);
    const x0 = f64x2.promote_low_f32x4(x), x1 = f64x2.promote_low_f32x4(i64x2.shuffle(x, x, 1, 0));
    const y0 = f64x2.promote_low_f32x4(y), y1 = f64x2.promote_low_f32x4(i64x2.shuffle(y, y, 1, 0));
    a0 = f64x2.add(a0, f64x2.mul(x0, x0));
    a1 = f64x2.add(a1, f64x2.mul(x1, x1));
    a2 = f64x2.add(a2, f64x2.mul(y0, y0));
    a3 = f64x2.add(a3, f64x2.mul(y1, y1));
  }
  const s = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let sum = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
  for (; i < n; i++) {
    const x = <f64>load<f32>(ptr + (<usize>i << 2));
    sum += x * x;
  }
  return sum;
}

/**
 * Index of the first element of n floats that is not finite (NaN or ±∞), or
 * −1. Faster than sum_squares for the question "any NaN or ∞?" (two SIMD
 * operations per 4 floats, no f64), which matters on a cold start, when the
 * engine still runs its baseline code: x·0 is NaN exactly for NaN and ±∞.
 */
export function first_nonfinite(ptr: usize, n: i32): i32 {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = ptr + (<usize>i << 2);
    const any = v128.or(
      v128.or(f32x4.ne(f32x4.mul(v128.load(p), zero), zero), f32x4.ne(f32x4.mul(v128.load(p, 16), zero), zero)),
      v128.or(f32x4.ne(f32x4.mul(v128.load(p, 32), zero), zero), f32x4.ne(f32x4.mul(v128.load(p, 48), zero), zero)));
    if (v128.any_true(any)) break; // the scalar loop below finds which
  }
  for (; i < n; i++) if (!isFinite<f32>(load<f32>(ptr + (<usize>i << 2)))) return i;
  return -1;
}

/** x = x·s over n floats (gradient clipping). */
export function scale_inplace(ptr: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(ptr + o, f32x4.mul(v128.load(ptr + o), sv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(ptr + o, load<f32>(ptr + o) * s);
  }
}
