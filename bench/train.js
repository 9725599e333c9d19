/**
 * Training and inference sections: whole language-model steps of mnemo beside
 * TensorFlow.js, on the same weights and the same token windows, in one process.
 *
 * train — one step = zeroGrad, Embedding → LSTM / GRU / 2-layer LSTM → Linear
 *   → softmax cross-entropy (mean over T·B tokens), backward through all of it,
 *   clipGradNorm(5), Adam; the final h/c become the next window's initial state
 *   (truncated BPTT: copied, no gradient flows into them). tokens/s = T·B / time
 *   of one step. Configs: char (V=96, E=64, H=256, T=64, B=32) and word
 *   (V=10000, E=256, H=256, T=35, B=20), the full softmax over V.
 *   Implementations:
 *     mnemo-simd, mnemo-relaxed  the two wasm builds (bench/mnemo-models.js)
 *     tfjs-wasm     tfjs-core ops on the wasm backend, stock gradients
 *     tfjs-wasm-xT  the same, but every matMul's gradient transposes its operand
 *                   explicitly first (tfjs-wasm's transposed matMul is ~15× slower)
 *     tfjs-cpu      tfjs-core ops on the cpu (plain JavaScript) backend, stock gradients
 *     pytorch-1t, pytorch-Nt  PyTorch in its own process (bench/pytorch.js), when installed
 *     brain.js      char rows only, when installed: its own recurrent API (bench/brainjs.js)
 *   (bench/tfjs-models.js: layers written with ops, the window's input projection
 *   hoisted out of the time loop, clipping written out, tf.train.adam.)
 *   Timing: interleaved rounds; in each round mnemo runs steps for a time slice
 *   and each tfjs implementation one step, within a per-case time budget: tfjs
 *   figures rest on 1–3 steps (the column n says how many; '*' marks a figure
 *   that is the warm-up step itself because one step exceeded the budget).
 *   Also: the loss of the first two steps of every implementation (same weights
 *   and windows, so they must agree), and for the word LSTM where mnemo's step
 *   time goes, phase by phase.
 *
 * infer — next-token latency, word config LSTM, batch 1, eval mode, from the
 *   carried state: Embedding (1, 1, E) → one LSTM step → Linear (1, V) →
 *   log-softmax over V. benchmark.js, interleaved, best sample.
 */

import { init } from '../dist/src/node.js';
import { loadMnemoRuntimes, measureInterleaved, MT_IMPL, randomFloats, table, THREADS } from './harness.js';
import { findTorch, runTorch } from './pytorch.js';
import { brainTrain, findBrain } from './brainjs.js';
import { PHASES, mnemoPredictor, mnemoTrainer } from './mnemo-models.js';
import { tfjsPredictor, tfjsTrainer } from './tfjs-models.js';
import { loadTfjsBoth, useBackend } from './tfjs.js';

export const CONFIGS = {
  char: { V: 96, E: 64, H: 256, T: 64, B: 32 },
  word: { V: 10000, E: 256, H: 256, T: 35, B: 20 },
};

export const CELLS = [
  { name: 'lstm', cell: 'lstm', L: 1 },
  { name: 'gru', cell: 'gru', L: 1 },
  { name: 'lstm-2layer', cell: 'lstm', L: 2 },
];

/** mnemo's rows: both builds on one thread, the relaxed build on every core. */
export const MNEMO_IMPLS = ['mnemo-simd', 'mnemo-relaxed', ...(MT_IMPL ? [MT_IMPL] : [])];
/** PyTorch's rows (bench/pytorch.js; skipped with a note without torch): one thread and every core. */
export const TORCH_IMPLS = ['pytorch-1t', ...(THREADS > 1 ? [`pytorch-${THREADS}t`] : [])];
export const TRAIN_IMPLS = [...MNEMO_IMPLS, 'tfjs-wasm', 'tfjs-wasm-xT', 'tfjs-cpu'];
export const INFER_IMPLS = [...MNEMO_IMPLS, 'tfjs-wasm', 'tfjs-cpu'];

/** Threads of an implementation's row. */
const threadsOf = (impl) => (impl === MT_IMPL || impl === `pytorch-${THREADS}t` ? THREADS : 1);

/** Seconds of brain.js strings timed per char case (after one warm-up string). */
const BRAIN_SECONDS = { full: 4, quick: 0.3 };

/**
 * brain.js's row for a char case (bench/brainjs.js: batch 1, no carried state,
 * its own update; see there), or null with ctx.meta.brainNote set when the
 * package is not installed (it is not a dependency: npm install --no-save brain.js@2.0.0-beta.24).
 */
function brainRow(ctx, c, cfg) {
  const b = findBrain();
  if (!b.brain) {
    ctx.meta.brainNote = `${b.note} (npm install --no-save brain.js@2.0.0-beta.24 adds its char rows)`;
    return null;
  }
  ctx.meta.brain = { version: b.version };
  const r = brainTrain({ cell: cfg.cell, L: cfg.L, H: cfg.H, T: cfg.T }, ctx.meta.quick ? BRAIN_SECONDS.quick : BRAIN_SECONDS.full);
  const flops = 3 * forwardFlops({ ...cfg, E: r.vocabSize, V: r.vocabSize }, cfg.T);
  return {
    impl: 'brain.js', config: c.config, cell: c.cell.name, tokensPerSec: r.tokensPerSec, msPerStep: r.msPerStep,
    medianMsPerStep: r.medianMsPerStep, samples: r.samples, fromWarmup: false, warmupMs: NaN,
    gflops: flops / (r.msPerStep / 1e3) / 1e9, loss1: null, loss2: null,
    V: r.vocabSize, E: r.vocabSize, H: cfg.H, T: cfg.T, B: 1, layers: cfg.L,
  };
}

/** Seconds of PyTorch steps timed per case (after 2 warm-up steps). */
const TORCH_SECONDS = { full: 6, quick: 0.5 };

/** 'torch 2 / BLAS 2 4,101, torch 1 / BLAS 2 16,922, …': every split's figure of a PyTorch result. */
const splitsText = (splits, key) => splits.map((x) => `${x.split} ${key === 'msPerToken' ? x[key].toFixed(3) + ' ms' : Math.round(x[key]).toLocaleString('en-US')}`).join(', ');

/** PyTorch rows for `tasks` (one per TORCH_IMPLS entry), or [] with ctx.meta.torchNote set. */
function torchRows(ctx, task) {
  const t = findTorch();
  if (!t.python) {
    ctx.meta.torchNote = t.note;
    return [];
  }
  ctx.meta.torch = { python: t.python, version: t.version };
  const seconds = ctx.meta.quick ? TORCH_SECONDS.quick : TORCH_SECONDS.full;
  const results = runTorch(TORCH_IMPLS.map((impl) => ({ ...task, threads: threadsOf(impl), seconds })));
  return results.map((r, i) => ({ impl: TORCH_IMPLS[i], ...r }));
}

const LR = 1e-3;
const CLIP = 5;
const SEED = 1;
const BATCHES = 8;

/** Timing of training steps: mnemo time slice per round (s), tfjs budget per case (s) and step cap. */
const TRAIN_PROFILES = {
  full: { rounds: 6, slice: 0.5, tfjsBudget: 16, tfjsMaxSteps: 2, phaseSteps: 8 },
  quick: { rounds: 1, slice: 0, tfjsBudget: 0, tfjsMaxSteps: 0, phaseSteps: 2 },
};

const tfjsBackendOf = (impl) => (impl === 'tfjs-cpu' ? 'cpu' : 'wasm');

/** The full model config of a case. */
function modelConfig(config, cell) {
  return { ...CONFIGS[config], cell: cell.cell, L: cell.L, gates: cell.cell === 'gru' ? 3 : 4 };
}

/** Multiply-add flops of one forward pass over N = T·B tokens (GEMMs only; ×3 for forward + backward). */
function forwardFlops(cfg, tokens) {
  const G = cfg.gates * cfg.H;
  let f = 2 * tokens * cfg.H * cfg.V;
  for (let l = 0; l < cfg.L; l++) f += 2 * tokens * ((l === 0 ? cfg.E : cfg.H) + cfg.H) * G;
  return f;
}

/** Number of parameters of the model. */
function paramCount(cfg) {
  const G = cfg.gates * cfg.H;
  let n = cfg.V * cfg.E + cfg.V * cfg.H + cfg.V;
  for (let l = 0; l < cfg.L; l++) n += G * ((l === 0 ? cfg.E : cfg.H) + cfg.H) + 2 * G;
  return n;
}

/** Seeded integers in [0, n). */
function randomInts(count, n, seed) {
  const f = randomFloats(count, seed);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.min(n - 1, Math.floor((f[i] + 1) * 0.5 * n));
  return out;
}

/**
 * `count` consecutive windows of B parallel token streams, as an LM batcher cuts
 * them: ids[t·B + b] = stream_b[k·T + t], targets = the next token of the stream.
 * `tokenAt(b, i)` gives token i of stream b (default: seeded random ids).
 */
function makeBatches(cfg, count, seed, tokenAt) {
  const { T, B, V } = cfg;
  const len = count * T + 1;
  const streams = tokenAt ? null : randomInts(B * len, V, seed);
  const tok = tokenAt ?? ((b, i) => streams[b * len + i]);
  const batches = [];
  for (let k = 0; k < count; k++) {
    const ids = new Int32Array(T * B), targets = new Int32Array(T * B);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        ids[t * B + b] = tok(b, k * T + t);
        targets[t * B + b] = tok(b, k * T + t + 1);
      }
    }
    batches.push({ ids, targets });
  }
  return batches;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Loads the mnemo runtimes (both builds, one thread; relaxed on every core) and checks each. */
function loadRuntimes() {
  return loadMnemoRuntimes(init);
}

/** Loads tfjs (wasm and cpu backends, gradients registered) once per process. */
let tfjsPromise = null;
function loadTfjs(ctx) {
  tfjsPromise ??= loadTfjsBoth().then((r) => {
    ctx.log(`tfjs ${r.info.version}: wasm ${r.info.wasmFile} (SIMD ${r.info.simd ? 'yes' : 'no'}, threads ${r.info.threads}) and cpu backends`);
    return r;
  });
  return tfjsPromise.then((r) => {
    ctx.meta.tfjs = r.info;
    return r;
  });
}

/**
 * Builds every implementation of one training case on the same weights.
 * Returns { [impl]: { step(): loss, dispose(), losses: [] } }; step() takes the
 * next window (each implementation walks the same window sequence).
 */
function buildTrainers(cfg, runtimes, tf, batches, impls) {
  const out = {};
  let weights = null;
  const wrap = (impl, model, kind) => {
    const losses = [];
    let k = 0;
    out[impl] = {
      kind,
      losses,
      step() {
        const loss = model.step(batches[k++ % batches.length]);
        if (losses.length < 2) losses.push(loss);
        return loss;
      },
      dispose: () => model.dispose(),
      model,
    };
  };
  for (const impl of MNEMO_IMPLS) {
    if (!impls.includes(impl)) continue;
    const model = mnemoTrainer(runtimes[impl], cfg, { lr: LR, clip: CLIP, seed: SEED, weights: weights ?? undefined });
    weights ??= model.weights();
    wrap(impl, model, 'mnemo');
  }
  if (!weights) {
    const m = mnemoTrainer(runtimes['mnemo-simd'], cfg, { lr: LR, clip: CLIP, seed: SEED });
    weights = m.weights();
    m.dispose();
  }
  for (const impl of ['tfjs-wasm', 'tfjs-wasm-xT', 'tfjs-cpu']) {
    if (!impls.includes(impl)) continue;
    useBackend(tf, tfjsBackendOf(impl));
    const model = tfjsTrainer(tf, cfg, weights, { lr: LR, clip: CLIP, eps: 1e-8, explicitTranspose: impl === 'tfjs-wasm-xT' });
    wrap(impl, model, 'tfjs');
  }
  return out;
}

/**
 * Times the training steps of `trainers`, interleaved. mnemo: 2 warm-up steps,
 * then per round steps for `slice` seconds (at least one). tfjs: 1 warm-up step,
 * then per round one step while under the case budget and the step cap; when
 * the warm-up alone exceeds the budget its time is the (only) sample.
 * Returns { [impl]: { times: seconds[], fromWarmup } }.
 */
function timeTraining(trainers, tf, tp) {
  const names = Object.keys(trainers);
  const res = Object.fromEntries(names.map((n) => [n, { times: [], fromWarmup: false, warmup: 0, spent: 0 }]));
  const run = (name) => {
    if (trainers[name].kind === 'tfjs') useBackend(tf, tfjsBackendOf(name));
    const t0 = performance.now();
    trainers[name].step();
    return (performance.now() - t0) / 1e3;
  };
  for (const name of names) {
    const r = res[name];
    r.warmup = run(name);
    if (trainers[name].kind === 'mnemo') r.warmup += run(name);
  }
  for (let round = 0; round < tp.rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length];
      const r = res[name];
      if (trainers[name].kind === 'mnemo') {
        const t0 = performance.now();
        do r.times.push(run(name)); while ((performance.now() - t0) / 1e3 < tp.slice);
      } else {
        const est = Math.max(r.warmup, ...r.times);
        if (r.times.length < tp.tfjsMaxSteps && r.warmup + r.spent + est <= tp.tfjsBudget) {
          const t = run(name);
          r.times.push(t);
          r.spent += t;
        }
      }
    }
  }
  for (const name of names) {
    const r = res[name];
    if (r.times.length === 0) {
      r.times.push(r.warmup);
      r.fromWarmup = true;
    }
  }
  return res;
}

/**
 * Where mnemo's time goes in one training step: `steps` instrumented steps
 * per build, builds alternating; per phase the best and the median time. The
 * shares are of the sum of the per-phase bests (the least disturbed run of
 * each phase, as elsewhere in the bench).
 */
function phaseBreakdown(trainers, cfg, steps) {
  const impls = Object.keys(trainers).filter((n) => trainers[n].kind === 'mnemo');
  const n = PHASES.length;
  const per = Object.fromEntries(impls.map((i) => [i, PHASES.map(() => [])]));
  const totals = Object.fromEntries(impls.map((i) => [i, []]));
  const times = new Float64Array(n + 1);
  for (let s = 0; s < steps; s++) {
    for (const impl of impls) {
      trainers[impl].model.step(trainers[impl].nextBatch(), times);
      let prev = times[n];
      for (let p = 0; p < n; p++) {
        per[impl][p].push((times[p] - prev) / 1e3);
        prev = times[p];
      }
      totals[impl].push((times[n - 1] - times[n]) / 1e3);
    }
  }
  const tokens = cfg.T * cfg.B;
  const fwd = forwardFlops({ ...cfg, V: 0 }, tokens); // recurrent layers only
  const head = 2 * tokens * cfg.H * cfg.V;
  const P = paramCount(cfg);
  const work = {
    'zeroGrad': { bytes: 4 * P },
    'rnn fwd': { flops: fwd },
    'linear fwd': { flops: head },
    'linear bwd': { flops: 2 * head },
    'rnn bwd': { flops: 2 * fwd },
    'clipGradNorm': { bytes: 4 * P },
    'adam': { bytes: 28 * P },
  };
  const out = [];
  for (const impl of impls) {
    const medians = per[impl].map(median);
    const bests = per[impl].map((xs) => Math.min(...xs));
    const sum = bests.reduce((a, b) => a + b, 0);
    PHASES.forEach((phase, p) => {
      out.push({
        impl, phase, msBest: 1e3 * bests[p], msMedian: 1e3 * medians[p], share: bests[p] / sum,
        ...(work[phase]?.flops ? { gflops: work[phase].flops / bests[p] / 1e9 } : {}),
        ...(work[phase]?.bytes ? { gbPerSec: work[phase].bytes / bests[p] / 1e9 } : {}),
      });
    });
    out.push({ impl, phase: 'sum of phase bests', msBest: 1e3 * sum, msMedian: NaN, share: 1 });
    out.push({ impl, phase: 'whole instrumented step', msBest: 1e3 * Math.min(...totals[impl]), msMedian: 1e3 * median(totals[impl]), share: 1 });
  }
  return out;
}

/** The train section. */
export const train = {
  async run(ctx) {
    const tp = ctx.meta.quick ? TRAIN_PROFILES.quick : TRAIN_PROFILES.full;
    const cases = [];
    for (const config of Object.keys(CONFIGS)) {
      for (const cell of CELLS) {
        const label = `${config} ${cell.name}`;
        if (label.toLowerCase().includes(ctx.filter.toLowerCase())) cases.push({ config, cell, label });
      }
    }
    if (cases.length === 0) return [];
    const runtimes = await loadRuntimes();
    const { tf } = await loadTfjs(ctx);
    ctx.meta.train = { lr: LR, clip: CLIP, optimizer: 'Adam(betas 0.9, 0.999; eps 1e-8)', timing: tp };
    const rows = [];
    const phases = [];
    for (const c of cases) {
      const cfg = modelConfig(c.config, c.cell);
      const batches = makeBatches(cfg, BATCHES, 1000 + cases.indexOf(c));
      const trainers = buildTrainers(cfg, runtimes, tf, batches, TRAIN_IMPLS);
      const t0 = performance.now();
      const timed = timeTraining(trainers, tf, tp);
      const tokens = cfg.T * cfg.B, flops = 3 * forwardFlops(cfg, tokens);
      for (const impl of TRAIN_IMPLS.filter((i) => i in trainers)) {
        const r = timed[impl];
        const best = Math.min(...r.times);
        rows.push({
          impl, config: c.config, cell: c.cell.name, tokensPerSec: tokens / best,
          msPerStep: best * 1e3, medianMsPerStep: median(r.times) * 1e3, samples: r.times.length,
          fromWarmup: r.fromWarmup, warmupMs: r.warmup * 1e3, gflops: flops / best / 1e9,
          loss1: trainers[impl].losses[0], loss2: trainers[impl].losses[1] ?? null,
          V: cfg.V, E: cfg.E, H: cfg.H, T: cfg.T, B: cfg.B, layers: cfg.L,
        });
      }
      for (const r of torchRows(ctx, { kind: 'train', cell: c.cell.cell, L: cfg.L, V: cfg.V, E: cfg.E, H: cfg.H, T: cfg.T, B: cfg.B })) {
        rows.push({
          impl: r.impl, config: c.config, cell: c.cell.name, tokensPerSec: r.tokensPerSec, msPerStep: r.msPerStep,
          medianMsPerStep: r.medianMsPerStep, samples: r.samples, fromWarmup: false, warmupMs: NaN,
          gflops: flops / (r.msPerStep / 1e3) / 1e9, loss1: null, loss2: null,
          V: cfg.V, E: cfg.E, H: cfg.H, T: cfg.T, B: cfg.B, layers: cfg.L, split: r.split, splits: r.splits,
        });
      }
      if (c.config === 'char') {
        const b = brainRow(ctx, c, cfg);
        if (b) rows.push(b);
      }
      const tps = (i) => rows.find((r) => r.impl === i && r.config === c.config && r.cell === c.cell.name)?.tokensPerSec;
      ctx.log(`  train ${c.label}: ${[...TRAIN_IMPLS, ...TORCH_IMPLS, ...(c.config === 'char' && ctx.meta.brain ? ['brain.js'] : [])].map((i) => `${i} ${tps(i)?.toFixed(0)}`).join(', ')} tokens/s ` +
        `(${((performance.now() - t0) / 1e3).toFixed(0)} s)`);
      if (c.config === 'word' && c.cell.name === 'lstm') {
        for (const impl of MNEMO_IMPLS) {
          let k = 0;
          trainers[impl].nextBatch = () => batches[k++ % batches.length];
        }
        phases.push({ label: c.label, cfg, rows: phaseBreakdown(trainers, cfg, tp.phaseSteps) });
      }
      for (const t of Object.values(trainers)) t.dispose();
    }
    ctx.meta.trainPhases = phases;
    return rows;
  },

  print(rows, ctx) {
    const tp = ctx.meta.train?.timing ?? TRAIN_PROFILES.full;
    const out = [];
    out.push('TRAIN — one step = forward + backward + clipGradNorm(5) + Adam, state carried (truncated BPTT); ' +
      'tokens/s = T·B / best step time.');
    out.push(`mnemo: best step of ${tp.rounds} interleaved rounds (each ≥1 step, ${tp.slice} s) after 2 warm-up steps. ` +
      `tfjs: FEW SAMPLES — 1 warm-up step, then ≤${tp.tfjsMaxSteps} timed step(s) within ${tp.tfjsBudget} s per case ` +
      '(n = steps timed; * = the warm-up step is the only sample).');
    out.push('tfjs-wasm / tfjs-cpu: stock tfjs gradients; tfjs-wasm-xT: matMul gradients with explicit tf.transpose ' +
      '(tfjs-wasm multiplies transposed operands ~15× slower). All tfjs: clipping written out with ops; ' +
      'embedding gradient via tf.scatterND (wasm has no UnsortedSegmentSum).');
    const notes = [];
    for (const config of [...new Set(rows.map((r) => r.config))]) {
      const cr = rows.filter((r) => r.config === config);
      const c = CONFIGS[config];
      out.push('', `== train ${config}: V=${c.V}, E=${c.E}, H=${c.H}, T=${c.T}, B=${c.B} (${c.T * c.B} tokens/step)`);
      const body = [];
      for (const cell of [...new Set(cr.map((r) => r.cell))]) {
        const rr = cr.filter((r) => r.cell === cell);
        const ref = (i) => rr.find((r) => r.impl === i);
        for (const r of rr) {
          const ratio = (i) => (ref(i) && r.impl.startsWith('mnemo') ? (r.tokensPerSec / ref(i).tokensPerSec).toFixed(2) + 'x' : '—');
          const torch = `pytorch-${threadsOf(r.impl)}t`;
          body.push([cell, r.impl, threadsOf(r.impl), r.tokensPerSec.toFixed(r.tokensPerSec < 100 ? 1 : 0), r.msPerStep.toFixed(0),
            `${r.samples}${r.fromWarmup ? '*' : ''}`, r.gflops.toFixed(2), ratio(torch), ratio('tfjs-wasm'), ratio('tfjs-wasm-xT'), ratio('tfjs-cpu'), ratio('brain.js')]);
        }
        const mt = ref(MT_IMPL), one = ref('mnemo-relaxed');
        if (mt && one) notes.push(`${config} ${cell}: mnemo-relaxed ${THREADS} threads / 1 thread = ${(mt.tokensPerSec / one.tokensPerSec).toFixed(2)}x`);
        const pt = ref(`pytorch-${THREADS}t`), p1 = ref('pytorch-1t');
        if (pt && p1) notes.push(`${config} ${cell}: pytorch ${THREADS} threads / 1 thread = ${(pt.tokensPerSec / p1.tokensPerSec).toFixed(2)}x`);
        if (pt?.splits?.length > 1) notes.push(`${config} ${cell}: pytorch-${THREADS}t is ${pt.split}, the fastest of ${splitsText(pt.splits, 'tokensPerSec')}`);
        // Loss agreement: same weights and windows, so the first two losses must agree.
        const base = ref('mnemo-simd') ?? rr[0];
        for (const k of ['loss1', 'loss2']) {
          let worst = 0, who = '';
          for (const r of rr) {
            if (r[k] === null || base[k] === null) continue;
            const d = Math.abs(r[k] - base[k]) / Math.abs(base[k]);
            if (d > worst) { worst = d; who = r.impl; }
          }
          if (worst > 1e-4) notes.push(`${config} ${cell}: step-${k.slice(-1)} loss of ${who} differs from ${base.impl} by ${worst.toExponential(1)} (relative)`);
        }
      }
      out.push(table(['cell', 'impl', 'threads', 'tokens/s', 'ms/step', 'n', 'GFLOP/s', 'vs pytorch (same threads)', 'vs tfjs-wasm', 'vs tfjs-wasm-xT', 'vs tfjs-cpu', 'vs brain.js'], body));
      out.push('loss of steps 1 and 2 (same weights, same windows): ' + [...new Set(cr.map((r) => r.cell))].map((cell) => {
        const rr = cr.filter((r) => r.cell === cell);
        const fmt = (k) => [...new Set(rr.filter((r) => r[k] !== null).map((r) => r[k].toFixed(5)))].join('/');
        return `${cell} ${fmt('loss1')} → ${fmt('loss2')}`;
      }).join('; '));
    }
    out.push('(GFLOP/s counts the GEMMs only: 3 × forward flops per step.)');
    if (ctx.meta.torch) out.push(`PyTorch ${ctx.meta.torch.version} (${ctx.meta.torch.python}, bench/pytorch_bench.py): the same configs ` +
      `and step (random init and windows; its own process, run right after each case), best step of ${TORCH_SECONDS[ctx.meta.quick ? 'quick' : 'full']} s; ` +
      `on more than one core, the fastest of three splits between torch's threads and its BLAS's (bench/pytorch.js).`);
    if (ctx.meta.torchNote) out.push(ctx.meta.torchNote);
    if (ctx.meta.brain) out.push(`brain.js ${ctx.meta.brain.version} (char rows only; bench/brainjs.js): brain.recurrent.LSTM / GRU with the same hidden ` +
      'layers, T = 64, best of 4 s. Not the same step: batch 1, no carried state, a V × V input matrix instead of V × E, ' +
      'RMSProp with element-wise clipping instead of Adam with global-norm clipping; tokens/s = characters learnt per second.');
    if (ctx.meta.brainNote) out.push(ctx.meta.brainNote);
    for (const ph of ctx.meta.trainPhases ?? []) {
      out.push('', `== where mnemo's time goes: ${ph.label} step, ${tp.phaseSteps} instrumented steps per build ` +
        '(performance.now() between the phases of real steps); share = best of the phase / sum of the phase bests; ' +
        'GFLOP/s (GEMMs) or GB/s (bytes the phase must move) from the best');
      const body = ph.rows.map((r) => [r.impl, r.phase, Number.isNaN(r.msMedian) ? '' : r.msMedian.toFixed(2), r.msBest.toFixed(2),
        r.share === 1 ? '' : (100 * r.share).toFixed(1) + '%',
        r.gflops ? r.gflops.toFixed(1) : r.gbPerSec ? r.gbPerSec.toFixed(1) + ' GB/s' : '']);
      out.push(table(['impl', 'phase', 'median ms', 'best ms', 'share', 'GFLOP/s or GB/s'], body));
      for (const impl of [...new Set(ph.rows.map((r) => r.impl))]) {
        const r = (p) => ph.rows.find((x) => x.impl === impl && x.phase === p);
        for (const p of ['zeroGrad', 'clipGradNorm', 'state copy', 'embedding fwd']) {
          if (r(p) && r(p).share > 0.05) notes.push(`${impl}: '${p}' takes ${(100 * r(p).share).toFixed(0)}% of the word LSTM step`);
        }
        if (r('adam')?.share > 0.1) notes.push(`${impl}: 'adam' takes ${(100 * r('adam').share).toFixed(0)}% of the word LSTM step`);
        for (const p of ['rnn fwd', 'rnn bwd', 'linear fwd', 'linear bwd']) {
          if (r(p)?.gflops < 12) notes.push(`${impl}: '${p}' runs at ${r(p).gflops.toFixed(1)} GFLOP/s (GEMM-bound work)`);
        }
      }
    }
    const slowRelaxed = rows.filter((r) => r.impl === 'mnemo-relaxed').filter((r) => {
      const s = rows.find((x) => x.impl === 'mnemo-simd' && x.config === r.config && x.cell === r.cell);
      return s && r.tokensPerSec < 0.95 * s.tokensPerSec;
    });
    for (const r of slowRelaxed) notes.push(`${r.config} ${r.cell}: mnemo-relaxed slower than mnemo-simd`);
    if (notes.length) out.push('', 'notes:', ...notes.map((n) => `  - ${n}`));
    return out.join('\n');
  },

  /** --check: the loss must fall over 20 steps on a repeating sequence (mnemo; tfjs-wasm-xT too on char lstm, char gru, word lstm). */
  async check(ctx) {
    const runtimes = await loadRuntimes();
    const { tf } = await loadTfjs(ctx);
    const steps = 20, lr = 1e-2;
    const out = [`TRAIN CHECK — loss over ${steps} steps on a repeating sequence (period 17 per stream, streams offset), ` +
      `Adam lr ${lr}, clip ${CLIP}, state carried; the same weights for every implementation`];
    const result = [];
    for (const config of Object.keys(CONFIGS)) {
      for (const cell of CELLS) {
        const label = `${config} ${cell.name}`;
        if (!label.toLowerCase().includes(ctx.filter.toLowerCase())) continue;
        const cfg = modelConfig(config, cell);
        const period = 17;
        const seq = randomInts(period, cfg.V, 77);
        const batches = makeBatches(cfg, 4, 0, (b, i) => seq[(i + 3 * b) % period]);
        const withTfjs = ['char lstm', 'char gru', 'word lstm'].includes(label);
        const impls = ['mnemo-simd', 'mnemo-relaxed', ...(withTfjs ? ['tfjs-wasm-xT'] : [])];
        const trainers = buildTrainers({ ...cfg }, runtimes, tf, batches, impls);
        for (const impl of impls) {
          const t = trainers[impl];
          if (t.kind === 'tfjs') useBackend(tf, 'wasm');
          const losses = [];
          for (let s = 0; s < steps; s++) losses.push(t.step());
          t.dispose();
          const falls = losses[steps - 1] < 0.5 * losses[0] && losses.every(Number.isFinite);
          result.push({ impl, config, cell: cell.name, losses, falls });
          out.push(`${label.padEnd(16)} ${impl.padEnd(13)} ${[0, 1, 2, 4, 9, 14, 19].map((s) => `${s + 1}:${losses[s].toFixed(3)}`).join(' ')}` +
            `  ${falls ? 'falls' : 'DOES NOT FALL'}`);
        }
        const curves = result.filter((r) => r.config === config && r.cell === cell.name);
        let worst = 0;
        for (const r of curves.slice(1)) r.losses.forEach((l, s) => { worst = Math.max(worst, Math.abs(l - curves[0].losses[s]) / curves[0].losses[s]); });
        out.push(`${''.padEnd(16)} largest relative difference between the curves above: ${worst.toExponential(1)}`);
      }
    }
    return { text: out.join('\n'), rows: result };
  },
};

/** The infer section. */
export const infer = {
  async run(ctx) {
    const label = 'infer word lstm';
    if (!label.includes(ctx.filter.toLowerCase())) return [];
    const runtimes = await loadRuntimes();
    const { tf } = await loadTfjs(ctx);
    const cfg = { ...modelConfig('word', CELLS[0]) };
    const seedModel = mnemoTrainer(runtimes['mnemo-simd'], cfg, { lr: LR, clip: CLIP, seed: SEED });
    const weights = seedModel.weights();
    seedModel.dispose();
    const predictors = {};
    for (const impl of INFER_IMPLS) {
      if (impl.startsWith('mnemo')) predictors[impl] = mnemoPredictor(runtimes[impl], cfg, { seed: SEED, weights });
      else {
        useBackend(tf, tfjsBackendOf(impl));
        predictors[impl] = tfjsPredictor(tf, cfg, weights);
      }
    }
    const before = (impl) => { if (impl.startsWith('tfjs')) useBackend(tf, tfjsBackendOf(impl)); };
    // Agreement: the same 6 tokens through every implementation.
    const ids = randomInts(4096, cfg.V, 4242);
    const errs = {};
    const ref = [];
    for (const impl of INFER_IMPLS) {
      before(impl);
      let worst = 0;
      for (let i = 0; i < 6; i++) {
        const lp = Float32Array.from(predictors[impl].next(ids[i]));
        if (impl === INFER_IMPLS[0]) ref.push(lp);
        else for (let j = 0; j < lp.length; j++) worst = Math.max(worst, Math.abs(lp[j] - ref[i][j]));
      }
      errs[impl] = worst;
    }
    const fns = {};
    for (const impl of INFER_IMPLS) {
      let i = 0;
      const p = predictors[impl];
      fns[impl] = () => p.next(ids[i++ & 4095]);
    }
    const timed = measureInterleaved(fns, ctx.profile, { before });
    const flops = 2 * (cfg.E + cfg.H) * 4 * cfg.H + 2 * cfg.H * cfg.V;
    const weightBytes = 4 * ((cfg.E + cfg.H) * 4 * cfg.H + cfg.H * cfg.V);
    const rows = INFER_IMPLS.map((impl) => ({
      impl, config: 'word', cell: 'lstm', msPerToken: timed[impl].best * 1e3, meanMsPerToken: timed[impl].mean * 1e3,
      samples: timed[impl].samples, tokensPerSec: 1 / timed[impl].best, gflops: flops / timed[impl].best / 1e9,
      weightGBps: weightBytes / timed[impl].best / 1e9, maxAbsLogpDiff: errs[impl], V: cfg.V, E: cfg.E, H: cfg.H,
    }));
    for (const r of torchRows(ctx, { kind: 'infer', cell: 'lstm', L: 1, V: cfg.V, E: cfg.E, H: cfg.H })) {
      rows.push({
        impl: r.impl, config: 'word', cell: 'lstm', msPerToken: r.msPerToken, meanMsPerToken: r.medianMsPerToken,
        samples: r.samples, tokensPerSec: 1e3 / r.msPerToken, gflops: flops / (r.msPerToken / 1e3) / 1e9,
        weightGBps: weightBytes / (r.msPerToken / 1e3) / 1e9, maxAbsLogpDiff: NaN, V: cfg.V, E: cfg.E, H: cfg.H, split: r.split, splits: r.splits,
      });
    }
    ctx.log(`  ${label}: ${rows.map((r) => `${r.impl} ${r.msPerToken.toFixed(3)}`).join(', ')} ms/token`);
    for (const p of Object.values(predictors)) p.dispose();
    return rows;
  },

  print(rows, ctx) {
    const c = CONFIGS.word;
    const out = [];
    out.push(`INFER — next-token latency, word LSTM (V=${c.V}, E=${c.E}, H=${c.H}), batch 1, eval mode, state carried: ` +
      'Embedding → 1 LSTM step → Linear (1, V) → log-softmax over V.');
    out.push(`best sample of ${ctx.profile.rounds} interleaved benchmark.js round(s). tfjs: tf.tidy per token + dataSync() ` +
      'of the log-probs; mnemo: log-probs stay in its memory (a view).');
    const ref = (i) => rows.find((r) => r.impl === i);
    const body = rows.map((r) => [r.impl, threadsOf(r.impl), r.msPerToken.toFixed(3), r.meanMsPerToken.toFixed(3), r.tokensPerSec.toFixed(0),
      r.impl.startsWith('mnemo') && ref(`pytorch-${threadsOf(r.impl)}t`) ? (ref(`pytorch-${threadsOf(r.impl)}t`).msPerToken / r.msPerToken).toFixed(1) + 'x' : '—',
      r.weightGBps.toFixed(1), r.impl.startsWith('mnemo') && ref('tfjs-wasm') ? (ref('tfjs-wasm').msPerToken / r.msPerToken).toFixed(1) + 'x' : '—',
      r.impl.startsWith('mnemo') && ref('tfjs-cpu') ? (ref('tfjs-cpu').msPerToken / r.msPerToken).toFixed(1) + 'x' : '—',
      Number.isNaN(r.maxAbsLogpDiff) ? '—' : r.maxAbsLogpDiff.toExponential(1)]);
    out.push(table(['impl', 'threads', 'ms/token', 'mean/median ms', 'tokens/s', 'vs pytorch (same threads)', 'weights GB/s', 'vs tfjs-wasm', 'vs tfjs-cpu', 'max |Δlogp|'], body));
    if (ctx.meta.torch) out.push(`PyTorch ${ctx.meta.torch.version}: no_grad, eval, best of ${TORCH_SECONDS[ctx.meta.quick ? 'quick' : 'full']} s (median in the mean/median column).`);
    for (const r of rows) if (r.splits?.length > 1) out.push(`${r.impl} is ${r.split}, the fastest of ${splitsText(r.splits, 'msPerToken')}.`);
    if (ctx.meta.torchNote) out.push(ctx.meta.torchNote);
    out.push('(weights GB/s: the 12.3 MB of LSTM + decoder weights read once per token / time; max |Δlogp|: against mnemo-simd over 6 tokens.)');
    const notes = [];
    for (const r of rows) if (r.maxAbsLogpDiff > 1e-3) notes.push(`${r.impl}: log-probs differ from mnemo-simd by ${r.maxAbsLogpDiff.toExponential(1)}`);
    if (notes.length) out.push('notes:', ...notes.map((n) => `  - ${n}`));
    return out.join('\n');
  },
};
