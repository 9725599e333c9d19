// SIMD helpers shared by the kernels. One source, two builds: the relaxed build
// (compiled with --enable relaxed-simd) fuses multiply-add; the plain build
// multiplies then adds. ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so
// each build contains only its own branch.

/** a·b + c, lane-wise. Fused (one rounding) where the relaxed build and the CPU allow. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
