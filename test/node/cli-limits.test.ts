// The CLI at its edges: `mnemo predict` refuses oversized lines, invalid UTF-8
// and control characters, one clear message per refused line on stderr, and
// goes on serving the next lines (exit 1 when it refused any); `mnemo train`
// validates --on-nan and --checkpoint-every, and reports a NaN with the step
// and the tensor (--on-nan stop), or skips steps (--on-nan skip).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mnemo-limits-'));
const modelFile = join(dir, 'm.safetensors');
const run = (args: string[], input?: string | Buffer) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20, ...(input !== undefined ? { input } : {}) });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  const rt = await mnemo.init();
  const tok = mnemo.WordTokenizer.fit('the cat sat on the mat\nthe dog sat on the log\n');
  const model = new mnemo.RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 8, hiddenSize: 8, seed: 3 });
  writeFileSync(modelFile, mnemo.saveModel(model, tok));
});

describe('mnemo predict: bad input lines are refused, the rest served', () => {
  it('refuses oversized lines, invalid UTF-8 and control characters with a message naming each, and goes on', () => {
    const enc = (s: string) => Buffer.from(s, 'utf8');
    const lines: Buffer[] = [
      enc('the cat'),                                   // 1 served
      enc('the dog '.repeat(2500)),                     // 2 20,000 bytes: over 16,384
      Buffer.from([0x74, 0x68, 0x65, 0x20, 0xff, 0x61]), // 3 'the \xff a': 0xff never occurs in UTF-8
      Buffer.from([0x74, 0x68, 0x65, 0x20, 0xc0, 0xaf]), // 4 an overlong '/'
      enc('the \u0007 bell'),                            // 5 a control character
      enc('the cat sat\r'),                             // 6 a CRLF line end: served
      enc('the\tdog'),                                  // 7 a tab: served
      Buffer.from([0x74, 0x68, 0x65, 0x20, 0xe2, 0x82]), // 8 ends inside a 3-byte character
      enc('the mat\u0085'),                             // 9 a C1 control (NEL)
      enc(''),                                          // 10 empty: skipped
      enc('the dog sat on the'),                        // 11 served after all that
    ];
    const r = run(['predict', modelFile], Buffer.concat(lines.flatMap((l) => [l, enc('\n')])));
    expect(r.status, r.stderr).toBe(1);
    const served = r.stdout.trim().split('\n').map((l) => l.split(' → ')[0]);
    expect(served).toEqual(['the cat', 'the cat sat', 'the\tdog', 'the dog sat on the']);
    expect(r.stderr.trim().split('\n')).toEqual([
      'mnemo predict: line 2 refused: 20,000 bytes, over the limit of 16,384 (--max-bytes)',
      'mnemo predict: line 3 refused: invalid UTF-8 at byte 5 (0xff)',
      'mnemo predict: line 4 refused: invalid UTF-8 at byte 5 (0xc0)',
      'mnemo predict: line 5 refused: control character U+0007 at character 5',
      'mnemo predict: line 8 refused: invalid UTF-8: the line ends inside a character',
      'mnemo predict: line 9 refused: control character U+0085 at character 8',
      'mnemo predict: 6 of 11 lines refused',
    ]);
  });

  it('a multi-megabyte line without a line end is refused without being kept; --max-bytes sets the limit', () => {
    const big = Buffer.alloc(8 * 2 ** 20, 'the cat ');
    const r = run(['predict', modelFile], Buffer.concat([Buffer.from('the cat\n'), big]));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^the cat → /);
    expect(r.stderr).toMatch(/line 2 refused: 8,388,608 bytes, over the limit of 16,384 \(--max-bytes\)/);
    const small = run(['predict', modelFile, '--max-bytes', '8'], 'the cat\nthe dog sat\n');
    expect(small.status).toBe(1);
    expect(small.stdout).toMatch(/^the cat → /);
    expect(small.stderr).toMatch(/line 2 refused: 11 bytes, over the limit of 8/);
    expect(run(['predict', modelFile], 'the cat\n\nthe dog\n').status).toBe(0);
    expect(run(['predict', modelFile, '--max-bytes', '0'], '').stderr).toMatch(/--max-bytes must be an integer ≥ 1/);
  });
});

describe('mnemo train: --on-nan and --checkpoint-every', () => {
  const corpus = join(dir, 'corpus.txt');
  const base = () => ['train', corpus, '--epochs', '2', '--hidden', '16', '--embedding', '16', '--batch', '4', '--bptt', '10', '--quiet',
    '--out', join(dir, 'n.safetensors')];

  it('validates the options', () => {
    writeFileSync(corpus, Array.from({ length: 200 }, (_, i) => ['the cat sat on the mat .', 'a dog saw the cat .'][i % 2]).join('\n'));
    for (const [args, msg] of [
      [['--on-nan', 'ignore'], /--on-nan must be stop or skip, got "ignore"/],
      [['--checkpoint-every', '0'], /--checkpoint-every must be N \(windows\) or Ns \(seconds\), N ≥ 1, got "0"/],
      [['--checkpoint-every', '5m'], /--checkpoint-every must be N \(windows\) or Ns \(seconds\)/],
    ] as const) {
      const r = run([...base(), ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('an exploding ReLU RNN: stop names the epoch, window and tensor; skip skips steps, lowers the lr and gives up after 10', () => {
    const diverge = [...base(), '--cell', 'rnn_relu', '--optimizer', 'sgd', '--lr', '100', '--clip', '0', '--seed', '1'];
    const stop = run(diverge);
    expect(stop.status).toBe(1);
    expect(stop.stderr).toMatch(/^mnemo: training diverged at epoch 1, window \d+ of \d+: the loss is NaN \(lower the learning rate or the clip norm, or use --on-nan skip\)/);
    const skip = run([...diverge, '--on-nan', 'skip']);
    expect(skip.status).toBe(1);
    const skipped = skip.stderr.split('\n').filter((l) => l.startsWith('skipped: '));
    expect(skipped).toHaveLength(9);
    expect(skipped[0]).toMatch(/the loss is NaN; lr now 5\.0e\+1$/);
    expect(skipped[8]).toMatch(/lr now 2\.0e-1$/);
    expect(skip.stderr).toMatch(/10 steps skipped in a row, so the fault is not passing: lower the learning rate/);
  });
});
