// GEMM: C = alpha·op(A)·op(B) + beta·C, f32, row-major, on raw pointers.
//
//   gemm_nn  op(A) = A   (M, K) lda ≥ K     op(B) = B   (K, N) ldb ≥ N
//   gemm_nt  op(A) = A   (M, K) lda ≥ K     op(B) = Bᵀ, B (N, K) ldb ≥ K
//   gemm_tn  op(A) = Aᵀ, A (K, M) lda ≥ M   op(B) = B   (K, N) ldb ≥ N
//   gemm_tt  op(A) = Aᵀ, A (K, M) lda ≥ M   op(B) = Bᵀ, B (N, K) ldb ≥ K
//
// The general path is the Goto/BLIS scheme: for each (KC × NC) block of op(B),
// pack it into panels of NR = 8 columns (k-major, zero padded); for each
// (MC × KC) block of op(A), pack it into panels of MR = 4 rows (k-major, zero
// padded); then a 4×8 register-blocked micro-kernel multiplies one A panel by
// one B panel with 8 f32x4 accumulators. Packing makes every layout feed the
// same micro-kernel with contiguous loads, so the layouts run at the same speed.
//
// M = 1 (next-token inference) skips packing and streams B once (gemv).
//
// beta = 0 never reads C (so NaN or garbage in C is ignored, as in BLAS).
// `work` is scratch of gemm_workspace_floats() f32, owned by the caller.
//
// With a thread pool (threads.ts), a product of at least PAR_MIN_MACS
// multiply-adds is cut into chunks of whole 8-column tiles, or of whole 4-row
// tiles, whichever dimension has more tiles; the threads take chunks until
// none are left. Each runs the one-thread code on its chunk with its own
// workspace, so every element of C is computed exactly as without threads.

import { madd } from "./simd";
import { job_args, pool_active, pool_chunk_done, pool_ctrl, pool_generation, pool_size, pool_start, pool_take, pool_wait, ARGS, JOB_GEMM } from "./threads";

// @ts-ignore: decorator
@inline const MR: i32 = 4;
// @ts-ignore: decorator
@inline const NR: i32 = 8;
// @ts-ignore: decorator
@inline const KC: i32 = 256;
// @ts-ignore: decorator
@inline const MC: i32 = 128;
// @ts-ignore: decorator
@inline const NC: i32 = 2048;

/** Floats of scratch the GEMM kernels need in `work`. */
export function gemm_workspace_floats(): i32 {
  return MC * KC + KC * NC + MR * NR;
}

// ---------------------------------------------------------------------------
// Packing

// op(A) block rows [0, mc), cols [0, kc) → panels of MR rows: dst[p][k][r].
// Element (i, k) of op(A) is at a + (i·rs + k·cs)·4.
function pack_a(mc: i32, kc: i32, a: usize, rs: i32, cs: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const src = a + (<usize>i0 * <usize>rs << 2);
    if (rows == MR && rs == 1) {
      // op(A) = Aᵀ: the 4 rows of a panel are contiguous in memory at each k.
      for (let k = 0; k < kc; k++) {
        v128.store(dst + (<usize>k << 4), v128.load(src + (<usize>k * <usize>cs << 2)));
      }
    } else if (rows == MR && cs == 1) {
      // op(A) = A: transpose 4×4 blocks of the 4 rows.
      const r0 = src, r1 = src + (<usize>rs << 2), r2 = src + (<usize>rs << 3), r3 = r1 + (<usize>rs << 3);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        transpose4_store(v128.load(r0 + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o),
          dst + (<usize>k << 4));
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2, d = dst + (<usize>k << 4);
        store<f32>(d, load<f32>(r0 + o));
        store<f32>(d, load<f32>(r1 + o), 4);
        store<f32>(d, load<f32>(r2 + o), 8);
        store<f32>(d, load<f32>(r3 + o), 12);
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = dst + (<usize>k << 4);
        for (let r = 0; r < MR; r++) {
          const v: f32 = r < rows ? load<f32>(src + ((<usize>r * <usize>rs + <usize>k * <usize>cs) << 2)) : 0;
          store<f32>(d + (<usize>r << 2), v);
        }
      }
    }
    dst += <usize>kc * MR << 2;
  }
}

// op(B) block rows [0, kc), cols [0, nc) → panels of NR cols: dst[p][k][c].
// Element (k, j) of op(B) is at b + (k·rs + j·cs)·4.
function pack_b(kc: i32, nc: i32, b: usize, rs: i32, cs: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const src = b + (<usize>j0 * <usize>cs << 2);
    if (cols == NR && cs == 1) {
      // op(B) = B: 8 contiguous floats per k.
      for (let k = 0; k < kc; k++) {
        const s = src + (<usize>k * <usize>rs << 2), d = dst + (<usize>k << 5);
        v128.store(d, v128.load(s));
        v128.store(d, v128.load(s, 16), 16);
      }
    } else if (cols == NR && rs == 1) {
      // op(B) = Bᵀ: column j of op(B) is row j of B; transpose 4×4 blocks.
      const c0 = src, c1 = src + (<usize>cs << 2), c2 = src + (<usize>cs << 3), c3 = c1 + (<usize>cs << 3);
      const c4 = src + (<usize>cs << 4), c5 = c4 + (<usize>cs << 2), c6 = c4 + (<usize>cs << 3), c7 = c5 + (<usize>cs << 3);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2, d = dst + (<usize>k << 5);
        transpose4_store2(v128.load(c0 + o), v128.load(c1 + o), v128.load(c2 + o), v128.load(c3 + o), d);
        transpose4_store2(v128.load(c4 + o), v128.load(c5 + o), v128.load(c6 + o), v128.load(c7 + o), d + 16);
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2, d = dst + (<usize>k << 5);
        store<f32>(d, load<f32>(c0 + o));
        store<f32>(d, load<f32>(c1 + o), 4);
        store<f32>(d, load<f32>(c2 + o), 8);
        store<f32>(d, load<f32>(c3 + o), 12);
        store<f32>(d, load<f32>(c4 + o), 16);
        store<f32>(d, load<f32>(c5 + o), 20);
        store<f32>(d, load<f32>(c6 + o), 24);
        store<f32>(d, load<f32>(c7 + o), 28);
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const d = dst + (<usize>k << 5);
        for (let c = 0; c < NR; c++) {
          const v: f32 = c < cols ? load<f32>(src + ((<usize>k * <usize>rs + <usize>c * <usize>cs) << 2)) : 0;
          store<f32>(d + (<usize>c << 2), v);
        }
      }
    }
    dst += <usize>kc * NR << 2;
  }
}

// Rows x0..x3 (4 floats each) → columns, stored as 4 vectors 16 bytes apart.
// @ts-ignore: decorator
@inline function transpose4_store(x0: v128, x1: v128, x2: v128, x3: v128, d: usize): void {
  const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 16);
  v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 32);
  v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 48);
}

// As transpose4_store, but the 4 output vectors are 32 bytes apart (half a B panel row).
// @ts-ignore: decorator
@inline function transpose4_store2(x0: v128, x1: v128, x2: v128, x3: v128, d: usize): void {
  const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(d, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(d, i64x2.shuffle(t0, t1, 1, 3), 32);
  v128.store(d, i64x2.shuffle(t2, t3, 0, 2), 64);
  v128.store(d, i64x2.shuffle(t2, t3, 1, 3), 96);
}

// ---------------------------------------------------------------------------
// Micro-kernel: a 4×8 tile of C from one packed A panel (kc×4) and one packed
// B panel (kc×8). `first` selects C = alpha·acc + beta·C (beta = 0: C not read);
// later K blocks accumulate C += alpha·acc.

// @ts-ignore: decorator
@inline function store_row(c: usize, acc: v128, va: v128, vb: v128, overwrite: bool): void {
  if (overwrite) v128.store(c, f32x4.mul(acc, va));
  else v128.store(c, madd(acc, va, f32x4.mul(v128.load(c), vb)));
}

function micro_4x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: i32, mr: i32, nr: i32,
                   alpha: f32, beta: f32, tmp: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // One k per iteration: the body's 14 live vectors fit the 15 xmm registers
  // V8 allocates on x64. Unrolled by 2, V8 hoisted the loads and spilled
  // accumulators (relaxed build: 24 → 37 GFLOP/s at 512³ without the unroll).
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    ap += 16; bp += 32;
  }
  const va = f32x4.splat(alpha), vb = f32x4.splat(beta);
  const overwrite = beta == 0;
  if (mr == MR && nr == NR) {
    const ld = <usize>ldc << 2;
    store_row(c, c00, va, vb, overwrite); store_row(c + 16, c01, va, vb, overwrite); c += ld;
    store_row(c, c10, va, vb, overwrite); store_row(c + 16, c11, va, vb, overwrite); c += ld;
    store_row(c, c20, va, vb, overwrite); store_row(c + 16, c21, va, vb, overwrite); c += ld;
    store_row(c, c30, va, vb, overwrite); store_row(c + 16, c31, va, vb, overwrite);
    return;
  }
  // Edge tile: spill the accumulators, then write only the valid part.
  v128.store(tmp, c00); v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32); v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64); v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96); v128.store(tmp, c31, 112);
  for (let r = 0; r < mr; r++) {
    const crow = c + (<usize>r * <usize>ldc << 2), trow = tmp + (<usize>r << 5);
    for (let j = 0; j < nr; j++) {
      const v = alpha * load<f32>(trow + (<usize>j << 2));
      const p = crow + (<usize>j << 2);
      store<f32>(p, overwrite ? v : v + beta * load<f32>(p));
    }
  }
}

// ---------------------------------------------------------------------------
// Driver over op(A) (i, k) at a + (i·ars + k·acs)·4 and op(B) (k, j) at b + (k·brs + j·bcs)·4.
// With `prepacked` ≠ 0, op(B) was packed whole by gemm_pack_b (panel p of 8 columns
// at prepacked + p·K·8·4, k-major) and b, brs, bcs are unused.

function gemm_blocked(m: i32, n: i32, k: i32, alpha: f32,
                      a: usize, ars: i32, acs: i32, b: usize, brs: i32, bcs: i32,
                      beta: f32, c: usize, ldc: i32, work: usize, prepacked: usize): void {
  const packA = work;
  const packB = work + (<usize>(MC * KC) << 2);
  const tmp = packB + (<usize>(KC * NC) << 2);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      const bet: f32 = pc == 0 ? beta : 1;
      // First panel of this block and the distance between panels, in floats.
      let panels = packB, stride = <usize>kc * NR;
      if (prepacked != 0) {
        stride = <usize>k * NR;
        panels = prepacked + ((<usize>(jc / NR) * stride + <usize>pc * NR) << 2);
      } else {
        pack_b(kc, nc, b + ((<usize>pc * <usize>brs + <usize>jc * <usize>bcs) << 2), brs, bcs, packB);
      }
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        pack_a(mc, kc, a + ((<usize>ic * <usize>ars + <usize>pc * <usize>acs) << 2), ars, acs, packA);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bp = panels + (<usize>(jr / NR) * stride << 2);
          const cj = c + ((<usize>ic * <usize>ldc + <usize>(jc + jr)) << 2);
          for (let ir = 0; ir < mc; ir += MR) {
            micro_4x8(kc, packA + (<usize>ir * <usize>kc << 2), bp,
              cj + (<usize>ir * <usize>ldc << 2), ldc, min(MR, mc - ir), nr, alpha, bet, tmp);
          }
        }
      }
    }
  }
}

// Scale C by beta (beta = 0 writes zeros without reading C). Used when K = 0.
function scale_c(m: i32, n: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i = 0; i < m; i++) {
    const row = c + (<usize>i * <usize>ldc << 2);
    for (let j = 0; j < n; j++) {
      const p = row + (<usize>j << 2);
      store<f32>(p, beta == 0 ? 0 : beta * load<f32>(p));
    }
  }
}

// ---------------------------------------------------------------------------
// M = 1: y (1, N) = alpha·x·op(B) + beta·y, streaming B once, no packing.

// y = alpha·x·B + beta·y, B (K, N) row-major; x[k] at x + k·incx·4.
// Four rows of B per sweep over y (4 loads of B, 1 load and 1 store of y per
// 4 madds); the first sweep applies beta (y is not read when beta = 0).
function gemv_n(n: i32, k: i32, alpha: f32, x: usize, incx: i32, b: usize, ldb: i32,
                beta: f32, y: usize): void {
  const ld = <usize>ldb << 2;
  let kk = 0;
  for (; kk + 4 <= k; kk += 4) {
    const xp = x + (<usize>kk * <usize>incx << 2), inc = <usize>incx << 2;
    const b0 = b + <usize>kk * ld;
    axpy4(n, alpha * load<f32>(xp), alpha * load<f32>(xp + inc), alpha * load<f32>(xp + 2 * inc),
      alpha * load<f32>(xp + 3 * inc), b0, b0 + ld, b0 + 2 * ld, b0 + 3 * ld, kk == 0, beta, y);
  }
  for (; kk < k; kk++) {
    axpy1(n, alpha * load<f32>(x + (<usize>kk * <usize>incx << 2)), b + <usize>kk * ld, kk == 0, beta, y);
  }
}

// y = x0·b0 + x1·b1 + x2·b2 + x3·b3 + (first ? beta·y : y)
function axpy4(n: i32, x0: f32, x1: f32, x2: f32, x3: f32, b0: usize, b1: usize, b2: usize, b3: usize,
               first: bool, beta: f32, y: usize): void {
  const v0 = f32x4.splat(x0), v1 = f32x4.splat(x1), v2 = f32x4.splat(x2), v3 = f32x4.splat(x3);
  const vb = f32x4.splat(first ? beta : 1);
  const readY = !first || beta != 0;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    let acc = f32x4.mul(v0, v128.load(b0 + o));
    acc = madd(v1, v128.load(b1 + o), acc);
    acc = madd(v2, v128.load(b2 + o), acc);
    acc = madd(v3, v128.load(b3 + o), acc);
    if (readY) acc = madd(vb, v128.load(y + o), acc);
    v128.store(y + o, acc);
  }
  const bs: f32 = first ? beta : 1;
  for (; j < n; j++) {
    const o = <usize>j << 2;
    let acc = x0 * load<f32>(b0 + o) + x1 * load<f32>(b1 + o) + x2 * load<f32>(b2 + o) + x3 * load<f32>(b3 + o);
    if (readY) acc += bs * load<f32>(y + o);
    store<f32>(y + o, acc);
  }
}

// y = x0·b0 + (first ? beta·y : y)
function axpy1(n: i32, x0: f32, b0: usize, first: bool, beta: f32, y: usize): void {
  const v0 = f32x4.splat(x0);
  const vb = f32x4.splat(first ? beta : 1);
  const readY = !first || beta != 0;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    let acc = f32x4.mul(v0, v128.load(b0 + o));
    if (readY) acc = madd(vb, v128.load(y + o), acc);
    v128.store(y + o, acc);
  }
  const bs: f32 = first ? beta : 1;
  for (; j < n; j++) {
    const o = <usize>j << 2;
    let acc = x0 * load<f32>(b0 + o);
    if (readY) acc += bs * load<f32>(y + o);
    store<f32>(y + o, acc);
  }
}

// y = alpha·x·Bᵀ + beta·y, B (N, K) row-major, x contiguous: y[j] = dot(x, B[j, :]).
// Eight rows of B at a time (eight streams in flight, one load of x per 8 madds).
function gemv_t(n: i32, k: i32, alpha: f32, x: usize, b: usize, ldb: i32, beta: f32, y: usize): void {
  const ld = <usize>ldb << 2;
  let j = 0;
  for (; j + 8 <= n; j += 8) {
    const r0 = b + <usize>j * ld;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
    let kk = 0;
    for (; kk + 4 <= k; kk += 4) {
      const o = <usize>kk << 2;
      const xv = v128.load(x + o);
      let r = r0 + o;
      s0 = madd(xv, v128.load(r), s0); r += ld;
      s1 = madd(xv, v128.load(r), s1); r += ld;
      s2 = madd(xv, v128.load(r), s2); r += ld;
      s3 = madd(xv, v128.load(r), s3); r += ld;
      s4 = madd(xv, v128.load(r), s4); r += ld;
      s5 = madd(xv, v128.load(r), s5); r += ld;
      s6 = madd(xv, v128.load(r), s6); r += ld;
      s7 = madd(xv, v128.load(r), s7);
    }
    const lo = hsum4(s0, s1, s2, s3), hi = hsum4(s4, s5, s6, s7);
    gemv_t_finish(kk, k, x, r0, ld, lo, alpha, beta, y + (<usize>j << 2));
    gemv_t_finish(kk, k, x, r0 + 4 * ld, ld, hi, alpha, beta, y + (<usize>(j + 4) << 2));
  }
  for (; j < n; j++) {
    const r = b + <usize>j * ld;
    let s: f32 = 0;
    for (let kk = 0; kk < k; kk++) s += load<f32>(x + (<usize>kk << 2)) * load<f32>(r + (<usize>kk << 2));
    const yo = y + (<usize>j << 2);
    store<f32>(yo, beta == 0 ? alpha * s : alpha * s + beta * load<f32>(yo));
  }
}

// Lane i of the result = sum of the lanes of s_i.
// @ts-ignore: decorator
@inline function hsum4(s0: v128, s1: v128, s2: v128, s3: v128): v128 {
  const t0 = f32x4.add(i32x4.shuffle(s0, s1, 0, 4, 1, 5), i32x4.shuffle(s0, s1, 2, 6, 3, 7));
  const t1 = f32x4.add(i32x4.shuffle(s2, s3, 0, 4, 1, 5), i32x4.shuffle(s2, s3, 2, 6, 3, 7));
  return f32x4.add(i64x2.shuffle(t0, t1, 0, 2), i64x2.shuffle(t0, t1, 1, 3));
}

// Adds the K tail (kk..k) of four rows starting at r0 to `sum`, scales, and stores y[0..4].
function gemv_t_finish(kk: i32, k: i32, x: usize, r0: usize, ld: usize, sum: v128,
                       alpha: f32, beta: f32, yo: usize): void {
  if (kk < k) {
    let e0: f32 = 0, e1: f32 = 0, e2: f32 = 0, e3: f32 = 0;
    const r1 = r0 + ld, r2 = r1 + ld, r3 = r2 + ld;
    for (; kk < k; kk++) {
      const o = <usize>kk << 2;
      const xs = load<f32>(x + o);
      e0 += xs * load<f32>(r0 + o); e1 += xs * load<f32>(r1 + o);
      e2 += xs * load<f32>(r2 + o); e3 += xs * load<f32>(r3 + o);
    }
    sum = f32x4.add(sum, f32x4(e0, e1, e2, e3));
  }
  sum = f32x4.mul(sum, f32x4.splat(alpha));
  if (beta != 0) sum = madd(f32x4.splat(beta), v128.load(yo), sum);
  v128.store(yo, sum);
}

// C (M, N) = alpha·A·Bᵀ + beta·C for a few rows of A, reading A (M, K) and B (N, K)
// in place: both run along K, so each element of C is a dot product of two
// contiguous rows. Two rows of A by four rows of B at a time (8 accumulators, 6
// loads per 8 madds, as the packed micro-kernel), the four B rows staying in L1
// while every pair of A rows passes. Packing all of B for a few rows of A would
// cost about as much as the product (y = h·Wᵀ with W the (V, H) output layer).
function gemm_dot(m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
                  beta: f32, c: usize, ldc: i32): void {
  const la = <usize>lda << 2, lb = <usize>ldb << 2, lc = <usize>ldc << 2;
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const b0 = b + <usize>j * lb;
    for (let i = 0; i < m; i += 2) {
      const a0 = a + <usize>i * la, two = i + 1 < m;
      const a1 = two ? a0 + la : a0; // an odd last row is computed twice, stored once
      let s00 = f32x4.splat(0), s01 = f32x4.splat(0), s02 = f32x4.splat(0), s03 = f32x4.splat(0);
      let s10 = f32x4.splat(0), s11 = f32x4.splat(0), s12 = f32x4.splat(0), s13 = f32x4.splat(0);
      let kk = 0;
      for (; kk + 4 <= k; kk += 4) {
        const o = <usize>kk << 2;
        const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o);
        let r = b0 + o;
        let w = v128.load(r); s00 = madd(x0, w, s00); s10 = madd(x1, w, s10); r += lb;
        w = v128.load(r); s01 = madd(x0, w, s01); s11 = madd(x1, w, s11); r += lb;
        w = v128.load(r); s02 = madd(x0, w, s02); s12 = madd(x1, w, s12); r += lb;
        w = v128.load(r); s03 = madd(x0, w, s03); s13 = madd(x1, w, s13);
      }
      const co = c + <usize>i * lc + (<usize>j << 2);
      gemv_t_finish(kk, k, a0, b0, lb, hsum4(s00, s01, s02, s03), alpha, beta, co);
      if (two) gemv_t_finish(kk, k, a1, b0, lb, hsum4(s10, s11, s12, s13), alpha, beta, co + lc);
    }
  }
  // The last N mod 4 columns.
  if (j < n) {
    for (let i = 0; i < m; i++) gemv_t(n - j, k, alpha, a + <usize>i * la, b + <usize>j * lb, ldb, beta, c + <usize>i * lc + (<usize>j << 2));
  }
}

// ---------------------------------------------------------------------------
// One-thread execution of a product, and its split over the pool.

// Ways of computing a product (slot MODE of a GEMM job).
// @ts-ignore: decorator
@inline const BLOCKED: i32 = 0;
// @ts-ignore: decorator
@inline const GEMV_N: i32 = 1;   // M = 1, op(B) = B: x at a (stride ars), B (K, N) with ldb = brs
// @ts-ignore: decorator
@inline const GEMV_T: i32 = 2;   // M = 1, op(B) = Bᵀ: x at a (contiguous), B (N, K) with ldb = bcs
// @ts-ignore: decorator
@inline const DOT: i32 = 3;      // small M, op(A) = A, op(B) = Bᵀ: A (M, K) with lda = ars, B (N, K) with ldb = bcs

// Most rows of A for which gemm_nt reads B in place (gemm_dot) rather than packing it.
// @ts-ignore: decorator
@inline const DOT_MAX_M: i32 = 32;

// Smallest product (M·N·K) worth splitting over threads.
// @ts-ignore: decorator
@inline const PAR_MIN_MACS: i64 = 1 << 17;

function run_serial(mode: i32, m: i32, n: i32, k: i32, alpha: f32, a: usize, ars: i32, acs: i32,
                    b: usize, brs: i32, bcs: i32, beta: f32, c: usize, ldc: i32, work: usize, prepacked: usize): void {
  if (mode == GEMV_N) gemv_n(n, k, alpha, a, ars, b, brs, beta, c);
  else if (mode == GEMV_T) gemv_t(n, k, alpha, a, b, bcs, beta, c);
  else if (mode == DOT) gemm_dot(m, n, k, alpha, a, ars, b, bcs, beta, c, ldc);
  else gemm_blocked(m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc, work, prepacked);
}

// Chunk `i` of a product split into chunks of `per` tiles: by columns (8-wide
// tiles) when byCols, else by rows (4-high tiles). The same call on a part of C.
function run_chunk(mode: i32, m: i32, n: i32, k: i32, alpha: f32, a: usize, ars: i32, acs: i32,
                   b: usize, brs: i32, bcs: i32, beta: f32, c: usize, ldc: i32, work: usize, prepacked: usize,
                   byCols: bool, per: i32, i: i32): void {
  if (byCols) {
    const j0 = min(n, i * per * NR), j1 = min(n, j0 + per * NR);
    if (j1 <= j0) return;
    const jo = <usize>j0;
    let bb = b, pp = prepacked;
    if (mode == GEMV_N) bb = b + (jo << 2);
    else if (mode == GEMV_T || mode == DOT) bb = b + (jo * <usize>bcs << 2);
    else if (prepacked != 0) pp = prepacked + (jo * <usize>k << 2);   // (j0 / NR) panels of k·NR floats
    else bb = b + (jo * <usize>bcs << 2);
    run_serial(mode, m, j1 - j0, k, alpha, a, ars, acs, bb, brs, bcs, beta, c + (jo << 2), ldc, work, pp);
  } else {
    const i0 = min(m, i * per * MR), i1 = min(m, i0 + per * MR);
    if (i1 <= i0) return;
    const io = <usize>i0;
    run_serial(mode, i1 - i0, n, k, alpha, a + (io * <usize>ars << 2), ars, acs, b, brs, bcs, beta,
      c + (io * <usize>ldc << 2), ldc, work, prepacked);
  }
}

/**
 * Takes and runs chunks of the GEMM job of generation `gen` in control block
 * `c` (arguments at c + ARGS) until none are left. Thread 0 and the workers.
 */
export function gemm_job_run(c: usize, gen: i32, work: usize): void {
  const args = c + ARGS;
  while (true) {
    const i = pool_take(c, gen);
    if (i < 0) return;
    // The arguments are read after taking a chunk: the job cannot end (and
    // thread 0 cannot write the next one) before this chunk is done.
    run_chunk(load<i32>(args), load<i32>(args, 4), load<i32>(args, 8), load<i32>(args, 12), load<f32>(args, 16),
      load<usize>(args, 20), load<i32>(args, 24), load<i32>(args, 28),
      load<usize>(args, 32), load<i32>(args, 36), load<i32>(args, 40), load<f32>(args, 44),
      load<usize>(args, 48), load<i32>(args, 52), work, load<usize>(args, 56),
      load<i32>(args, 60) != 0, load<i32>(args, 64), i);
    pool_chunk_done(c);
  }
}

// Chunks per thread: small enough parts that a thread the OS has not
// scheduled leaves little for the others to wait for.
// @ts-ignore: decorator
@inline const CHUNKS_PER_THREAD: i32 = 4;

// Computes the product on the calling thread, or split over the pool.
function run(mode: i32, m: i32, n: i32, k: i32, alpha: f32, a: usize, ars: i32, acs: i32,
             b: usize, brs: i32, bcs: i32, beta: f32, c: usize, ldc: i32, work: usize, prepacked: usize): void {
  const tilesN = (n + NR - 1) / NR, tilesM = (m + MR - 1) / MR;
  const byCols = mode != BLOCKED || tilesN >= tilesM;
  const tiles = byCols ? tilesN : tilesM;
  if (!pool_active() || <i64>m * <i64>n * <i64>k < PAR_MIN_MACS || tiles < 2) {
    run_serial(mode, m, n, k, alpha, a, ars, acs, b, brs, bcs, beta, c, ldc, work, prepacked);
    return;
  }
  const per = (tiles + min(tiles, pool_size() * CHUNKS_PER_THREAD) - 1) / min(tiles, pool_size() * CHUNKS_PER_THREAD);
  const chunks = (tiles + per - 1) / per;
  const args = job_args();
  store<i32>(args, mode); store<i32>(args, m, 4); store<i32>(args, n, 8); store<i32>(args, k, 12);
  store<f32>(args, alpha, 16); store<usize>(args, a, 20); store<i32>(args, ars, 24); store<i32>(args, acs, 28);
  store<usize>(args, b, 32); store<i32>(args, brs, 36); store<i32>(args, bcs, 40); store<f32>(args, beta, 44);
  store<usize>(args, c, 48); store<i32>(args, ldc, 52); store<usize>(args, prepacked, 56);
  store<i32>(args, byCols ? 1 : 0, 60); store<i32>(args, per, 64);
  pool_start(JOB_GEMM, chunks);
  gemm_job_run(pool_ctrl(), pool_generation(), work);
  pool_wait(chunks);
}

// ---------------------------------------------------------------------------
// Public kernels

/** C (M, N) = alpha·A·B + beta·C; A (M, K) lda, B (K, N) ldb. */
export function gemm_nn(m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
                        beta: f32, c: usize, ldc: i32, work: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { scale_c(m, n, beta, c, ldc); return; }
  run(m == 1 ? GEMV_N : BLOCKED, m, n, k, alpha, a, m == 1 ? 1 : lda, 1, b, ldb, 1, beta, c, ldc, work, 0);
}

/** C (M, N) = alpha·A·Bᵀ + beta·C; A (M, K) lda, B (N, K) ldb. */
export function gemm_nt(m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
                        beta: f32, c: usize, ldc: i32, work: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { scale_c(m, n, beta, c, ldc); return; }
  run(m == 1 ? GEMV_T : m <= DOT_MAX_M ? DOT : BLOCKED, m, n, k, alpha, a, lda, 1, b, 1, ldb, beta, c, ldc, work, 0);
}

/** C (M, N) = alpha·Aᵀ·B + beta·C; A (K, M) lda, B (K, N) ldb. */
export function gemm_tn(m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
                        beta: f32, c: usize, ldc: i32, work: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { scale_c(m, n, beta, c, ldc); return; }
  // M = 1: x is column 0 of A, stride lda (gemv_n reads x with stride ars).
  run(m == 1 ? GEMV_N : BLOCKED, m, n, k, alpha, a, m == 1 ? lda : 1, lda, b, ldb, 1, beta, c, ldc, work, 0);
}

/** C (M, N) = alpha·Aᵀ·Bᵀ + beta·C; A (K, M) lda, B (N, K) ldb. */
export function gemm_tt(m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32, b: usize, ldb: i32,
                        beta: f32, c: usize, ldc: i32, work: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { scale_c(m, n, beta, c, ldc); return; }
  run(BLOCKED, m, n, k, alpha, a, 1, lda, b, 1, ldb, beta, c, ldc, work, 0);
}

/** Floats gemm_pack_b writes for op(B) of K rows and N columns (N rounded up to 8). */
export function gemm_packed_b_floats(k: i32, n: i32): i32 {
  return ((n + NR - 1) / NR) * NR * k;
}

/**
 * Packs all of op(B) (K, N) once, for gemm_prepacked to reuse (weights reused
 * over the T steps of a window). transB: B is stored (N, K) with ldb, else (K, N).
 */
export function gemm_pack_b(transB: i32, k: i32, n: i32, b: usize, ldb: i32, dst: usize): void {
  if (transB) pack_b(k, n, b, 1, ldb, dst);
  else pack_b(k, n, b, ldb, 1, dst);
}

/**
 * C (M, N) = alpha·op(A)·op(B) + beta·C with op(B) packed by gemm_pack_b.
 * transA: A is stored (K, M) with lda, else (M, K).
 */
export function gemm_prepacked(transA: i32, m: i32, n: i32, k: i32, alpha: f32, a: usize, lda: i32,
                               bpacked: usize, beta: f32, c: usize, ldc: i32, work: usize): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) { scale_c(m, n, beta, c, ldc); return; }
  if (transA) run(BLOCKED, m, n, k, alpha, a, 1, lda, 0, 0, 0, beta, c, ldc, work, bpacked);
  else run(BLOCKED, m, n, k, alpha, a, lda, 1, 0, 0, 0, beta, c, ldc, work, bpacked);
}

/**
 * Scalar reference twin of the three kernels, for tests: plain triple loop,
 * f32 accumulation in k order. transA / transB select op(A) = Aᵀ / op(B) = Bᵀ.
 */
export function gemm_ref(transA: i32, transB: i32, m: i32, n: i32, k: i32, alpha: f32,
                         a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32): void {
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s: f32 = 0;
      for (let p = 0; p < k; p++) {
        const av = load<f32>(a + ((transA ? <usize>p * <usize>lda + <usize>i : <usize>i * <usize>lda + <usize>p) << 2));
        const bv = load<f32>(b + ((transB ? <usize>j * <usize>ldb + <usize>p : <usize>p * <usize>ldb + <usize>j) << 2));
        s += av * bv;
      }
      const p = c + ((<usize>i * <usize>ldc + <usize>j) << 2);
      store<f32>(p, beta == 0 ? alpha * s : alpha * s + beta * load<f32>(p));
    }
  }
}
