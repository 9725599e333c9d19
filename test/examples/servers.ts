// Helpers of the example tests: the runtimes' binaries, a free port, starting
// a server as a child process and stopping it by its pid, and making the
// examples' model (examples/make-model.mjs).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const repo = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

/** The runtime's own executable (see test/node/runtimes.test.ts). */
export function binary(name: 'deno' | 'bun' | 'workerd'): string {
  const { platform, arch } = process;
  const candidates = name === 'deno' ? [`@deno/${platform}-${arch}${platform === 'linux' ? '-glibc' : ''}/deno`]
    : name === 'bun' ? ['bun/bin/bun.exe', `@oven/bun-${platform}-${arch === 'arm64' ? 'aarch64' : arch}/bin/bun`]
      : [`@cloudflare/workerd-${platform}-${arch === 'x64' ? '64' : arch}/bin/workerd`];
  for (const file of candidates) {
    try {
      return require.resolve(file);
    } catch { /* the next */ }
  }
  throw new Error(`${name} is not installed (none of ${candidates.join(', ')}): it is a devDependency, run npm ci`);
}

/** A TCP port free on 127.0.0.1 now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Trains (once; cached in examples/models/) and copies the examples' model. */
export function makeModel(): void {
  execFileSync(process.execPath, ['examples/make-model.mjs'], { cwd: repo, stdio: 'inherit', timeout: 180_000 });
}

export interface Server { url: string; child: ChildProcess; output: () => string; stop: () => Promise<void> }

/**
 * Starts `file args` and waits until GET url answers (at most `timeoutMs`).
 * The child is the server itself, so stop() ends exactly it (SIGTERM, then SIGKILL).
 */
export async function startServer(file: string, args: string[], url: string, timeoutMs = 30_000): Promise<Server> {
  const child = spawn(file, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${file} exited with ${child.exitCode} before serving:\n${out}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      return { url, child, output: () => out, stop };
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${file} did not answer ${url} within ${timeoutMs} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
