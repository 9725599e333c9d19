// The CLI with odd arguments and garbage files: 100 seeded command lines of
// `node dist/src/cli.js` (every subcommand; valid, invalid, foreign and
// missing options; text, binary, empty, folder, valid, truncated, lying and
// mutated model files; missing paths; odd stdin). Each must exit 0, or non-zero
// with a message and no stack trace; exit 70 ("internal error": an exception
// that is neither a usage error, a MnemoError nor a system error) is a failure.
// Also: counts too large to be exact are usage errors, and a Node Buffer (whose
// slice() is a view) loads the right weights.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { formatCliReport, makeCliFiles, runCliFuzz } from '../fuzz/cli-fuzz.js';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mnemo-fuzz-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEED = 20261123;
const CASES = 100;

describe('CLI fuzzing', () => {
  it(`${CASES} seeded odd command lines: exit 0, or a message and a non-zero code, never a stack trace`, async () => {
    const rt = await mnemo.init();
    const files = makeCliFiles(dir, rt, SEED);
    const report = await runCliFuzz({ cli, dir, files, cases: CASES, seed: SEED });
    console.log(`CLI fuzzing, seed ${SEED}\n${formatCliReport(report)}`);
    expect(report.failures.map((f) => `seed ${f.seed} case ${f.index}: mnemo ${f.args.join(' ')}: ${f.why}`)).toEqual([]);
    expect(report.tried).toBe(CASES);
    for (const code of ['exit 0', 'exit 1', 'exit 2']) expect(report.byExit[code] ?? 0, code).toBeGreaterThan(5);
  }, 480_000);

  it('a count too large to be exact (99999999999999999999 tokens ran without end) is a usage error', () => {
    const r = spawnSync(process.execPath, [cli, 'generate', join(dir, 'word.safetensors'), '--tokens', '99999999999999999999'],
      { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--tokens must be an integer from 1 to 1000000, got "99999999999999999999"/);
    const e = spawnSync(process.execPath, [cli, 'eval', join(dir, 'word.safetensors'), join(dir, 'corpus.txt'), '--batch', '1e20'],
      { encoding: 'utf8', timeout: 60_000 });
    expect(e.status, e.stderr).toBe(2);
    expect(e.stderr).toMatch(/--batch must be an integer ≥ 1, got "1e20"/);
  });

  it('loadModel reads a Node Buffer (slice() is a view there) with the right weights', async () => {
    const rt = await mnemo.init();
    const bytes = readFileSync(join(dir, 'word.safetensors'));
    expect(bytes).toBeInstanceOf(Buffer);
    const fromBuffer = mnemo.loadModel(rt, bytes), fromCopy = mnemo.loadModel(rt, new Uint8Array(bytes));
    try {
      for (const [[name, p], [, q]] of fromBuffer.model.namedParameters().map((e, i) => [e, fromCopy.model.namedParameters()[i]!] as const)) {
        expect(p.value.toArray(), name).toEqual(q.value.toArray());
      }
    } finally {
      fromBuffer.model.dispose();
      fromCopy.model.dispose();
    }
  });
});
