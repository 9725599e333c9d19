/**
 * GEMM section: GFLOP/s (flops = 2·M·N·K) of mnemo's two wasm builds and of
 * TensorFlow.js's wasm backend on square and recurrent-model shapes, every
 * implementation on the same inputs, in the same process, interleaved.
 *
 * mnemo is measured through gemm() (what users call; its overhead over the raw
 * kernel is below the noise even at M=1) with C preallocated and beta=0.
 * tfjs-wasm is measured as tf.matMul(a, b, transposeA, transposeB) on
 * pre-created tensors followed by dataSync() and dispose() of the result (the
 * wasm backend computes synchronously; dataSync() adds a copy of C to JS).
 * Before timing, every implementation's C is checked against tfjs-wasm's.
 *
 * On A·B, tfjs-wasm runs XNNPACK's fully-connected operator, which it caches per
 * B tensor (tfjs-backend-wasm/src/cc/batch_mat_mul_impl.cc: "We assume b is the
 * weights and cache the xnn operator on it"), so B is packed once, at the first
 * call, and its timed calls pack nothing. mnemo's gemm() packs B on every call.
 * The row PACKED_IMPL measures what tfjs does: B packed once by gemm_pack_b
 * (as mnemo's recurrent layers do with W_hh), then gemm_prepacked per call.
 *
 * Layouts: 'nn' A (M,K)·B (K,N); 'nt' B stored (N,K); 'tn' A stored (K,M).
 */

import { init, gemm } from '../dist/src/node.js';
import { loadMnemoRuntimes, measureInterleaved, MT_IMPL, randomFloats, table, THREADS } from './harness.js';
import { loadTfjsWasm } from './tfjs.js';

/**
 * The cases, in print order. Cases of one `group` share their flop count and are
 * layouts (or forward/backward forms) of one product; their spread is reported.
 */
export const CASES = [
  ...[128, 256, 512, 1024].flatMap((s) => (s === 512 ? ['nn', 'nt', 'tn'] : ['nn'])
    .map((layout) => ({ group: `square ${s}`, m: s, n: s, k: s, layout }))),
  { group: 'recurrent h·U', m: 32, n: 512, k: 1024, layout: 'nn' },
  // Output projection h·Wᵀ with W (10000, 256), and its two backward products.
  { group: 'output projection', m: 32, n: 10000, k: 256, layout: 'nt', role: 'fwd y=h·Wᵀ' },
  { group: 'output projection', m: 32, n: 256, k: 10000, layout: 'nn', role: 'bwd dh=dY·W' },
  { group: 'output projection', m: 10000, n: 256, k: 32, layout: 'tn', role: 'bwd dW=dYᵀ·h' },
  // A whole BPTT window's input projection.
  ...['nn', 'nt', 'tn'].map((layout) => ({ group: 'BPTT window input projection', m: 1400, n: 1024, k: 256, layout })),
  // One next-token projection.
  ...['nt', 'nn'].map((layout) => ({ group: 'next-token projection', m: 1, n: 10000, k: 256, layout })),
];

/** mnemo-relaxed, one thread, with B packed once outside the timed call (A·B rows only; see above). */
export const PACKED_IMPL = 'mnemo-relaxed-packedB';

export const IMPLS = ['mnemo-simd', 'mnemo-relaxed', PACKED_IMPL, ...(MT_IMPL ? [MT_IMPL] : []), 'tfjs-wasm'];

/** Label that --filter matches (case-insensitive substring). */
export function caseLabel(c) {
  return `${c.group} ${c.m}x${c.n}x${c.k} ${c.layout}${c.role ? ' ' + c.role : ''}`;
}

/** Stored shapes of A and B for a layout. */
function storedShapes({ m, n, k, layout }) {
  return {
    a: layout === 'tn' ? [k, m] : [m, k],
    b: layout === 'nt' ? [n, k] : [k, n],
    transA: layout === 'tn',
    transB: layout === 'nt',
  };
}

/** Largest |x−ref| over largest |ref|. */
function relErr(x, ref) {
  let d = 0, r = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(x[i] - ref[i]));
    r = Math.max(r, Math.abs(ref[i]));
  }
  return r === 0 ? d : d / r;
}

/** Runs the selected cases; returns one row per (case, impl). */
export async function run(ctx) {
  const cases = CASES.filter((c) => caseLabel(c).toLowerCase().includes(ctx.filter.toLowerCase()));
  if (cases.length === 0) return [];
  const runtimes = await loadMnemoRuntimes(init);
  const { tf, info } = await loadTfjsWasm();
  ctx.meta.tfjs = info;
  ctx.log(`tfjs-wasm ${info.version}: ${info.wasmFile} (SIMD ${info.simd ? 'yes' : 'no'}, threads ${info.threads})`);

  const rows = [];
  for (const [ci, c] of cases.entries()) {
    const { a: aShape, b: bShape, transA, transB } = storedShapes(c);
    const aData = randomFloats(aShape[0] * aShape[1], 2 * ci + 1);
    const bData = randomFloats(bShape[0] * bShape[1], 2 * ci + 2);
    const flops = 2 * c.m * c.n * c.k;

    const ta = tf.tensor2d(aData, aShape), tb = tf.tensor2d(bData, bShape);
    const tfjsCall = () => {
      const y = tf.matMul(ta, tb, transA, transB);
      const out = y.dataSync();
      y.dispose();
      return out;
    };
    const fns = { 'tfjs-wasm': tfjsCall };
    const owned = [];
    const errs = {};
    const ref = tfjsCall();
    errs['tfjs-wasm'] = 0;
    for (const [name, rt] of Object.entries(runtimes)) {
      const A = rt.tensor(aShape, aData), B = rt.tensor(bShape, bData), C = rt.tensor([c.m, c.n]);
      owned.push(A, B, C);
      const opts = { transA, transB, alpha: 1, beta: 0 };
      fns[name] = () => gemm(A, B, C, opts);
      fns[name]();
      errs[name] = relErr(C.data, ref);
    }
    if (c.layout === 'nn') {
      const rt = runtimes['mnemo-relaxed'], k = rt.kernels;
      const A = rt.tensor(aShape, aData), B = rt.tensor(bShape, bData), C = rt.tensor([c.m, c.n]);
      const packed = rt.tensor([k.gemm_packed_b_floats(c.k, c.n)]);
      owned.push(A, B, C, packed);
      k.gemm_pack_b(0, c.k, c.n, B.offset, c.n, packed.offset);
      fns[PACKED_IMPL] = () => k.gemm_prepacked(0, c.m, c.n, c.k, 1, A.offset, c.k, packed.offset, 0, C.offset, c.n, rt.gemmWork);
      fns[PACKED_IMPL]();
      errs[PACKED_IMPL] = relErr(C.data, ref);
    }

    const order = IMPLS.filter((i) => i in fns);
    const timed = measureInterleaved(Object.fromEntries(order.map((i) => [i, fns[i]])), ctx.profile);
    for (const impl of order) {
      const t = timed[impl];
      rows.push({
        impl, m: c.m, n: c.n, k: c.k, layout: c.layout,
        gflops: flops / t.best / 1e9,
        msPerCall: t.best * 1e3,
        meanGflops: flops / t.mean / 1e9,
        samples: t.samples,
        relErr: errs[impl],
        group: c.group,
        ...(c.role ? { role: c.role } : {}),
      });
    }
    const best = Object.fromEntries(order.map((i) => [i, (flops / timed[i].best / 1e9).toFixed(2)]));
    ctx.log(`  ${caseLabel(c)}: ${order.map((i) => `${i} ${best[i]}`).join(', ')} GFLOP/s`);

    ta.dispose(); tb.dispose();
    for (const t of owned) t.dispose();
  }
  return rows;
}

/** SIMD128 peak in GFLOP/s of an implementation, or null when it does not apply. */
function peakOf(impl, ctx) {
  if (impl === 'mnemo-relaxed' || impl === PACKED_IMPL) return 16 * ctx.ghz;
  if (impl === MT_IMPL) return 16 * ctx.ghz * THREADS;
  if (impl === 'mnemo-simd') return 8 * ctx.ghz;
  if (impl === 'tfjs-wasm') return ctx.meta.tfjs?.simd ? 8 * ctx.ghz : null;
  return null;
}

/** Prints one table per group, the layout spread per group, and notes on anything suspicious. */
export function print(rows, ctx) {
  const out = [];
  out.push(`GEMM — GFLOP/s = 2·M·N·K / best time per call (best sample of ${ctx.profile.rounds} interleaved ` +
    `benchmark.js round(s)); mnemo-simd and mnemo-relaxed on one thread${MT_IMPL ? `, ${MT_IMPL} on ${THREADS}` : ''}.`);
  out.push(`SIMD128 peak at ${ctx.ghz} GHz (--ghz): plain SIMD 8 flops/cycle × GHz = ${(8 * ctx.ghz).toFixed(1)} GFLOP/s ` +
    `(mnemo-simd, tfjs-wasm); relaxed FMA 16 flops/cycle × GHz = ${(16 * ctx.ghz).toFixed(1)} GFLOP/s (mnemo-relaxed).`);
  if (ctx.meta.tfjs) {
    const t = ctx.meta.tfjs;
    out.push(`tfjs-wasm ${t.version}: ${t.wasmFile} (SIMD ${t.simd ? 'yes' : 'no'}, ${t.threads} thread(s)); ` +
      'timed as matMul + dataSync + dispose; on A·B it packs B once per B tensor (a cached XNNPACK operator).');
  }
  if (rows.some((r) => r.impl === PACKED_IMPL)) {
    out.push(`${PACKED_IMPL}: mnemo-relaxed with B packed once before timing (gemm_pack_b, then gemm_prepacked per call), ` +
      'as tfjs-wasm does on A·B; A·B rows only.');
  }
  const notes = [];
  const groups = [...new Set(rows.map((r) => r.group))];
  for (const g of groups) {
    const gr = rows.filter((r) => r.group === g);
    const keyOf = (r) => `${r.m}x${r.n}x${r.k} ${r.layout}`;
    const tfjsFor = (r) => gr.find((x) => x.impl === 'tfjs-wasm' && keyOf(x) === keyOf(r));
    out.push('', `== ${g}: ${[...new Set(gr.map((r) => `${r.m}x${r.n}x${r.k}`))].join(', ')} (MxNxK)`);
    const body = gr.map((r) => {
      const t = tfjsFor(r), peak = peakOf(r.impl, ctx);
      return [
        r.impl, r.layout, `${r.m}x${r.n}x${r.k}`, r.role ?? '',
        r.gflops.toFixed(2), r.msPerCall.toFixed(r.msPerCall < 1 ? 4 : 2),
        t ? (r.gflops / t.gflops).toFixed(2) + 'x' : '—',
        peak ? (100 * r.gflops / peak).toFixed(1) + '%' : '—',
      ];
    });
    out.push(table(['impl', 'layout', 'MxNxK', 'role', 'GFLOP/s', 'ms/call', 'vs tfjs', '% peak'], body));

    const variants = [...new Set(gr.map(keyOf))];
    if (variants.length > 1) {
      const spread = [];
      for (const impl of IMPLS) {
        const ir = gr.filter((r) => r.impl === impl);
        if (ir.length < 2) continue;
        const hi = ir.reduce((a, b) => (b.gflops > a.gflops ? b : a));
        const lo = ir.reduce((a, b) => (b.gflops < a.gflops ? b : a));
        const ratio = lo.gflops / hi.gflops;
        const ok = ratio >= 0.85;
        spread.push([impl, `${hi.layout} ${hi.gflops.toFixed(2)}`, `${lo.layout} ${lo.gflops.toFixed(2)}`,
          ratio.toFixed(2), ok ? 'ok' : 'MISS (>15% below best)']);
        if (!ok && impl.startsWith('mnemo')) {
          notes.push(`${g}: ${impl} layout ${lo.layout} (${lo.m}x${lo.n}x${lo.k}) is at ${ratio.toFixed(2)} of ${hi.layout}`);
        }
      }
      out.push('layout spread (target: worst ≥ 0.85 × best):');
      out.push(table(['impl', 'best layout', 'worst layout', 'worst/best', 'target'], spread));
    }
  }

  // Automatic notes on suspicious results.
  const key = (r) => `${r.m}x${r.n}x${r.k} ${r.layout}`;
  for (const r of rows.filter((x) => x.impl === 'mnemo-relaxed')) {
    const s = rows.find((x) => x.impl === 'mnemo-simd' && key(x) === key(r));
    if (s && r.gflops < 0.95 * s.gflops) {
      notes.push(`${key(r)}: mnemo-relaxed ${r.gflops.toFixed(2)} < mnemo-simd ${s.gflops.toFixed(2)} GFLOP/s`);
    }
  }
  const above = rows.filter((r) => peakOf(r.impl, ctx) && r.gflops > peakOf(r.impl, ctx));
  if (above.length) {
    const top = above.reduce((x, y) => (y.gflops / peakOf(y.impl, ctx) > x.gflops / peakOf(x.impl, ctx) ? y : x));
    notes.push(`${above.length} row(s) above the formula's peak (${[...new Set(above.map((r) => r.impl))].join(', ')}; ` +
      `max ${(100 * top.gflops / peakOf(top.impl, ctx)).toFixed(0)}%, ${top.impl} ${key(top)}): the core runs above ` +
      '--ghz or issues more vector FP ops per cycle than the formula assumes');
  }
  for (const r of rows) {
    if (r.relErr > 1e-4) notes.push(`${key(r)}: ${r.impl} differs from tfjs-wasm (max rel err ${r.relErr.toExponential(2)})`);
  }
  const worstErr = Math.max(0, ...rows.map((r) => r.relErr));
  out.push('', `check: max |C − C_tfjs| / max |C_tfjs| over all rows = ${worstErr.toExponential(2)}`);
  if (notes.length) out.push('notes:', ...notes.map((n) => `  - ${n}`));
  return out.join('\n');
}
