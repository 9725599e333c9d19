// @ts-check
// GEMM checks shared by every runtime: vitest in Node and Chromium runs them
// case by case; the Deno, Bun and workerd runners run them all and report.
// Plain JavaScript with no imports, so each runtime loads it as it is; the
// mnemo module under test is passed in.
//
// Each case fills A, B and C with seeded values, runs C = alpha·op(A)·op(B) +
// beta·C, and compares with a float64 reference. The error allowed per element
// is tol(k) · (|alpha|·Σ|a·b| + |beta·c|), with tol(k) = max(8·√k, 16)·2⁻²⁴: a
// few times the typical rounding of a k-term f32 sum, far below the error of a
// dropped or doubled term.

/** @typedef {{ m: number, n: number, k: number, layout: 'nn'|'nt'|'tn'|'tt', alpha: number, beta: number, nanC?: boolean }} GemmCase */

const U = 2 ** -24;

/** Seeded uniform generator in [-1, 1) (mulberry32). */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** The cases every runtime runs: tails, primes, blocking edges, large K, alpha/beta variants. */
export function gemmCases() {
  /** @type {GemmCase[]} */
  const cases = [];
  const layouts = /** @type {const} */ (['nn', 'nt', 'tn', 'tt']);
  const add = (m, n, k, alpha = 1, beta = 0, nanC = false) => {
    for (const layout of layouts) cases.push({ m, n, k, layout, alpha, beta, nanC });
  };
  add(1, 1, 1);
  // Every M tail of the 4-row panels and N tail of the 8-column panels.
  for (let m = 1; m <= 9; m++) for (let n = 1; n <= 17; n++) add(m, n, 7 + ((m * n) % 5));
  // Odd and prime sizes.
  for (const [m, n, k] of [[3, 5, 7], [13, 37, 11], [37, 13, 97], [7, 3, 5], [31, 29, 61], [97, 101, 103]]) add(m, n, k);
  // Every K tail of the 4-wide packing transposes and of the M = 1 loops.
  for (let k = 1; k <= 9; k++) add(6, 10, k);
  // Blocking edges: K around KC = 256, M around MC = 128, N past NC = 2048.
  for (const k of [255, 256, 257, 513]) add(9, 19, k);
  add(129, 17, 33); add(257, 9, 5);
  add(5, 2049, 3); add(2, 2050, 9);
  // K in the thousands.
  add(5, 7, 3000); add(33, 17, 4099); add(1, 21, 5000);
  // A·Bᵀ reads B in place up to M = 32 (gemm_dot): its edge, odd M, N tails past 4-column groups.
  add(32, 13, 261); add(33, 13, 261); add(3, 1003, 129);
  // M = 1 (the gemv path) with tails of N and K.
  for (const [n, k] of [[1, 1], [3, 2], [4, 4], [13, 5], [100, 257], [1001, 31]]) add(1, n, k);
  // alpha / beta: accumulate, scale, alpha = 0, and beta = 0 over NaN (C must not be read).
  for (const [alpha, beta] of [[0.5, 1], [-2, 0.25], [0, 1.5], [1, -1]]) { add(1, 9, 6, alpha, beta); add(11, 19, 300, alpha, beta); }
  add(11, 19, 30, 1, 0, true); add(1, 19, 30, 1, 0, true); add(1, 7, 0, 2, 0.5);
  add(5, 3, 0, 1, 0, true); add(4, 4, 0, 1, 0.5);
  return cases;
}

/** A short label for a case. */
export function caseName(c) {
  return `${c.layout} ${c.m}x${c.n}x${c.k} alpha=${c.alpha} beta=${c.beta}${c.nanC ? ' C=NaN' : ''}`;
}

/**
 * Runs one case on runtime `rt` through `mnemo.gemm`; returns the worst
 * error/allowance ratio (≤ 1 passes) and where it happened.
 * @param {any} mnemo the mnemo module (its gemm function)
 * @param {any} rt a Runtime
 * @param {GemmCase} c
 * @param {number} seed
 */
export function runGemmCase(mnemo, rt, c, seed = 1) {
  const { m, n, k, layout, alpha, beta } = c;
  const transA = layout[0] === 't', transB = layout[1] === 't';
  const next = rng(seed * 7919 + m * 131 + n * 17 + k);
  const aData = Float32Array.from({ length: m * k }, next);
  const bData = Float32Array.from({ length: k * n }, next);
  const cData = c.nanC ? new Float32Array(m * n).fill(NaN) : Float32Array.from({ length: m * n }, next);
  const A = rt.tensor(transA ? [k, m] : [m, k], aData);
  const B = rt.tensor(transB ? [n, k] : [k, n], bData);
  const C = rt.tensor([m, n], cData);
  try {
    mnemo.gemm(A, B, C, { transA, transB, alpha, beta });
    const out = C.toArray();
    let worst = 0, at = -1, got = 0, want = 0;
    const tol = Math.max(8 * Math.sqrt(k), 16) * U;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0, mag = 0;
        for (let p = 0; p < k; p++) {
          const a = transA ? aData[p * m + i] : aData[i * k + p];
          const b = transB ? bData[j * k + p] : bData[p * n + j];
          s += a * b; mag += Math.abs(a * b);
        }
        const c0 = cData[i * n + j];
        const ref = alpha * s + (beta === 0 ? 0 : beta * c0);
        const allow = tol * (Math.abs(alpha) * mag + (beta === 0 ? 0 : Math.abs(beta * c0))) + 1e-30;
        const err = Math.abs(out[i * n + j] - ref);
        const ratio = Number.isFinite(err) ? err / allow : Infinity;
        if (ratio > worst || (at < 0 && !(ratio <= worst))) { worst = ratio; at = i * n + j; got = out[i * n + j]; want = ref; }
      }
    }
    return { ok: worst <= 1, worst, detail: at < 0 ? '' : `C[${Math.floor(at / n)}, ${at % n}] = ${got}, want ${want}` };
  } finally {
    A.dispose(); B.dispose(); C.dispose();
  }
}

/**
 * Checks the scalar reference kernel (gemm_ref) against the float64 reference,
 * with padded leading dimensions; also checks the fast kernels leave padding alone.
 * @param {any} rt a Runtime
 */
export function runStrideCase(rt, layout, m, n, k) {
  const transA = layout[0] === 't', transB = layout[1] === 't';
  const pad = 3;
  const [ar, ac] = transA ? [k, m] : [m, k], [br, bc] = transB ? [n, k] : [k, n];
  const lda = ac + pad, ldb = bc + pad, ldc = n + pad;
  const next = rng(m * 1000 + n * 10 + k);
  const A = rt.tensor([ar, lda], Float32Array.from({ length: ar * lda }, next));
  const B = rt.tensor([br, ldb], Float32Array.from({ length: br * ldb }, next));
  const C1 = rt.tensor([m, ldc], new Float32Array(m * ldc).fill(7));
  const C2 = rt.tensor([m, ldc], new Float32Array(m * ldc).fill(7));
  try {
    const kern = rt.kernels;
    kern.gemm_ref(transA ? 1 : 0, transB ? 1 : 0, m, n, k, 1, A.offset, lda, B.offset, ldb, 0, C1.offset, ldc);
    kern['gemm_' + layout](m, n, k, 1, A.offset, lda, B.offset, ldb, 0, C2.offset, ldc, rt.gemmWork);
    const a = A.toArray(), b = B.toArray(), c1 = C1.toArray(), c2 = C2.toArray();
    const tol = Math.max(8 * Math.sqrt(k), 16) * U;
    const problems = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < ldc; j++) {
        if (j >= n) {
          if (c1[i * ldc + j] !== 7 || c2[i * ldc + j] !== 7) problems.push(`padding C[${i}, ${j}] was written`);
          continue;
        }
        let s = 0, mag = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? a[p * lda + i] : a[i * lda + p];
          const bv = transB ? b[j * ldb + p] : b[p * ldb + j];
          s += av * bv; mag += Math.abs(av * bv);
        }
        for (const [name, c] of [['gemm_ref', c1], ['gemm_' + layout, c2]]) {
          if (!(Math.abs(c[i * ldc + j] - s) <= tol * mag + 1e-30)) problems.push(`${name} C[${i}, ${j}] = ${c[i * ldc + j]}, want ${s}`);
        }
      }
    }
    return { ok: problems.length === 0, detail: problems.slice(0, 3).join('; ') };
  } finally {
    A.dispose(); B.dispose(); C1.dispose(); C2.dispose();
  }
}

/**
 * Packs op(B) once with gemm_pack_b and multiplies with gemm_prepacked twice
 * (C = op(A)·op(B), then C += 0.5·op(A)·op(B), as a recurrent step reuses packed
 * weights); compares 1.5·op(A)·op(B) with the float64 reference.
 * @param {any} rt a Runtime
 */
export function runPrepackedCase(rt, layout, m, n, k) {
  const transA = layout[0] === 't', transB = layout[1] === 't';
  const next = rng(m * 7 + n * 5 + k * 3 + (transA ? 1 : 0) + (transB ? 2 : 0));
  const aData = Float32Array.from({ length: m * k }, next), bData = Float32Array.from({ length: k * n }, next);
  const A = rt.tensor(transA ? [k, m] : [m, k], aData);
  const B = rt.tensor(transB ? [n, k] : [k, n], bData);
  const P = rt.tensor([rt.kernels.gemm_packed_b_floats(k, n)]);
  const C = rt.tensor([m, n]);
  try {
    const kern = rt.kernels, lda = transA ? m : k, ldb = transB ? k : n;
    kern.gemm_pack_b(transB ? 1 : 0, k, n, B.offset, ldb, P.offset);
    kern.gemm_prepacked(transA ? 1 : 0, m, n, k, 1, A.offset, lda, P.offset, 0, C.offset, n, rt.gemmWork);
    kern.gemm_prepacked(transA ? 1 : 0, m, n, k, 0.5, A.offset, lda, P.offset, 1, C.offset, n, rt.gemmWork);
    const out = C.toArray();
    const tol = Math.max(8 * Math.sqrt(k), 16) * U * 2;
    const problems = [];
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0, mag = 0;
        for (let p = 0; p < k; p++) {
          const av = transA ? aData[p * m + i] : aData[i * k + p];
          const bv = transB ? bData[j * k + p] : bData[p * n + j];
          s += av * bv; mag += Math.abs(av * bv);
        }
        if (!(Math.abs(out[i * n + j] - 1.5 * s) <= tol * 1.5 * mag + 1e-30)) problems.push(`C[${i}, ${j}] = ${out[i * n + j]}, want ${1.5 * s}`);
      }
    }
    return { ok: problems.length === 0, detail: problems.slice(0, 3).join('; ') };
  } finally {
    A.dispose(); B.dispose(); P.dispose(); C.dispose();
  }
}

/** Prepacked cases: both op(A) layouts and both packings of B, across K and N blocks and tails. */
export const PREPACKED_CASES = ['nn', 'nt', 'tn', 'tt'].flatMap((layout) =>
  [[1, 9, 5], [3, 37, 13], [32, 1024, 256], [20, 300, 700], [7, 2100, 9]].map(([m, n, k]) => ({ layout, m, n, k })));

/** Stride cases: every layout, with tails. */
export const STRIDE_CASES = ['nn', 'nt', 'tn', 'tt'].flatMap((layout) =>
  [[1, 9, 5], [5, 11, 7], [13, 17, 300]].map(([m, n, k]) => ({ layout, m, n, k })));

/**
 * Runs every case on one runtime; for the runtimes without vitest.
 * @param {any} mnemo
 * @param {any} rt
 */
export function runAllGemmChecks(mnemo, rt) {
  let passed = 0, failed = 0;
  const failures = [];
  for (const c of gemmCases()) {
    const r = runGemmCase(mnemo, rt, c);
    if (r.ok) passed++; else { failed++; failures.push(`${caseName(c)}: ratio ${r.worst.toFixed(2)} ${r.detail}`); }
  }
  for (const s of STRIDE_CASES) {
    const r = runStrideCase(rt, s.layout, s.m, s.n, s.k);
    if (r.ok) passed++; else { failed++; failures.push(`strided ${s.layout} ${s.m}x${s.n}x${s.k}: ${r.detail}`); }
  }
  for (const s of PREPACKED_CASES) {
    const r = runPrepackedCase(rt, s.layout, s.m, s.n, s.k);
    if (r.ok) passed++; else { failed++; failures.push(`prepacked ${s.layout} ${s.m}x${s.n}x${s.k}: ${r.detail}`); }
  }
  return { build: rt.build, passed, failed, failures: failures.slice(0, 20) };
}
