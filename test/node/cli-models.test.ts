// `mnemo train --model …` from the built package: the fixed-window model
// (--context, --direct, sizes, dropout) trains on a small corpus, resumes from
// its checkpoint, and eval, generate, predict and info work on its model file;
// the n-gram model (--order, --smoothing) is counted, saved and used the same
// way; model options are checked with usage errors (exit 2).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from 'mnemo';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, ...(input !== undefined ? { input } : {}) });
const dir = mkdtempSync(join(tmpdir(), 'mnemo-cli-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LINES = ['the cat sat on the mat .', 'the dog sat on the log .', 'a cat and a dog sat .', 'the cat saw the dog .'];

describe('mnemo train --model', () => {
  it('rejects bad model options with exit 2', () => {
    for (const [args, msg] of [
      [['train', '--model', 'transformer'], /--model must be rnn, window or ngram, got "transformer"/],
      [['train', '--model', 'window', '--context', '0'], /--context must be an integer ≥ 1, got "0"/],
      [['train', '--context', '3'], /--context and --direct are options of --model window/],
      [['train', '--model', 'window', '--cell', 'gru'], /--cell and --layers are options of --model rnn/],
      [['train', '--model', 'window', '--tie', '--embedding', '10', '--hidden', '20'], /--tie needs --embedding = --hidden/],
      [['train', '--model', 'ngram', '--hidden', '10'], /--hidden is an option of the neural models \(--model rnn or window\), not of --model ngram/],
      [['train', '--model', 'ngram', '--smoothing', 'good-turing'], /--smoothing must be mle, add, stupid, katz, kn, got "good-turing"/],
      [['train', '--model', 'ngram', '--order', '0'], /--order must be an integer ≥ 1, got "0"/],
      [['train', '--order', '3'], /--order, --smoothing and --delta are options of --model ngram/],
      [['train', '--model', 'window', '--schedule', 'step'], /--schedule must be plateau or cosine, got "step"/],
    ] as const) {
      const r = run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('--threads: the same weights, bit for bit, and the same metadata on 1 and 2 threads; bad counts are usage errors', () => {
    const corpus = join(dir, 'threads.txt');
    writeFileSync(corpus, Array.from({ length: 200 }, (_, i) => LINES[i % LINES.length]).join('\n') + '\n');
    const bytes: Buffer[] = [];
    for (const threads of ['1', '2']) {
      const out = join(dir, `t${threads}.safetensors`);
      // Hidden 64 × batch 8: the recurrent and output products are big enough to be split over threads.
      const r = run(['train', corpus, '--embedding', '64', '--hidden', '64', '--batch', '8', '--bptt', '12',
        '--epochs', '2', '--threads', threads, '--out', out, '--quiet']);
      expect(r.status, r.stderr).toBe(0);
      bytes.push(readFileSync(out));
    }
    // The files differ only in trainSeconds, the wall time (rounded: a loaded machine moves it).
    const [a, b] = bytes.map((x) => readSafetensors(new Uint8Array(x)));
    expect([...b!.tensors.keys()]).toEqual([...a!.tensors.keys()]);
    for (const [name, t] of a!.tensors) expect(Buffer.from(b!.tensors.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    const { trainSeconds: _a, ...metaA } = a!.metadata, { trainSeconds: _b, ...metaB } = b!.metadata;
    expect(metaB).toEqual(metaA);
    for (const bad of ['0', '65', '1.5']) {
      const r = run(['train', corpus, '--threads', bad]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--threads must be an integer from 1 to 64/);
    }
  });

  it('window: trains, resumes, and eval, generate, predict and info use the model file', () => {
    const corpus = join(dir, 'corpus.txt'), model = join(dir, 'w.safetensors');
    writeFileSync(corpus, Array.from({ length: 120 }, (_, i) => LINES[i % LINES.length]).join('\n') + '\n');
    const common = ['train', corpus, '--model', 'window', '--context', '3', '--direct', '--embedding', '12', '--hidden', '24',
      '--batch', '4', '--bptt', '10', '--lr', '0.01', '--dropout', '0.1', '--out', model, '--quiet'];
    const t = run([...common, '--epochs', '2']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/training a word-level window model \(4-gram: context 3, embedding 12, hidden 24, direct connections\)/);
    expect(t.stdout).toMatch(/epoch 2: train ppl [\d.]+, valid ppl [\d.]+/);
    expect(t.stdout).toMatch(/"The" → /);
    for (const f of [model, `${model}.ckpt`, join(dir, 'w.loss.svg')]) expect(existsSync(f), f).toBe(true);

    const resumed = run([...common, '--epochs', '4', '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).not.toMatch(/epoch 2:/);
    expect(resumed.stdout).toMatch(/epoch 4: train ppl [\d.]+, valid ppl [\d.]+/);
    const ppl = Number(/validation: perplexity ([\d.]+)/.exec(resumed.stdout)![1]);
    expect(ppl).toBeLessThan(5); // a 10-word language of 4 repeated sentences

    const e = run(['eval', model, corpus, '--batch', '1']);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/perplexity [\d.]+ \([\d.]+ bits per token\) over [\d,]+ tokens .*; 1 parallel part$/m);
    expect(Number(/perplexity ([\d.]+)/.exec(e.stdout)![1])).toBeLessThan(5);
    const g = run(['generate', model, '--prompt', 'the cat', '--tokens', '8', '--seed', '2']);
    expect(g.status, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/^the cat /);
    expect(run(['generate', model, '--prompt', 'the cat', '--tokens', '8', '--seed', '2']).stdout).toBe(g.stdout);
    const p = run(['predict', model], 'the cat\nthe dog sat on the\n');
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^the cat → (sat|saw|and) /m);
    expect(p.stdout).toMatch(/^the dog sat on the → (mat|log|cat|dog) /m);
    const info = run(['info', model]);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/word-level window model \(4-gram: context 3, embedding 12, hidden 24, direct connections\), vocabulary \d+, [\d,]+ parameters/);

    // --schedule cosine anneals the lr to 0 over --epochs.
    const cosine = run([...common.filter((a) => a !== '--direct'), '--epochs', '2', '--schedule', 'cosine', '--out', join(dir, 'c.safetensors')]);
    expect(cosine.status, cosine.stderr).toBe(0);
    expect(cosine.stdout).toMatch(/epoch 1: .*, lr [1-9]\.\de-3\n/);
    expect(cosine.stdout).toMatch(/epoch 2: .*, lr 0\.0e\+0\n/);
  });

  it('ngram: counts, saves, and eval, generate, predict and info use the model file', () => {
    const corpus = join(dir, 'corpus-ngram.txt'), model = join(dir, 'n.safetensors');
    writeFileSync(corpus, Array.from({ length: 120 }, (_, i) => LINES[i % LINES.length]).join('\n') + '\n');
    const t = run(['train', corpus, '--model', 'ngram', '--order', '3', '--out', model, '--quiet']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/counted a word-level 3-gram model \(smoothing kn\) on .* in [\d.]+ s/);
    expect(t.stdout).toMatch(/n-grams per order [\d,]+ \/ [\d,]+ \/ [\d,]+; [\d,]+ bytes \([\d.]+ per n-gram\)/);
    expect(t.stdout).toMatch(/validation: perplexity [\d.]+ .*each line restarted from <s>/);
    expect(t.stdout).toMatch(/"The" → /);
    const ppl = Number(/validation: perplexity ([\d.]+)/.exec(t.stdout)![1]);
    expect(ppl).toBeLessThan(5);
    const e = run(['eval', model, corpus]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/perplexity [\d.]+ \([\d.]+ bits per token\) over [\d,]+ tokens .*each of 120 lines restarted from <s>/);
    const g = run(['generate', model, '--prompt', 'the cat', '--tokens', '8', '--seed', '2']);
    expect(g.status, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/^the cat /);
    const p = run(['predict', model], 'the cat\nthe dog sat on the\n');
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^the cat → (sat|saw|and) /m);
    expect(p.stdout).toMatch(/^the dog sat on the → (mat|log|cat|dog) /m);
    const info = run(['info', model]);
    expect(info.stdout).toMatch(/word-level 3-gram, smoothing kn, vocabulary \d+, n-grams per order/);
    const add = run(['train', corpus, '--model', 'ngram', '--order', '2', '--smoothing', 'add', '--delta', '0.5', '--out', model, '--quiet']);
    expect(add.status, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/2-gram model \(smoothing add\)/);
  });
});
