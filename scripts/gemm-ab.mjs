// @ts-check
// GEMM side by side: two sets of wasm builds (say, the one before a change and
// the one after it) loaded in one process, alternated round by round on the
// same shapes, one thread; prints the best GFLOP/s of each. On a shared machine
// whose speed drifts, this compares builds where separate runs cannot.
//   node scripts/gemm-ab.mjs OLD_DIR NEW_DIR ['[[m, n, k, "nt"], …]'] [--rounds R]
// OLD_DIR, NEW_DIR: folders holding mnemo-simd.wasm and mnemo-relaxed.wasm (e.g.
// a worktree's dist/build); the JavaScript is this checkout's.
import { readFileSync } from 'node:fs';
import { gemm, init } from '../dist/src/node.js';

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(args.splice(roundsAt, 2)[1]) : 9;
const [oldDir, newDir, shapesJson] = args;
if (!oldDir || !newDir || !Number.isInteger(ROUNDS) || ROUNDS < 1) {
  console.error('usage: node scripts/gemm-ab.mjs OLD_DIR NEW_DIR [\'[[m, n, k, "nt"], …]\'] [--rounds R]');
  process.exit(2);
}
/** @type {[number, number, number, string][]} */
const shapes = JSON.parse(shapesJson ?? '[[32,10000,256,"nt"],[8,10000,256,"nt"],[32,1024,512,"nt"],[10000,256,32,"tn"]]');
const CALLS = 8;

/** @type {Record<string, any>} */
const runtimes = {};
for (const [name, dir] of [['old', oldDir], ['new', newDir]]) {
  for (const build of /** @type {const} */ (['simd', 'relaxed'])) {
    runtimes[`${name} ${build}`] = await init({ build, numThreads: 1, wasm: { [build]: readFileSync(`${dir}/mnemo-${build}.wasm`) } });
  }
}
/** @type {Record<string, Record<string, number>>} */
const best = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const [key, rt] of Object.entries(runtimes)) {
    for (const [m, n, k, layout] of shapes) {
      const transA = layout[0] === 't', transB = layout[1] === 't';
      const a = rt.tensor(transA ? [k, m] : [m, k]), b = rt.tensor(transB ? [n, k] : [k, n]), c = rt.tensor([m, n]);
      a.data.fill(0.5); b.data.fill(0.25);
      let ms = Infinity;
      for (let i = 0; i < CALLS; i++) {
        const t = performance.now();
        gemm(a, b, c, { transA, transB });
        ms = Math.min(ms, performance.now() - t);
      }
      const id = `${m}×${n}×${k} ${layout.toUpperCase()}`;
      best[id] ??= {};
      best[id][key] = Math.max(best[id][key] ?? 0, (2 * m * n * k) / ms / 1e6);
      a.dispose(); b.dispose(); c.dispose();
    }
  }
}
const cols = Object.keys(runtimes);
console.log(`best GFLOP/s over ${ROUNDS} rounds of ${CALLS} calls, one thread\n`);
console.log(`| M×N×K | ${cols.join(' | ')} |\n|---|${cols.map(() => '---:').join('|')}|`);
for (const [id, r] of Object.entries(best)) console.log(`| ${id} | ${cols.map((c) => r[c]?.toFixed(1)).join(' | ')} |`);
