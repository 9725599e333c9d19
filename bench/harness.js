/**
 * Shared benchmark machinery: timing with benchmark.js (interleaved rounds,
 * best-of-N), a seeded PRNG for inputs, and plain-text tables.
 *
 * Timing model. The machine is shared and noisy, so implementations of one case
 * are never timed in one long block each: `measureInterleaved` runs `rounds`
 * rounds, and in each round every implementation gets one short benchmark.js
 * run (`maxTime` seconds, at least `minSamples` samples), in a rotated order.
 * The figure reported is the BEST sample over all rounds (lowest time per call:
 * the least disturbed run); the mean over all samples is kept alongside.
 */

import Benchmark from 'benchmark';

/** Timing settings of a full run and of --quick. */
export const PROFILES = {
  full: { rounds: 4, maxTime: 0.35, minSamples: 4 },
  quick: { rounds: 1, maxTime: 0.02, minSamples: 2 },
};

/**
 * Times one synchronous function with benchmark.js. Returns the seconds per
 * call of every sample (each sample is the mean over benchmark.js's `count`
 * calls of one cycle).
 */
export function timeOnce(fn, { maxTime, minSamples }) {
  // No setup/teardown and a function (not a string): benchmark.js then calls
  // `fn` through its closure instead of decompiling it.
  const bench = new Benchmark({ fn, maxTime, minSamples, async: false, delay: 0 });
  bench.run();
  if (bench.error) throw bench.error;
  return bench.stats.sample.slice();
}

/**
 * Times several implementations of one case, interleaved over `rounds` rounds
 * (the order rotates every round). `fns` maps a name to a synchronous function.
 * `before(name)`, if given, runs (untimed) before each implementation's turn
 * (e.g. to switch the tfjs backend).
 * Returns, per name, { best, mean, samples } in seconds per call.
 */
export function measureInterleaved(fns, profile, { before } = {}) {
  const names = Object.keys(fns);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < profile.rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      before?.(name);
      samples[name].push(...timeOnce(fns[name], profile));
    }
  }
  const out = {};
  for (const n of names) {
    const s = samples[n];
    out[n] = { best: Math.min(...s), mean: s.reduce((a, b) => a + b, 0) / s.length, samples: s.length };
  }
  return out;
}

/** Deterministic uniform floats in [-1, 1) (mulberry32). */
export function randomFloats(count, seed) {
  let t = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    t = (t + 0x6d2b79f5) >>> 0;
    let x = Math.imul(t ^ (t >>> 15), 1 | t);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    out[i] = ((x ^ (x >>> 14)) >>> 0) / 2 ** 31 - 1;
  }
  return out;
}

/** Renders rows (arrays of cells) under `headers`; numeric-looking cells are right-aligned. */
export function table(headers, rows) {
  const all = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const numeric = (s) => /^[-+]?[\d.]+(%|x)?$/.test(s) || s === '—';
  const line = (r) => r.map((c, i) => (numeric(c) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

/**
 * Threads of the multi-threaded mnemo rows: all logical cores (MNEMO_BENCH_THREADS
 * overrides). The plain rows run on one thread.
 */
export const THREADS = Number(process.env.MNEMO_BENCH_THREADS) || (await import('node:os')).availableParallelism();

/** Name of the relaxed build's multi-threaded rows, e.g. 'mnemo-relaxed-2t' (null on one core). */
export const MT_IMPL = THREADS > 1 ? `mnemo-relaxed-${THREADS}t` : null;

/** The runtimes of the mnemo rows: simd and relaxed on one thread, relaxed on THREADS threads (workers up). */
export async function loadMnemoRuntimes(init) {
  const runtimes = {
    'mnemo-simd': await init({ build: 'simd', numThreads: 1 }),
    'mnemo-relaxed': await init({ build: 'relaxed', numThreads: 1 }),
  };
  if (MT_IMPL) runtimes[MT_IMPL] = await init({ build: 'relaxed', numThreads: THREADS });
  for (const [name, rt] of Object.entries(runtimes)) {
    const want = name.startsWith('mnemo-simd') ? 'simd' : 'relaxed';
    if (rt.build !== want) throw new Error(`${name}: init() loaded build '${rt.build}'`);
    const threads = await rt.threadsReady;
    const wantThreads = name === MT_IMPL ? THREADS : 1;
    if (threads !== wantThreads) throw new Error(`${name}: ${threads} thread(s) running, wanted ${wantThreads}`);
  }
  return runtimes;
}
