// @ts-check
// The CLI fuzzer: seeded odd command lines for `node dist/src/cli.js`, with
// garbage files passed as data and as models. Node-only (it spawns processes
// and writes files); used by test/node/fuzz-cli.test.ts and `npm run fuzz`.
//
// Every run must end with exit code 0 (it did something valid) or with a
// non-zero code and a message: `mnemo: …` on stderr, or the usage text. A
// failure is: a timeout or a signal, exit code 70 (the CLI's "internal error",
// which it prints for any exception that is not a usage error, a MnemoError or
// a system error such as ENOENT), a stack trace, or a fatal V8 error.

import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as mnemo from 'mnemo';
import { buildCorpus } from './model-fuzz.js';
import { mutantRng, mutate, Rng } from './mutate.js';

const WORDS = 'the cat sat on the mat . a dog saw the cat and the cat ran to the log , then it slept .'.split(' ');

/**
 * Writes the files the command lines refer to into `dir`: text (valid,
 * too short, empty, invalid UTF-8, binary), folders, valid model files,
 * mutated ones and missing paths. Returns the paths by role.
 * @param {string} dir @param {mnemo.Runtime} rt @param {number} seed
 */
export function makeCliFiles(dir, rt, seed) {
  const rng = new Rng(seed ^ 0x2545f491);
  const p = (/** @type {string} */ name) => join(dir, name);
  const corpus = Array.from({ length: 80 }, (_, i) => Array.from({ length: 12 }, (_, j) => WORDS[(i * 7 + j * 3) % WORDS.length]).join(' ')).join('\n') + '\n';
  writeFileSync(p('corpus.txt'), corpus);
  writeFileSync(p('tiny.txt'), 'a b\n');
  writeFileSync(p('empty.txt'), '');
  const random = (/** @type {number} */ n) => Uint8Array.from({ length: n }, () => rng.int(256));
  writeFileSync(p('garbage.bin'), random(4096));
  const bad = new Uint8Array(20_000);
  for (let i = 0; i < bad.length; i++) bad[i] = rng.chance(0.2) ? rng.pick([0x20, 0x0a, 0x00, 0x0d, 0x09]) : rng.chance(0.3) ? 0x80 + rng.int(0x80) : 0x21 + rng.int(0x5e);
  writeFileSync(p('invalid-utf8.txt'), bad);
  writeFileSync(p('one-huge-line.txt'), 'word '.repeat(200_000));
  mkdirSync(p('empty-dir'), { recursive: true });
  mkdirSync(p('text-dir'), { recursive: true });
  writeFileSync(p('text-dir/a.txt'), corpus);
  writeFileSync(p('text-dir/b.txt'), bad);
  const models = buildCorpus(rt);
  const word = /** @type {import('./model-fuzz.js').CorpusFile} */ (models.find((m) => m.name.startsWith('word')));
  const char = /** @type {import('./model-fuzz.js').CorpusFile} */ (models.find((m) => m.name.startsWith('char')));
  writeFileSync(p('word.safetensors'), word.bytes);
  writeFileSync(p('char.safetensors'), char.bytes);
  writeFileSync(p('truncated.safetensors'), word.bytes.subarray(0, 100));
  const lying = word.bytes.slice();
  lying.fill(0xff, 0, 8);
  writeFileSync(p('lying-length.safetensors'), lying);
  // Checkpoints that are not: `--out garbage-ckpt-N.safetensors` always comes with --resume
  // (see commandLine), which fails on them, so they are never overwritten.
  writeFileSync(p('garbage-ckpt-0.safetensors.ckpt'), random(3000));
  writeFileSync(p('garbage-ckpt-1.safetensors.ckpt'), word.bytes);
  const mutants = [];
  for (let i = 0; i < 6; i++) {
    const m = mutate(mutantRng(seed, 1_000_000 + i), word.bytes, char.bytes);
    writeFileSync(p(`mutant-${i}.safetensors`), m.bytes);
    mutants.push(p(`mutant-${i}.safetensors`));
  }
  return {
    data: [p('corpus.txt'), p('corpus.txt'), p('tiny.txt'), p('empty.txt'), p('garbage.bin'), p('invalid-utf8.txt'),
      p('one-huge-line.txt'), p('empty-dir'), p('text-dir'), p('word.safetensors')],
    models: [p('word.safetensors'), p('word.safetensors'), p('char.safetensors'), p('truncated.safetensors'),
      p('lying-length.safetensors'), p('garbage.bin'), p('corpus.txt'), p('empty.txt'), p('empty-dir'), ...mutants],
    missing: [p('no-such-file'), p('corpus.txt/below-a-file'), '/dev/null', ''],
    // (Not '': the checkpoint would go to `${dir}.ckpt`, outside dir.)
    outs: [p('out.safetensors'), p('empty-dir'), p('no-such-dir/out.safetensors'), p('garbage-ckpt-0.safetensors'),
      p('garbage-ckpt-1.safetensors')],
  };
}

/** @typedef {ReturnType<typeof makeCliFiles>} CliFiles */

const COMMANDS = ['train', 'eval', 'generate', 'predict', 'info'];
const ODD_COMMANDS = ['help', '--help', '-h', '--version', '-v', 'bogus', 'TRAIN', '-x', '--', '', 'ïnfo', '--train'];
/** Each subcommand's string options with values it accepts (small sizes: a long job is not an error), and its boolean options. */
const OPTIONS = {
  train: {
    strings: { level: ['word', 'char'], valid: [], cell: ['lstm', 'gru', 'rnn_tanh', 'rnn_relu'], model: ['rnn', 'window', 'ngram'],
      context: ['1', '3'], order: ['1', '3'], smoothing: ['kn', 'katz', 'add', 'stupid', 'mle'], delta: ['0.5', '1'],
      'checkpoint-every': ['1', '2s'], 'on-nan': ['stop', 'skip'], embedding: ['4', '8'], hidden: ['4', '8'], layers: ['1', '2'], dropout: ['0', '0.3'], epochs: ['1', '2'],
      minutes: ['0.01', '0.1'], lr: ['0.01', '1e-3'], optimizer: ['adam', 'adamw', 'sgd'], batch: ['1', '2', '4'], bptt: ['2', '8'],
      clip: ['0', '1'], 'min-count': ['1', '2'], seed: ['0', '7'], out: [] },
    booleans: ['tie', 'no-tie', 'lowercase', 'resume', 'quiet', 'direct'],
  },
  eval: { strings: { batch: ['1', '3', '10'] }, booleans: [] },
  generate: {
    strings: { prompt: ['the', 'the cat', '', 'ünï 😀', '\n'], tokens: ['0', '1', '20'], temperature: ['0.5', '1', '2'],
      'top-k': ['1', '3'], 'top-p': ['0.5', '1'], seed: ['0', '3'] },
    booleans: [],
  },
  predict: { strings: { 'top-k': ['1', '5'], 'max-bytes': ['1', '16', '100000'] }, booleans: [] },
  info: { strings: {}, booleans: [] },
};
const ALL_STRINGS = [...new Set(Object.values(OPTIONS).flatMap((o) => Object.keys(o.strings)))];
const ALL_BOOLEANS = [...Object.values(OPTIONS).flatMap((o) => o.booleans), 'bogus', 'help'];
/** Invalid values of every kind. */
const BAD_VALUES = ['0', '-1', '-0', '1.5', '1e-9', '', ' ', 'abc', 'NaN', 'Infinity', '-Infinity', '0x10', '2147483648',
  '99999999999999999999', '1e400', 'transformer', 'LSTM', 'ünï', '\t', '--', '-', 'x'.repeat(3000), '\u0001\u001b[2J', '\ud800'];

/**
 * One command line: [args, stdin]. `train` always gets small sizes first (a
 * later random option may override them) and a DATA path, so that it cannot
 * start the 10-minute Brown default.
 * @param {Rng} rng @param {CliFiles} files @returns {{ args: string[], input: string }}
 */
export function commandLine(rng, files) {
  const command = rng.chance(0.85) ? rng.pick(COMMANDS) : rng.pick(ODD_COMMANDS);
  const args = command === '' && rng.chance(0.5) ? [] : [command];
  if (command === 'train') args.push('--epochs', '2', '--hidden', '8', '--embedding', '8', '--batch', '4', '--bptt', '8', '--quiet', '--minutes', '0.2');
  const positionals = [];
  const wantsModel = ['eval', 'generate', 'predict', 'info'].includes(command);
  if (command === 'train') positionals.push(rng.chance(0.9) ? rng.pick(files.data) : rng.pick(files.missing));
  else if (wantsModel && rng.chance(0.9)) positionals.push(rng.chance(0.9) ? rng.pick(files.models) : rng.pick(files.missing));
  if (command === 'eval' && rng.chance(0.95)) positionals.push(rng.chance(0.85) ? rng.pick(files.data) : rng.pick(files.missing));
  for (let i = rng.int(3); i > 0 && rng.chance(0.3); i--) positionals.push(rng.pick([...files.data, ...files.models, '-', '--', 'x']));
  args.push(...positionals);
  const own = /** @type {Record<string, { strings: Record<string, string[]>, booleans: string[] }>} */ (OPTIONS)[command];
  for (let i = rng.int(5); i > 0; i--) {
    const foreign = !own || rng.chance(0.1);
    if (rng.chance(0.75) && (foreign || Object.keys(own.strings).length > 0)) {
      const name = foreign ? rng.pick(ALL_STRINGS) : rng.pick(Object.keys(own.strings));
      const good = own?.strings[name] ?? [];
      const value = name === 'out' ? rng.pick(files.outs) : name === 'valid' ? rng.pick([...files.data, ...files.missing])
        : good.length > 0 && rng.chance(0.6) ? rng.pick(good) : rng.pick(BAD_VALUES);
      if (rng.chance(0.9)) args.push(`--${name}`, value); else args.push(`--${name}=${value}`);
      if (rng.chance(0.05)) args.push(`--${name}`); // a missing value
    } else {
      const name = foreign || own.booleans.length === 0 ? rng.pick(ALL_BOOLEANS) : rng.pick(own.booleans);
      args.push(rng.chance(0.9) ? `--${name}` : `--${name}=${rng.pick(['true', '1', ''])}`);
    }
  }
  if (rng.chance(0.1)) args.splice(rng.int(args.length + 1), 0, rng.pick(['-', '--', '-q', '---x', '--=', '-abc']));
  if (args[0] === 'train' && args.some((a) => a.includes('garbage-ckpt-'))) args.splice(1, 0, '--resume');
  // Lone surrogates cannot travel in argv (Node encodes them as U+FFFD); a NUL cannot at all.
  const input = rng.chance(0.2) ? '' : rng.pick(['the cat\n', 'the\nthe cat sat\n\n', '\u0000\u0001\n', 'x'.repeat(10_000), 'ünï cödé 😀\n', '\r\n\r\n']);
  return { args, input };
}

/**
 * @typedef {{ tried: number, byExit: Record<string, number>, byCommand: Record<string, { n: number, seconds: number }>, failures: { index: number, seed: number, args: string[], why: string }[],
 *   seconds: number, slowestMs: number }} CliFuzzReport
 */

/**
 * Runs `cases` command lines seeded by `seed`, `concurrency` at a time, each
 * with a time limit; the working directory is `dir` (the default --out lands there).
 * With `only`, runs just that case.
 * @param {{ cli: string, dir: string, files: CliFiles, cases: number, seed: number, only?: number, concurrency?: number, timeoutMs?: number }} options
 * @returns {Promise<CliFuzzReport>}
 */
export async function runCliFuzz(options) {
  const { cli, dir, files, cases, seed, concurrency = 2, timeoutMs = 60_000 } = options;
  /** @type {CliFuzzReport} */
  const report = { tried: 0, byExit: {}, byCommand: {}, failures: [], seconds: 0, slowestMs: 0 };
  const started = performance.now();
  let next = options.only ?? 0;
  const end = options.only === undefined ? cases : options.only + 1;
  const worker = async () => {
    for (let index = next++; index < end; index = next++) {
      const { args, input } = commandLine(mutantRng(seed ^ 0x68e31da4, index), files);
      const t0 = performance.now();
      const r = await run(cli, args, input, dir, timeoutMs);
      const ms = performance.now() - t0;
      report.slowestMs = Math.max(report.slowestMs, ms);
      report.tried++;
      const command = report.byCommand[args[0] ?? '(none)'] ??= { n: 0, seconds: 0 };
      command.n++;
      command.seconds += ms / 1000;
      const key = r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
      report.byExit[key] = (report.byExit[key] ?? 0) + 1;
      const why = judge(r);
      if (why) report.failures.push({ index, seed, args, why: `${why}\n--- stderr:\n${r.stderr.slice(0, 3000)}` });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  report.failures.sort((a, b) => a.index - b.index);
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** @typedef {{ status: number | null, signal: string | null, stdout: string, stderr: string, timedOut: boolean }} RunResult */

/** @param {string} cli @param {string[]} args @param {string} input @param {string} cwd @param {number} timeoutMs @returns {Promise<RunResult>} */
function run(cli, args, input, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d) => { if (stdout.length < 1e6) stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { if (stderr.length < 1e6) stderr += d; });
    child.stdin.on('error', () => {}); // the child may exit before reading its input
    child.stdin.end(input);
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}

/** Why a run is a failure, or undefined when it is fine. @param {RunResult} r */
function judge(r) {
  if (r.timedOut) return 'timed out';
  if (r.signal) return `killed by ${r.signal}`;
  if (r.status === 70 || /internal error/.test(r.stderr)) return 'internal error (an unexpected exception)';
  if (/FATAL ERROR|Aborted|Segmentation/.test(r.stderr)) return 'fatal error in node';
  if (/^\s+at .+(:\d+:\d+\)?|\(native\))$/m.test(r.stderr)) return 'a stack trace on stderr';
  if (r.status !== 0 && !/^mnemo( [a-z]+)?: \S/.test(r.stderr) && !/usage: mnemo/.test(r.stdout)) {
    return `exit ${r.status} without a message (stderr ${JSON.stringify(r.stderr.slice(0, 200))})`;
  }
  return undefined;
}

/** The report as a table of counts. @param {CliFuzzReport} r */
export function formatCliReport(r) {
  const lines = [`command lines tried: ${r.tried} in ${r.seconds.toFixed(1)} s (slowest ${(r.slowestMs / 1000).toFixed(1)} s)`];
  for (const [k, n] of Object.entries(r.byExit).sort()) lines.push(`  ${k.padEnd(12)} ${n}`);
  lines.push(`  by command: ${Object.entries(r.byCommand).map(([c, v]) => `${JSON.stringify(c)} ${v.n} (${v.seconds.toFixed(1)} s)`).join(', ')}`);
  lines.push(`failures: ${r.failures.length}`);
  for (const f of r.failures) {
    lines.push(`  seed ${f.seed} case ${f.index}: mnemo ${f.args.map((a) => (/^[\w./=-]+$/.test(a) ? a : JSON.stringify(a.length > 40 ? `${a.slice(0, 40)}…` : a))).join(' ')}`);
    lines.push(`    ${f.why.split('\n').slice(0, 6).join('\n    ')}`);
  }
  return lines.join('\n');
}
