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

// Rounding to the nearest integer by adding 1.5·2²³: the sum's low mantissa
// bits hold n, so 2^n comes from its bits with one integer add and a shift.
// @ts-ignore: decorator
@inline const ROUND: f32 = 12582912.0; // 1.5·2²³
// @ts-ignore: decorator
@inline const ROUND_BITS: i32 = 0x4b400000;

/** e^x, lane-wise. */
// @ts-ignore: decorator
@inline export function exp_v(x: v128): v128 {
  // pmin/pmax keep a NaN x (the comparison is false and x is returned).
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN));
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUND));
  const n = f32x4.sub(t, f32x4.splat(ROUND));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^n: n + 127 in the exponent field; the clamp keeps n in [-126, 127].
  const e = i32x4.shl(i32x4.add(t, i32x4.splat(127 - ROUND_BITS)), 23);
  return f32x4.mul(p, e);
}

/** e^x (same formula as exp_v). */
// @ts-ignore: decorator
@inline export function exp_s(x: f32): f32 {
  x = x > EXP_MAX ? EXP_MAX : x < EXP_MIN ? EXP_MIN : x;
  const t = x * LOG2E + ROUND;
  const n = t - ROUND;
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  p = p * r * r + r + 1;
  const e = reinterpret<f32>((reinterpret<i32>(t) + (127 - ROUND_BITS)) << 23);
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

/** tanh(x), lane-wise. tanh is odd: computed on |x|, then x's sign bit is put back (so tanh(−0) = −0). */
// @ts-ignore: decorator
@inline export function tanh_v(x: v128): v128 {
  const sign = i32x4.splat(0x80000000);
  const ax = v128.andnot(x, sign);
  // Large |x|: 1 − 2/(e^{2|x|} + 1).
  const big = f32x4.sub(f32x4.splat(1),
    f32x4.div(f32x4.splat(2), f32x4.add(exp_v(f32x4.add(ax, ax)), f32x4.splat(1))));
  // Small |x|: odd polynomial.
  const z = f32x4.mul(ax, ax);
  let p = f32x4.add(f32x4.mul(f32x4.splat(T0), z), f32x4.splat(T1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T3));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(T4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), ax), ax);
  const y = v128.bitselect(small, big, f32x4.lt(ax, f32x4.splat(TANH_SMALL)));
  return v128.or(y, v128.and(x, sign));
}

/** tanh(x) (same formula as tanh_v). */
// @ts-ignore: decorator
@inline export function tanh_s(x: f32): f32 {
  const ax = abs(x);
  let y: f32;
  if (ax < TANH_SMALL) {
    const z = ax * ax;
    let p = T0 * z + T1;
    p = p * z + T2;
    p = p * z + T3;
    p = p * z + T4;
    y = p * z * ax + ax;
  } else {
    y = 1 - 2 / (exp_s(ax + ax) + 1);
  }
  return copysign<f32>(y, x);
}

// Array forms, for tests and for callers outside fused kernels: y[i] = f(x[i]).

/** y = e^x over n floats (x and y may be the same). */
export function vec_exp(x: usize, y: usize, n: i32): void {
  let i = 0;
  // Two vectors per iteration: V8 (11.3) rebuilds the v128 constants of exp_v
  // in every iteration, so sharing them between two vectors saves a third
  // (2.5 → 1.6 ns per element measured; four per iteration was no better).
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2), q = y + (<usize>i << 2);
    const a = exp_v(v128.load(p)), b = exp_v(v128.load(p, 16));
    v128.store(q, a); v128.store(q, b, 16);
  }
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
