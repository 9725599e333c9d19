#!/usr/bin/env node
// `npm run fuzz [-- options]`: deeper runs of the fuzzers the test suite runs
// (test/fuzz/: model files, tokenizers, the CLI). Needs `npm run build` first:
// 'mnemo' resolves to dist/, and the CLI fuzzer runs dist/src/cli.js.
//
//   --mutants N       model-file mutants (default 100000; 0 to skip)
//   --tokenizer N     tokenizer inputs (default 20000; 0 to skip)
//   --cli N           CLI command lines (default 0: each spawns node, ~0.5 s)
//   --seed S          seed (default: from the clock; printed)
//   --only I          rerun only case I of the seed, for the --target fuzzer,
//   --target T        and print what it was: model (default), tokenizer or cli
//   --max-failures N  stop a fuzzer after N failures (default 20)
//
// Prints the counts tables; exits 1 if any case failed. A failure names the
// seed and the case index: rerun it with --seed S --only I --target T.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as mnemo from 'mnemo';
import { formatCliReport, makeCliFiles, runCliFuzz } from '../test/fuzz/cli-fuzz.js';
import { buildCorpus, formatReport, runModelFuzz } from '../test/fuzz/model-fuzz.js';
import { formatTokenizerReport, runTokenizerFuzz } from '../test/fuzz/tokenizer-fuzz.js';

const USAGE = 'usage: npm run fuzz -- [--mutants N] [--tokenizer N] [--cli N] [--seed S] [--only I --target model|tokenizer|cli] [--max-failures N]';

function fail(message) {
  console.error(`fuzz: ${message}\n${USAGE}`);
  process.exit(2);
}

function count(value, name, fallback) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      mutants: { type: 'string' }, tokenizer: { type: 'string' }, cli: { type: 'string' }, seed: { type: 'string' },
      only: { type: 'string' }, target: { type: 'string' }, 'max-failures': { type: 'string' },
    },
  }));
} catch (e) {
  fail(e.message);
}
const seed = count(values.seed, 'seed', Date.now() % 2 ** 32);
const only = values.only === undefined ? undefined : count(values.only, 'only', 0);
const target = values.target ?? 'model';
if (!['model', 'tokenizer', 'cli'].includes(target)) fail(`--target must be model, tokenizer or cli, got ${JSON.stringify(target)}`);
const maxFailures = count(values['max-failures'], 'max-failures', 20);
const wanted = (name, option, fallback) => (only !== undefined ? (target === name ? only + 1 : 0) : count(values[option], option, fallback));
const mutants = wanted('model', 'mutants', 100_000);
const inputs = wanted('tokenizer', 'tokenizer', 20_000);
const cases = wanted('cli', 'cli', 0);

const rt = await mnemo.init();
console.log(`mnemo fuzz: seed ${seed}${only !== undefined ? `, only ${target} case ${only}` : ''}`);
let failed = false;
const showOnly = (failures) => { if (only !== undefined) for (const f of failures) console.log(`\n${f.error ?? f.why}`); };

if (mutants > 0) {
  const corpus = buildCorpus(rt);
  console.log(`\nmodel files (${corpus.map((f) => `${f.name} ${f.bytes.length} B`).join(', ')})`);
  const report = runModelFuzz(rt, corpus, {
    mutants, seed, maxFailures, ...(only !== undefined ? { only, onMutant: (i, op) => console.log(`mutant ${i}: ${op}`), onOutcome: (o) => console.log(o) } : {}),
  });
  console.log(formatReport(report));
  showOnly(report.failures);
  failed ||= report.failures.length > 0;
}
if (inputs > 0) {
  const report = runTokenizerFuzz({ inputs, seed, maxFailures, ...(only !== undefined ? { only } : {}) });
  console.log(`\ntokenizers\n${formatTokenizerReport(report)}`);
  showOnly(report.failures);
  failed ||= report.failures.length > 0;
}
if (cases > 0) {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-fuzz-cli-'));
  try {
    const cli = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
    const report = await runCliFuzz({ cli, dir, files: makeCliFiles(dir, rt, seed), cases, seed, ...(only !== undefined ? { only } : {}) });
    console.log(`\nCLI\n${formatCliReport(report)}`);
    showOnly(report.failures);
    failed ||= report.failures.length > 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
