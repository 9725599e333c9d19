/**
 * Scaling section: training tokens/s of mnemo (relaxed build) and PyTorch at 1
 * thread and at every core, versus hidden size (128, 256, 512, 1024 at B = 32)
 * and batch size (1, 8, 32, 64 at H = 256), for LSTM and GRU. The rest of the
 * config is the char config (V = 96, E = 64, T = 64), where the recurrence
 * dominates the step; the step is the train section's (forward, backward,
 * clipGradNorm(5), Adam, state carried).
 *
 * Timing: mnemo, 1 warm-up step then steps for SLICE seconds, best step;
 * PyTorch, its runner (bench/pytorch.js), 2 warm-up steps then steps for the
 * same time, best step. Cases run one after the other, mnemo then PyTorch.
 */

import { init } from '../dist/src/node.js';
import { MT_IMPL, randomFloats, table, THREADS } from './harness.js';
import { mnemoTrainer } from './mnemo-models.js';
import { findTorch, runTorch } from './pytorch.js';

const BASE = { V: 96, E: 64, T: 64, L: 1 };
const HIDDEN = [128, 256, 512, 1024];
const BATCH = [1, 8, 32, 64];
const SLICE = { full: 3, quick: 0.3 };

function cases(filter) {
  const out = [];
  for (const cell of ['lstm', 'gru']) {
    for (const H of HIDDEN) out.push({ cell, H, B: 32 });
    for (const B of BATCH) if (B !== 32) out.push({ cell, H: 256, B });
  }
  return out.filter((c) => `scaling ${c.cell} H=${c.H} B=${c.B}`.toLowerCase().includes(filter.toLowerCase()));
}

function batchesFor(cfg, seed) {
  const { T, B, V } = cfg;
  const out = [];
  for (let k = 0; k < 4; k++) {
    const f = randomFloats(2 * T * B, seed + k);
    const ids = new Int32Array(T * B), targets = new Int32Array(T * B);
    for (let i = 0; i < T * B; i++) {
      ids[i] = Math.min(V - 1, Math.floor((f[i] + 1) * 0.5 * V));
      targets[i] = Math.min(V - 1, Math.floor((f[T * B + i] + 1) * 0.5 * V));
    }
    out.push({ ids, targets });
  }
  return out;
}

function timeMnemo(rt, cfg, seconds) {
  const model = mnemoTrainer(rt, cfg, { lr: 1e-3, clip: 5, seed: 1 });
  const batches = batchesFor(cfg, 77);
  let k = 0;
  model.step(batches[k++ % 4]);
  const times = [];
  const start = performance.now();
  do {
    const t0 = performance.now();
    model.step(batches[k++ % 4]);
    times.push((performance.now() - t0) / 1e3);
  } while ((performance.now() - start) / 1e3 < seconds || times.length < 2);
  model.dispose();
  return Math.min(...times);
}

export async function run(ctx) {
  const list = cases(ctx.filter);
  if (list.length === 0) return [];
  const seconds = ctx.meta.quick ? SLICE.quick : SLICE.full;
  const one = await init({ build: 'relaxed', numThreads: 1 });
  const many = MT_IMPL ? await init({ build: 'relaxed', numThreads: THREADS }) : null;
  if (many && await many.threadsReady !== THREADS) throw new Error(`${MT_IMPL}: the workers did not start`);
  const torch = findTorch();
  if (!torch.python) ctx.meta.torchNote = torch.note;
  else ctx.meta.torch = { python: torch.python, version: torch.version };
  const rows = [];
  for (const c of list) {
    const cfg = { ...BASE, cell: c.cell, H: c.H, B: c.B };
    const tokens = cfg.T * cfg.B;
    const row = { cell: c.cell, H: c.H, B: c.B, 'mnemo-1t': tokens / timeMnemo(one, cfg, seconds) };
    if (many) row[`mnemo-${THREADS}t`] = tokens / timeMnemo(many, cfg, seconds);
    const threads = [1, ...(THREADS > 1 ? [THREADS] : [])];
    const results = runTorch(threads.map((n) => ({ kind: 'train', ...cfg, threads: n, seconds })));
    results.forEach((r, i) => { if (r) row[`pytorch-${threads[i]}t`] = r.tokensPerSec; });
    rows.push(row);
    ctx.log(`  scaling ${c.cell} H=${c.H} B=${c.B}: ${Object.entries(row).slice(3).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} tokens/s`);
  }
  many?.close();
  return rows;
}

export function print(rows, ctx) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r).slice(3)))];
  const out = [`SCALING — training tokens/s (forward + backward + clip + Adam), V=${BASE.V}, E=${BASE.E}, T=${BASE.T}, ` +
    `one layer; mnemo relaxed build; best step of ${ctx.meta.quick ? SLICE.quick : SLICE.full} s per case.`];
  if (ctx.meta.torch) out.push(`PyTorch ${ctx.meta.torch.version} (${ctx.meta.torch.python}); on more than one core, the fastest of three splits between torch's threads and its BLAS's (bench/pytorch.js).`);
  if (ctx.meta.torchNote) out.push(ctx.meta.torchNote);
  const ratio = (a, b) => (a && b ? (a / b).toFixed(2) + 'x' : '—');
  const body = rows.map((r) => [r.cell, r.H, r.B, ...cols.map((k) => (r[k] === undefined ? '—' : r[k].toFixed(0))),
    ratio(r[`mnemo-${THREADS}t`], r['mnemo-1t']),
    ratio(r['mnemo-1t'], r['pytorch-1t']), ratio(r[`mnemo-${THREADS}t`], r[`pytorch-${THREADS}t`])]);
  out.push(table(['cell', 'H', 'B', ...cols, `mnemo ${THREADS}t/1t`, 'mnemo/pytorch 1t', `mnemo/pytorch ${THREADS}t`], body));
  return out.join('\n');
}
