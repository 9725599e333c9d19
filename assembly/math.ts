// SIMD exp, sigmoid and tanh (f32x4) with scalar twins of the same formulas,
// so a SIMD body and its scalar tail agree.
//
// exp: Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-7
// polynomial of e^r (Cephes expf coefficients), and 2^n built in the exponent
// bits. x is clamped to [-87.34, 88.38], so the result is never 0 or Inf
// (e^-87.34 ≈ 1.2e-38, e^88.38 ≈ 2.4e38); NaN stays NaN.
// sigmoid(x) = 1 / (1 + exp(-x)).
// tanh: x + x³·P(x²) (Cephes tanhf) for |x| < 0.625, else sign(x)·(1 − 2/(exp(2|x|) + 1)).
// Measured maximum errors are stated and checked in test/portable/math.test.ts.

// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const EXP_MAX: f32 = 88.3762626647949; // 127.5·ln2: n ≤ 127
// @ts-ignore: decorator
@inline const EXP_MIN: f32 = -87.3365447505531; // ≈ -126·ln2: n ≥ -126
// @ts-ignore: decorator
@inline const P0: f32 = 1.9875691500e-4;
// @ts-ignore: decorator
@inline const P1: f32 = 1.3981999507e-3;
// @ts-ignore: decorator
@inline const P2: f32 = 8.3334519073e-3;
// @ts-ignore: decorator
@inline const P3: f32 = 4.1665795894e-2;
// @ts-ignore: decorator
@inline const P4: f32 = 1.6666665459e-1;
// @ts-ignore: decorator
@inline const P5: f32 = 5.0000001201e-1;
// @ts-ignore: decorator
@inline const T0: f32 = -5.70498872745e-3;
// @ts-ignore: decorator
@inline const T1: f32 = 2.06390887954e-2;
// @ts-ignore: decorator
@inline const T2: f32 = -5.37397155531e-2;
// @ts-ignore: decorator
@inline const T3: f32 = 1.33314422036e-1;
// @ts-ignore: decorator
@inline const T4: f32 = -3.33332819422e-1;
// @ts-ignore: decorator
@inline const TANH_SMALL: f32 = 0.625;

/** e^x, lane-wise. */
// @ts-ignore: decorator
@inline export function exp_v(x: v128): v128 {
  x = f32x4.max(f32x4.min(x, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(LOG2E)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^n: n + 127 in the exponent field; the clamp keeps n in [-126, 127].
  const e = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, e);
}

/** e^x (same formula as exp_v). */
// @ts-ignore: decorator
@inline export function exp_s(x: f32): f32 {
  x = max(min(x, EXP_MAX), EXP_MIN);
  const n = nearest(x * LOG2E);
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  p = p * r * r + r + 1;
  const e = reinterpret<f32>((<i32>n + 127) << 23);
  return p * e;
}

/** 1 / (1 + e^-x), lane-wise. */
// @ts-ignore: decorator
@inline export function sigmoid_v(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp_v(f32x4.neg(x))));
}

/** 1 / (1 + e^-x). */
// @ts-ignore: decorator
@inline export function sigmoid_s(x: f32): f32 {
  return 1 / (1 + exp_s(-x));
}

/** tanh(x), lane-wise. */
// @ts-ignore: decorator
@inline export function tanh_v(x: v128): v128 {
  const ax = f32x4.abs(x);
  // Large |x|: 1 − 2/(e^{2|x|} + 1), sign restored from x.
  const big = f32x4.sub(f32x4.splat(1),
    f32x4.div(f32x4.splat(2), f32x4.add(exp_v(f32x4.add(ax, ax)), f32x4.splat(1))));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  // Small |x|: odd polynomial.
  const z = f32x4.mul(x, x);
  let p = f32x4.add(f32x4.mul(f32x4.splat(T0), z), f32x4.splat(T1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(TANH_SMALL)));
}

/** tanh(x) (same formula as tanh_v). */
// @ts-ignore: decorator
@inline export function tanh_s(x: f32): f32 {
  const ax = abs(x);
  if (ax < TANH_SMALL) {
    const z = x * x;
    let p = T0 * z + T1;
    p = p * z + T2;
    p = p * z + T3;
    p = p * z + T4;
    return p * z * x + x;
  }
  const y: f32 = 1 - 2 / (exp_s(ax + ax) + 1);
  return x < 0 ? -y : y;
}

// Array forms, for tests and for callers outside fused kernels: y[i] = f(x[i]).

/** y = e^x over n floats (x and y may be the same). */
export function vec_exp(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), exp_v(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), exp_s(load<f32>(x + (<usize>i << 2))));
}

/** y = sigmoid(x) over n floats. */
export function vec_sigmoid(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), sigmoid_v(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), sigmoid_s(load<f32>(x + (<usize>i << 2))));
}

/** y = tanh(x) over n floats. */
export function vec_tanh(x: usize, y: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), tanh_v(v128.load(x + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), tanh_s(load<f32>(x + (<usize>i << 2))));
}
