// The `mnemo` command from the built package: help, version and usage errors;
// and the whole flow on a small corpus: train (model file, checkpoint, loss
// curve, perplexity, predictions, samples), eval, generate, predict, info.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from 'mnemo';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const run = (args: string[], input?: string) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000, ...(input !== undefined ? { input } : {}) });
const dir = mkdtempSync(join(tmpdir(), 'mnemo-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mnemo CLI', () => {
  it('info names the wasm build it picked', () => {
    const out = execFileSync(process.execPath, [cli, 'info'], { encoding: 'utf8' });
    expect(out).toMatch(/^mnemo \d+\.\d+\.\d+/);
    expect(out).toMatch(/wasm build {2}(simd|relaxed)/);
  });

  it('prints usage for help, the version for --version, and exits 2 on bad usage', () => {
    expect(run(['help']).stdout).toMatch(/usage: mnemo <command>/);
    expect(run(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = run(['frobnicate']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'/);
    for (const [args, msg] of [
      [['train', '--level', 'bogus'], /--level must be word or char/],
      [['train', '--hidden', '0'], /--hidden must be an integer ≥ 1/],
      [['train', '/no/such/file'], /no such file or folder/],
      [['train', '--bogus-flag'], /Unknown option '--bogus-flag'/],
      [['eval', '/no/such/model'], /no such model file/],
    ] as const) {
      const r = run([...args]);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
  });

  it('trains on a small corpus, then eval, generate, predict and info use the model file', () => {
    const corpus = join(dir, 'corpus.txt'), model = join(dir, 'm.safetensors');
    const lines = ['the cat sat on the mat .', 'the dog sat on the log .', 'a cat and a dog sat .', 'the cat saw the dog .'];
    writeFileSync(corpus, Array.from({ length: 120 }, (_, i) => lines[i % lines.length]).join('\n') + '\n');
    const t = run(['train', corpus, '--epochs', '3', '--hidden', '24', '--embedding', '24', '--batch', '4', '--bptt', '10',
      '--lr', '0.01', '--out', model, '--quiet']);
    expect(t.status, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/epoch 3: train ppl [\d.]+, valid ppl [\d.]+/);
    expect(t.stdout).toMatch(/validation: perplexity [\d.]+/);
    expect(t.stdout).toMatch(/"The" → /);
    expect(t.stdout).toMatch(/sample: /);
    for (const f of [model, `${model}.ckpt`, join(dir, 'm.loss.svg')]) expect(existsSync(f), f).toBe(true);
    expect(readFileSync(join(dir, 'm.loss.svg'), 'utf8')).toMatch(/^<svg/);
    const ppl = Number(/validation: perplexity ([\d.]+)/.exec(t.stdout)![1]);
    expect(ppl).toBeLessThan(5); // a 9-word language of 4 repeated sentences

    const e = run(['eval', model, corpus]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/perplexity [\d.]+ \([\d.]+ bits per token\)/);
    const static1 = Number(/perplexity ([\d.]+)/.exec(run(['eval', model, corpus, '--batch', '1']).stdout)![1]);
    const d = run(['eval', model, corpus, '--adapt', '0.003']);
    expect(d.status, d.stderr).toBe(0);
    expect(d.stdout).toMatch(/perplexity [\d.]+ \([\d.]+ bits per token\) over 930 tokens of .*dynamic evaluation \(--adapt 0\.003/);
    expect(Number(/perplexity ([\d.]+)/.exec(d.stdout)![1])).toBeLessThan(static1); // it learns the 4 sentences further
    expect(run(['eval', model, corpus, '--adapt', '0.003', '--batch', '4']).stderr).toMatch(/--adapt scores with --batch 1/);
    // --mix: interpolated with an n-gram model of the same text, which knows the 4 sentences by heart.
    const ngram = join(dir, 'ng.mnemo');
    expect(run(['train', corpus, '--model', 'ngram', '--order', '4', '--out', ngram]).status).toBe(0);
    const x = run(['eval', model, corpus, '--batch', '1', '--mix', ngram]);
    expect(x.status, x.stderr).toBe(0);
    expect(x.stdout).toMatch(/1 parallel part; interpolated with the 4-gram model .*ng\.mnemo \(mean n-gram weight 0\.\d\d\)/);
    expect(Number(/perplexity ([\d.]+)/.exec(x.stdout)![1])).toBeLessThan(static1);
    expect(run(['eval', model, corpus, '--mix', model]).stderr).toMatch(/--mix: .*m\.safetensors is a neural model; give an n-gram model/);
    expect(run(['eval', ngram, corpus, '--mix', ngram]).stderr).toMatch(/--mix interpolates a neural model with an n-gram model: give the neural model first/);
    expect(run(['eval', model, corpus, '--mix', join(dir, 'none')]).stderr).toMatch(/--mix: no such n-gram model file/);
    // --from: the model's weights, configuration and vocabulary; with a negligible rate, its perplexity is the model's.
    const from = join(dir, 'from.safetensors');
    const f = run(['train', corpus, '--from', model, '--epochs', '1', '--lr', '1e-9', '--dropout', '0.3', '--out', from, '--quiet']);
    expect(f.status, f.stderr).toBe(0);
    expect(f.stdout).toMatch(/training a word-level LSTM \(1 × 24, embedding 24, tied\) .* starting from .*m\.safetensors/);
    const before = Number(/perplexity ([\d.]+)/.exec(run(['eval', model, corpus]).stdout)![1]);
    const after = Number(/perplexity ([\d.]+)/.exec(run(['eval', from, corpus]).stdout)![1]);
    expect(Math.abs(after - before) / before).toBeLessThan(1e-3);
    const config = JSON.parse(readSafetensors(new Uint8Array(readFileSync(from))).metadata.config!) as Record<string, number>;
    expect([config.embeddingDropout, config.outputDropout]).toEqual([0.3, 0.3]);
    expect(run(['train', corpus, '--from', model, '--hidden', '8']).stderr).toMatch(/--hidden comes from the --from model/);
    expect(run(['train', corpus, '--from', join(dir, 'none.safetensors')]).stderr).toMatch(/--from: no such model file/);
    expect(run(['eval', model, corpus, '--adapt', '0']).stderr).toMatch(/--adapt must be a number/);
    const g = run(['generate', model, '--prompt', 'the cat', '--tokens', '8', '--seed', '2']);
    expect(g.status, g.stderr).toBe(0);
    expect(g.stdout).toMatch(/^the cat /);
    expect(run(['generate', model, '--prompt', 'the cat', '--tokens', '8', '--seed', '2']).stdout).toBe(g.stdout);
    const p = run(['predict', model], 'the cat\nthe dog sat on the\n');
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^the cat → (sat|saw|and) /m);
    expect(p.stdout).toMatch(/^the dog sat on the → (mat|log|cat|dog) /m);
    expect(run(['info', model]).stdout).toMatch(/word-level lstm, 1 × 24, embedding 24 \(tied\)/);
  });
  it('SIGTERM stops training after the current window with a checkpoint (exit 143), and --resume goes on', async () => {
    const corpus = join(dir, 'term.txt'), model = join(dir, 'term.safetensors');
    // 160,000 tokens through a 1 × 128 LSTM: seconds per epoch, so the signal comes inside the first one.
    writeFileSync(corpus, Array.from({ length: 20_000 }, (_, i) => `line ${i % 97} of the text ${i % 13} .`).join('\n') + '\n');
    const args = [cli, 'train', corpus, '--epochs', '50', '--hidden', '128', '--embedding', '128', '--batch', '4', '--bptt', '10', '--out', model];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // One signal only: a second SIGTERM while the checkpoint is written would (rightly) end the process at once.
      if (!sent && /training a word-level/.test(stdout)) { sent = true; setTimeout(() => child.kill('SIGTERM'), 500); }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(code, stdout).toBe(143);
    expect(stdout).not.toMatch(/^epoch 1:/m);
    expect(stdout).toMatch(/stopped \(SIGTERM\); checkpoint saved to .*term\.safetensors\.ckpt/);
    expect(stdout).toMatch(/resume with: npx mnemo train .* --resume/);
    expect(existsSync(`${model}.ckpt`)).toBe(true);
    // The same command with --resume goes on from there (here for 1 s: the time budget stops it again).
    const r = run([...args.slice(1), '--minutes', '0.02', '--resume', '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/stopped \(time budget of 0.02 min\); checkpoint saved/);
  }, 60_000);
});
