/**
 * mnemo benchmarks: `npm run bench [-- options]` (needs `npm run build` first;
 * `npm ci` builds).
 *
 *   --json FILE       also write the results as JSON: { meta, <section>: rows[] }
 *   --filter SUBSTR   run only cases whose label contains SUBSTR (case-insensitive)
 *   --section NAMES   comma-separated sections to run (default: all; now: gemm, train, infer, scaling)
 *   --quick           smoke run: one short round per case (numbers are rough)
 *   --rounds N        interleaved rounds per case (default 4): on a shared machine whose
 *                     speed comes and goes, more rounds give the best sample more chances
 *   --check           instead of timing, run the sections' correctness checks
 *                     (train: the loss falls over 20 steps on a repeating sequence)
 *   --ghz N           clock used for the % of SIMD128 peak (default 2.5)
 *
 * A section is an object with `run(ctx) → rows` (plain JSON objects),
 * `print(rows, ctx) → string` and optionally `check(ctx) → { text, rows }`; add
 * one to SECTIONS to extend the bench and the JSON.
 */

import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PROFILES } from './harness.js';

const SECTIONS = {
  gemm: () => import('./gemm.js'),
  train: () => import('./train.js').then((m) => m.train),
  infer: () => import('./train.js').then((m) => m.infer),
  scaling: () => import('./scaling.js'),
};

const USAGE = `usage: node bench/run.js [--json FILE] [--filter SUBSTR] [--section ${Object.keys(SECTIONS).join(',')}] [--quick] [--rounds N] [--check] [--ghz N]`;

function parse() {
  const { values } = parseArgs({
    options: {
      json: { type: 'string' },
      filter: { type: 'string', default: '' },
      section: { type: 'string' },
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      check: { type: 'boolean', default: false },
      ghz: { type: 'string', default: '2.5' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
  if (rounds !== undefined && !(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be an integer ≥ 1, got ${values.rounds}`);
  const ghz = Number(values.ghz);
  if (!(ghz > 0)) throw new Error(`--ghz must be a positive number, got ${values.ghz}`);
  const sections = values.section ? values.section.split(',').map((s) => s.trim()).filter(Boolean) : Object.keys(SECTIONS);
  for (const s of sections) if (!(s in SECTIONS)) throw new Error(`unknown section '${s}'; known: ${Object.keys(SECTIONS).join(', ')}`);
  return { json: values.json, filter: values.filter, quick: values.quick, rounds, check: values.check, ghz, sections };
}

async function main() {
  let args;
  try {
    args = parse();
  } catch (e) {
    console.error(`${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (!existsSync(new URL('../dist/src/node.js', import.meta.url))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const base = args.quick ? PROFILES.quick : PROFILES.full;
  const profile = args.rounds === undefined ? base : { ...base, rounds: args.rounds };
  const meta = {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    ghz: args.ghz,
    quick: args.quick,
    filter: args.filter,
    stat: 'best sample (lowest time per call) over interleaved rounds',
    profile,
  };
  const ctx = { filter: args.filter, ghz: args.ghz, profile, meta, log: (s) => console.error(s) };
  const result = { meta };
  const t0 = performance.now();
  for (const name of args.sections) {
    const section = await SECTIONS[name]();
    if (args.check) {
      if (!section.check) {
        console.log(`[${name}] has no --check`);
        continue;
      }
      const { text, rows } = await section.check(ctx);
      result[`${name}Check`] = rows;
      console.log(text);
      console.log('');
      continue;
    }
    const rows = await section.run(ctx);
    result[name] = rows;
    if (rows.length === 0) {
      console.log(`[${name}] no case matches --filter ${JSON.stringify(args.filter)}`);
      continue;
    }
    console.log(section.print(rows, ctx));
    console.log('');
  }
  meta.seconds = Math.round((performance.now() - t0) / 100) / 10;
  console.log(`done in ${meta.seconds} s`);
  if (args.json) {
    writeFileSync(args.json, JSON.stringify(result, null, 2) + '\n');
    console.log(`wrote ${args.json}`);
  }
}

await main();
