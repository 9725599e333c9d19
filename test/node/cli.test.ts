// The `mnemo` command from the built package: info, help, version, and a clear
// usage error for an unknown command.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('mnemo CLI', () => {
  it('info names the wasm build it picked', () => {
    const out = execFileSync(process.execPath, [cli, 'info'], { encoding: 'utf8' });
    expect(out).toMatch(/^mnemo \d+\.\d+\.\d+/);
    expect(out).toMatch(/wasm build {2}(simd|relaxed)/);
  });

  it('prints usage for help, the version for --version, and exits 2 on an unknown command', () => {
    expect(run('help').stdout).toMatch(/usage: mnemo <command>/);
    expect(run('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = run('frobnicate');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
