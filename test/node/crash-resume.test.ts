// Crash-safe training: `mnemo train` is killed with SIGKILL at 20 random
// moments (seeded) spread over a real run (startup, training windows, the
// checkpoint written after every window, validation at epoch ends, the final
// model write), resumed with --resume after each kill, and must end with the
// model file's weights and the final checkpoint byte-identical to those of an
// uninterrupted run. Also: no stale temporary file survives a resume.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from 'mnemo';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mnemo-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KILLS = 20;
const WRITE_KILLS = 5;
const EPOCHS = 3;

/** A seeded uniform [0, 1) generator (an LCG: plenty for picking moments). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** A small corpus from a tiny grammar: 26 words, a few thousand tokens. */
function corpus(lines: number, next: () => number): string {
  const pick = (a: string[]) => a[Math.floor(next() * a.length)]!;
  const nouns = ['cat', 'dog', 'bird', 'man', 'woman', 'child', 'horse', 'fish'];
  const np = () => `${pick(['the', 'a', 'every', 'one'])} ${next() < 0.5 ? pick(['big', 'small', 'red', 'old', 'quiet']) + ' ' : ''}${pick(nouns)}`;
  return Array.from({ length: lines }, () =>
    `${np()} ${pick(['sees', 'likes', 'chases', 'finds', 'hears'])} ${np()}${next() < 0.3 ? ` and ${np()}` : ''} .`).join('\n') + '\n';
}

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; firstOutput: number; ms: number }

/**
 * Runs `mnemo train` in `work`, resuming when a checkpoint is there. killAt: when to send SIGKILL,
 * in ms after the start ('spawn') or after the first line of output ('output'), or as the temporary
 * file of the n-th write appears ('write'); none: run to the end.
 */
function train(work: string, killAt?: { from: 'spawn' | 'output' | 'write'; ms: number }): Promise<Run> {
  const args = [cli, 'train', join(dir, 'train.txt'), '--valid', join(dir, 'valid.txt'), '--epochs', String(EPOCHS),
    '--hidden', '32', '--embedding', '32', '--layers', '2', '--batch', '4', '--bptt', '10', '--dropout', '0.1', '--lr', '0.01',
    '--seed', '7', '--checkpoint-every', '1', '--out', join(work, 'm.safetensors'), '--quiet'];
  if (existsSync(join(work, 'm.safetensors.ckpt'))) args.push('--resume');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', firstOutput = -1;
    let timer: NodeJS.Timeout | undefined;
    const kill = () => child.kill('SIGKILL');
    if (killAt?.from === 'spawn') timer = setTimeout(kill, killAt.ms);
    let writes = 0;
    const watcher = killAt?.from === 'write'
      ? watch(work, (event, name) => { if (event === 'rename' && name?.endsWith('.tmp') && ++writes === killAt.ms) kill(); }) : undefined;
    const guard = setTimeout(kill, 120_000); // never hang the suite
    child.stdout.on('data', (d: Buffer) => {
      if (firstOutput < 0) {
        firstOutput = performance.now() - started;
        if (killAt?.from === 'output') timer = setTimeout(kill, killAt.ms);
      }
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer); clearTimeout(guard); watcher?.close();
      resolve({ code, signal, stdout, stderr, firstOutput, ms: performance.now() - started });
    });
  });
}

/** The tensors of a safetensors file, by name, as raw bytes; and its metadata. */
function tensorsOf(path: string): { bytes: Map<string, Buffer>; meta: Record<string, string> } {
  const file = readSafetensors(new Uint8Array(readFileSync(path)));
  const bytes = new Map<string, Buffer>();
  for (const [name, t] of file.tensors) bytes.set(name, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return { bytes, meta: file.metadata };
}

/** What a checkpoint says about progress: windows trained, epochs reported. */
function progressOf(path: string): { windows: number; epochs: number } | null {
  if (!existsSync(path)) return null;
  const p = JSON.parse(tensorsOf(path).meta.progress!) as { losses: number[]; reports: unknown[] };
  return { windows: p.losses.length, epochs: p.reports.length };
}

/** The final checkpoint's content that must not depend on interruptions (wall-clock seconds excluded). */
function checkpointEssence(path: string) {
  const { bytes, meta } = tensorsOf(path);
  const p = JSON.parse(meta.progress!) as { losses: number[]; reports: Record<string, unknown>[] } & Record<string, unknown>;
  return { bytes, losses: p.losses, reports: p.reports.map(({ seconds: _, ...r }) => r), epoch: p.epoch, lr: p.lr };
}

function expectSameBytes(a: Map<string, Buffer>, b: Map<string, Buffer>, what: string): void {
  expect([...b.keys()], what).toEqual([...a.keys()]);
  for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), `${what}: ${name}`).toBe(true);
}

describe('kill -9 at any moment, then --resume', () => {
  it(`reaches the uninterrupted run's weights bit for bit after ${KILLS} random SIGKILLs`, async () => {
    const rng = lcg(20261122);
    writeFileSync(join(dir, 'train.txt'), corpus(400, rng));
    writeFileSync(join(dir, 'valid.txt'), corpus(150, rng));

    // The uninterrupted run: the reference, and the timeline the kill moments are drawn over.
    const refDir = join(dir, 'ref');
    mkdirSync(refDir);
    const ref = await train(refDir);
    expect(ref.code, ref.stderr).toBe(0);
    const refModel = tensorsOf(join(refDir, 'm.safetensors')).bytes;
    const refCkpt = checkpointEssence(join(refDir, 'm.safetensors.ckpt'));
    const windowsPerEpoch = refCkpt.losses.length / EPOCHS;
    expect(Number.isInteger(windowsPerEpoch)).toBe(true);

    // Kill moments: uniform over the reference run's wall time, sorted, drawn per campaign (a run
    // from scratch, resumed after each kill). A moment inside the startup (before the first output)
    // is a kill at that time after the start; a later one is a kill after the first output, by the
    // reference's time between this moment and the previous one. When a resumed run is faster than
    // the reference and ends before its kill, that campaign is complete: a new one draws the kills left.
    const log: string[] = [];
    const completed: string[] = [];
    let campaign = 0, work = '', midWrite = 0;
    while (log.length < KILLS) {
      work = join(dir, `run${++campaign}`);
      mkdirSync(work);
      const moments = Array.from({ length: KILLS - log.length }, () => rng() * ref.ms).sort((a, b) => a - b);
      let previous = 0, finished = false;
      for (const t of moments) {
        const before = progressOf(join(work, 'm.safetensors.ckpt'));
        const killAt = t < ref.firstOutput ? { from: 'spawn' as const, ms: t }
          : { from: 'output' as const, ms: t - Math.max(previous, ref.firstOutput) };
        previous = t;
        const r = await train(work, killAt);
        if (r.signal !== 'SIGKILL') {
          expect(r.code, r.stderr).toBe(0);
          finished = true;
          break;
        }
        const temps = readdirSync(work).filter((f) => f.endsWith('.tmp'));
        if (temps.length > 0) midWrite++;
        const after = progressOf(join(work, 'm.safetensors.ckpt'));
        const phase = r.firstOutput < 0 ? 'startup'
          : temps.length > 0 ? `writing ${temps.map((f) => f.replace(/\.\d+\.tmp$/, '')).join(', ')}`
            : after && after.epochs === EPOCHS ? 'finishing (final evaluation, model file)'
              : after && after.windows > 0 && after.windows % windowsPerEpoch === 0 && after.epochs < after.windows / windowsPerEpoch
                ? 'validation' : 'training';
        log.push(`kill ${String(log.length + 1).padStart(2)} (run ${campaign}) at ${t.toFixed(0).padStart(5)} ms ` +
          `(${killAt.ms.toFixed(0)} ms after ${killAt.from}): checkpoint ${before ? `${before.windows}` : '-'} → ` +
          `${after ? `${after.windows}` : '-'} windows, ${phase}`);
      }
      if (finished) completed.push(work);
    }
    // The last resume runs to the end.
    if (!completed.includes(work)) {
      const last = await train(work);
      expect(last.code, last.stderr).toBe(0);
      completed.push(work);
    }
    // Then a run with kills aimed at writes: as the temporary file of its n-th write appears (n random, ≤ 60).
    const aimedDir = join(dir, 'aimed');
    mkdirSync(aimedDir);
    let aimed = 0, aimedMidWrite = 0;
    for (;;) {
      const r = await train(aimedDir, aimed < WRITE_KILLS ? { from: 'write', ms: 1 + Math.floor(rng() * 60) } : undefined);
      if (r.signal !== 'SIGKILL') { expect(r.code, r.stderr).toBe(0); completed.push(aimedDir); break; }
      aimed++;
      if (readdirSync(aimedDir).some((f) => f.endsWith('.tmp'))) aimedMidWrite++;
    }
    console.log(`${KILLS} kills over a ${ref.ms.toFixed(0)} ms run (${refCkpt.losses.length} windows, ${EPOCHS} epochs, a checkpoint ` +
      `after every window); ${midWrite} kills left a temporary file (killed mid-write); ${completed.length} completed run(s); ` +
      `then ${aimed} kills as a checkpoint write began, ${aimedMidWrite} of them mid-write\n${log.join('\n')}`);

    expect(log).toHaveLength(KILLS);
    for (const w of completed) {
      expectSameBytes(refModel, tensorsOf(join(w, 'm.safetensors')).bytes, `${w}: model file`);
      const ckpt = checkpointEssence(join(w, 'm.safetensors.ckpt'));
      expectSameBytes(refCkpt.bytes, ckpt.bytes, `${w}: checkpoint`);
      expect({ ...ckpt, bytes: null }).toEqual({ ...refCkpt, bytes: null });
      // A resume deletes what a kill mid-write left behind.
      expect(readdirSync(w).filter((f) => f.endsWith('.tmp')), w).toEqual([]);
    }
  });
});
