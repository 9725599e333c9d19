// @ts-check
// What each runtime entry reports, shared by the Deno/Bun entry and the workerd
// worker: runAllGemmChecks and runLmChecks (LSTM parity fixture, training steps
// whose loss falls, save → load) for each build (relaxed is skipped, with the reason,
// where the runtime does not validate relaxed SIMD) and what init() does with
// no `wasm` option. Plain JavaScript; the mnemo module under test is passed in.

import { runAllGemmChecks } from '../portable/gemm-checks.js';
import { runLmChecks } from './lm-checks.js';

/**
 * Calls init(options) and says which build it loaded or what it threw.
 * @param {any} mnemo
 * @param {object} [options]
 */
export async function tryInit(mnemo, options) {
  try {
    const rt = await mnemo.init(options);
    return { build: rt.build };
  } catch (/** @type {any} */ e) {
    return { errorName: e?.name, isWasmLoadError: e instanceof mnemo.WasmLoadError, error: String(e?.message ?? e) };
  }
}

/**
 * Runs the checks on both builds.
 * @param {any} mnemo the built package's portable entry
 * @param {string} runtime
 * @param {string} runtimeVersion
 * @param {any} wasm the `wasm` option for init() (workerd needs precompiled modules; undefined elsewhere)
 * @param {Uint8Array} fixtureBytes test/fixtures/lstm.safetensors
 */
export async function report(mnemo, runtime, runtimeVersion, wasm, fixtureBytes) {
  const hasRelaxedSimd = mnemo.hasRelaxedSimd();
  const builds = [];
  for (const build of ['simd', 'relaxed']) {
    const base = { runtime, runtimeVersion, build };
    if (build === 'relaxed' && !hasRelaxedSimd) {
      builds.push({ ...base, skipped: 'the runtime does not validate relaxed SIMD (f32x4.relaxed_madd)' });
      continue;
    }
    let rt;
    try {
      rt = await mnemo.init({ build, wasm });
    } catch (/** @type {any} */ e) {
      builds.push({ ...base, passed: 0, failed: 1, failures: [`init({ build: '${build}' }) threw ${e?.name}: ${e?.message}`] });
      continue;
    }
    const { passed, failed, failures } = runAllGemmChecks(mnemo, rt);
    if (rt.build !== build) failures.unshift(`init({ build: '${build}' }) loaded the '${rt.build}' build`);
    const lm = runLmChecks(mnemo, rt, fixtureBytes);
    builds.push({ ...base, passed, failed: failed + (rt.build !== build ? 1 : 0), failures, lm });
  }
  return { runtime, runtimeVersion, hasRelaxedSimd, builds, defaultInit: await tryInit(mnemo), threads: await threadsCheck(mnemo, wasm) };
}

/**
 * Asks for 2 threads and says how many the runtime gave (2 where it has shared
 * memory and workers, else 1) and whether a GEMM came out bit for bit as on one thread.
 * @param {any} mnemo
 * @param {any} [wasm]
 */
export async function threadsCheck(mnemo, wasm) {
  try {
    const two = await mnemo.init({ numThreads: 2, wasm });
    await two.threadsReady;
    const one = await mnemo.init({ numThreads: 1, wasm });
    const product = (/** @type {any} */ rt) => {
      const a = rt.tensor([64, 300]), b = rt.tensor([3000, 300]);
      a.data.forEach((/** @type {number} */ _, /** @type {number} */ i) => { a.data[i] = Math.sin(i); });
      b.data.forEach((/** @type {number} */ _, /** @type {number} */ i) => { b.data[i] = Math.cos(i * 0.7); });
      return new Uint32Array(Float32Array.from(mnemo.matmul(a, b, { transB: true }).data).buffer);
    };
    const x = product(one), y = product(two);
    const threads = two.threads;
    two.close();
    return { threads, identical: x.length === y.length && x.every((v, i) => v === y[i]) };
  } catch (/** @type {any} */ e) {
    return { error: `${e?.name}: ${e?.message}` };
  }
}
