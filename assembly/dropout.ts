// Inverted dropout with a counter-based generator: the keep/drop decision of
// element i is a pure function of (seed, counter, i), so a mask is reproducible
// from its (seed, counter) alone and does not depend on what ran before.
//
//   fmix(h)  = MurmurHash3's 32-bit finaliser (a bijection of u32)
//   s        = fmix(seed ^ 0x9e3779b9)
//   k1       = fmix(s ^ counter)                     (distinct counters → distinct k1)
//   k2       = fmix(s + fmix(counter ^ 0x85ebca6b))
//   u_i      = fmix(fmix(i ^ k1) + k2)               (all arithmetic mod 2³²)
//   keep_i   = u_i ≥ floor(p·2³²)  (unsigned)        → P(keep) = 1 − p to within 2⁻³²
//   mask_i   = keep_i ? 1/(1 − p) : 0   (f32; p ≥ 1 drops everything)
//
// TypeScript's Dropout passes a new counter for each forward pass.

// @ts-ignore: decorator
@inline function fmix_s(h: u32): u32 {
  h ^= h >> 16; h *= 0x85ebca6b;
  h ^= h >> 13; h *= 0xc2b2ae35;
  return h ^ (h >> 16);
}

// @ts-ignore: decorator
@inline function fmix_v(h: v128): v128 {
  h = v128.xor(h, i32x4.shr_u(h, 16)); h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
  h = v128.xor(h, i32x4.shr_u(h, 13)); h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/**
 * mask (n) = keep ? 1/(1 − p) : 0 from (seed, counter, i); y (n) = x·mask.
 * x and y may be the same.
 */
export function dropout_forward(x: usize, y: usize, mask: usize, n: i32, p: f32, seed: u32, counter: u32): void {
  const s = fmix_s(seed ^ 0x9e3779b9);
  const k1 = fmix_s(s ^ counter);
  const k2 = fmix_s(s + fmix_s(counter ^ 0x85ebca6b));
  const tf = <f64>p * 4294967296.0;
  const t: u32 = tf <= 0 ? 0 : tf >= 4294967295.0 ? 0xffffffff : <u32>tf;
  const scale: f32 = p >= 1 ? 0 : <f32>(1.0 / (1.0 - <f64>p));
  const vk1 = i32x4.splat(k1), vk2 = i32x4.splat(k2), vt = i32x4.splat(t), vs = f32x4.splat(scale);
  let idx = i32x4(0, 1, 2, 3);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const u = fmix_v(i32x4.add(fmix_v(v128.xor(idx, vk1)), vk2));
    const m = v128.and(vs, i32x4.ge_u(u, vt));
    const o = <usize>i << 2;
    v128.store(mask + o, m);
    v128.store(y + o, f32x4.mul(v128.load(x + o), m));
    idx = i32x4.add(idx, i32x4.splat(4));
  }
  for (; i < n; i++) {
    const u = fmix_s(fmix_s(<u32>i ^ k1) + k2);
    const m: f32 = u >= t ? scale : 0;
    const o = <usize>i << 2;
    store<f32>(mask + o, m);
    store<f32>(y + o, load<f32>(x + o) * m);
  }
}

/** dx (n) = dy·mask. dx and dy may be the same. */
export function dropout_backward(dy: usize, dx: usize, mask: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), v128.load(mask + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(dy + o) * load<f32>(mask + o));
  }
}
