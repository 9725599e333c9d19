// Runs the shared GEMM checks (test/portable/gemm-checks.js) and LM checks
// (test/runtimes/lm-checks.js: an LSTM's PyTorch parity fixture, training steps
// whose loss falls, save → load → the same prediction) against the built
// package in Deno, Bun and workerd through the entry scripts in test/runtimes/,
// and checks each report: both builds pass, init() with no `wasm` picks relaxed
// SIMD where the runtime validates it (Deno, Bun) and fails with WasmLoadError in
// workerd, which cannot compile wasm from bytes. Needs dist/ (npm test builds it).

import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const CHILD_TIMEOUT_MS = 90_000;

interface BuildReport {
  runtime: string; runtimeVersion: string; build: 'simd' | 'relaxed';
  passed?: number; failed?: number; failures?: string[]; skipped?: string;
  lm?: { passed: number; failed: number; failures: string[]; fixtureCases: number; firstLoss: number; lastLoss: number };
}
interface InitOutcome { build?: string; errorName?: string; isWasmLoadError?: boolean; error?: string }
interface Report {
  runtime: string; runtimeVersion: string; hasRelaxedSimd: boolean; builds: BuildReport[];
  defaultInit: InitOutcome; bytesInit?: InitOutcome;
  threads: { threads?: number; identical?: boolean; error?: string };
}

/**
 * The runtime's own executable (not a Node wrapper, so the pid held is the
 * runtime's). Deno is a devDependency only as its linux-x64 package: this
 * registry serves no other platform, and the 'deno' wrapper's other optional
 * dependencies make `npm ci` reject the lock. Bun's postinstall moves its binary
 * from the platform package to bun/bin/bun.exe; without install scripts it stays.
 */
function binary(name: 'deno' | 'bun'): string {
  const { platform, arch } = process;
  const candidates = name === 'deno'
    ? [`@deno/${platform}-${arch}${platform === 'linux' ? '-glibc' : ''}/deno`]
    : ['bun/bin/bun.exe', `@oven/bun-${platform}-${arch === 'arm64' ? 'aarch64' : arch}/bin/bun`];
  for (const file of candidates) {
    try {
      return require.resolve(file);
    } catch { /* try the next place */ }
  }
  throw new Error(`${name} is not installed (none of ${candidates.join(', ')} found): it is a devDependency, run npm ci`);
}

const commands: Record<string, () => [string, string[]]> = {
  deno: () => [binary('deno'), ['run', '--no-prompt', `--allow-read=${repo}`, 'test/runtimes/standalone.js']],
  bun: () => [binary('bun'), ['run', 'test/runtimes/standalone.js']],
  workerd: () => [process.execPath, ['test/runtimes/workerd.mjs']],
};

/** Runs a runtime's entry script and parses the JSON line it prints. */
function runEntry(runtime: string): Promise<Report> {
  const [file, args] = commands[runtime]!();
  return new Promise((resolve, reject) => {
    execFile(file, args, {
      cwd: repo,
      timeout: CHILD_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' },
    }, (error, stdout, stderr) => {
      if (error) {
        reject(new Error(`${runtime} (${file} ${args.join(' ')}) failed: ${error.message}\n${stdout}\n${stderr}`));
        return;
      }
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Report);
      } catch {
        reject(new Error(`${runtime} printed no JSON report:\n${stdout}\n${stderr}`));
      }
    });
  });
}

describe('runtimes', () => {
  it.each(Object.keys(commands))('%s passes the GEMM and LM checks on both builds; init() with no wasm behaves', async (runtime) => {
    const report = await runEntry(runtime);
    expect(report.runtime).toBe(runtime);
    expect(report.builds.map((b) => b.build)).toEqual(['simd', 'relaxed']);
    for (const b of report.builds) {
      if (b.skipped !== undefined) {
        // Only relaxed may be skipped, and only where the runtime lacks relaxed SIMD.
        expect({ build: b.build, hasRelaxedSimd: report.hasRelaxedSimd }).toEqual({ build: 'relaxed', hasRelaxedSimd: false });
        console.log(`${runtime} ${report.runtimeVersion}: ${b.build} skipped (${b.skipped})`);
        continue;
      }
      expect(b.failures, `${runtime} ${b.build}`).toEqual([]);
      expect(b.failed).toBe(0);
      expect(b.passed).toBeGreaterThan(0);
      console.log(`${runtime} ${report.runtimeVersion}: ${b.build} build, ${b.passed} passed, ${b.failed} failed`);
      // The LM checks: LSTM parity with PyTorch, training steps whose loss falls, save → load.
      expect(b.lm?.failures, `${runtime} ${b.build} LM checks`).toEqual([]);
      expect(b.lm!.fixtureCases).toBeGreaterThanOrEqual(7);
      expect(b.lm!.passed).toBeGreaterThan(b.lm!.fixtureCases * 4);
      console.log(`${runtime}: ${b.build} build, LM checks ${b.lm!.passed} passed (${b.lm!.fixtureCases} LSTM fixture cases; loss ${b.lm!.firstLoss.toFixed(3)} → ${b.lm!.lastLoss.toFixed(3)}; save → load same prediction)`);
    }

    if (runtime === 'workerd') {
      // No wasm given: the default file: URL cannot be fetched; bytes cannot be compiled.
      expect(report.defaultInit).toMatchObject({ errorName: 'WasmLoadError', isWasmLoadError: true });
      expect(report.bytesInit).toMatchObject({ errorName: 'WasmLoadError', isWasmLoadError: true });
      expect(report.bytesInit?.error).toMatch(/refuses to compile wasm from bytes/);
      expect(report.defaultInit.error).toMatch(/could not fetch .*import the \.wasm files as modules/);
      console.log(`workerd: init() with no wasm threw WasmLoadError: ${report.defaultInit.error}`);
    } else {
      expect(report.defaultInit).toEqual({ build: report.hasRelaxedSimd ? 'relaxed' : 'simd' });
      console.log(`${runtime}: init() with no wasm picked the '${report.defaultInit.build}' build`);
    }

    // Threads: Deno and Bun have workers and shared memory; workerd has no
    // workers (and is given only the one-thread builds), so it runs on one.
    expect(report.threads).toEqual({ threads: runtime === 'workerd' ? 1 : 2, identical: true });
    console.log(`${runtime}: numThreads 2 → ${report.threads.threads} thread(s), same bits as 1 thread`);
  });
});
