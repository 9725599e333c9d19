// Packs the built package as npm would publish it, checks what the tarball
// holds (both .wasm builds; no .wat, tests or AssemblyScript sources), installs
// it offline into an empty project in a temp dir and multiplies two matrices
// there with `import { init, matmul } from 'mnemo'` in Node. Needs dist/ (npm
// test builds it first).

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const CHILD_TIMEOUT_MS = 60_000;

/** Runs a command and resolves with its stdout; rejects with stdout and stderr in the message. */
function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: CHILD_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const CHECK_SCRIPT = `import { init, matmul } from 'mnemo';
const rt = await init();
const a = rt.tensor([2, 3], [1, 2, 3, 4, 5, 6]);
const b = rt.tensor([3, 2], [7, 8, 9, 10, 11, 12]);
console.log(JSON.stringify({ build: rt.build, result: Array.from(matmul(a, b).toArray()) }));
`;

describe('npm package', () => {
  let tmp = '';
  let tarball = '';
  let files: string[] = [];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'mnemo-pack-'));
    const out = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], repo);
    const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
    tarball = join(tmp, info!.filename);
    files = info!.files.map((f) => f.path);
  });

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('holds both wasm builds and no .wat, tests or AssemblyScript sources', () => {
    expect(files).toContain('dist/build/mnemo-simd.wasm');
    expect(files).toContain('dist/build/mnemo-relaxed.wasm');
    expect(files).toContain('dist/src/node.js');
    expect(files).toContain('dist/src/index.js');
    expect(files.filter((f) => f.endsWith('.wat') || /^(test|assembly)\//.test(f) || f.includes('/test/'))).toEqual([]);
  });

  it('installs offline into an empty project and multiplies matrices in Node', async () => {
    const project = join(tmp, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'mnemo-pack-check', private: true, type: 'module' }));
    writeFileSync(join(project, 'check.mjs'), CHECK_SCRIPT);
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project);
    const { build, result } = JSON.parse(await run(process.execPath, ['check.mjs'], project)) as { build: string; result: number[] };
    expect(result).toEqual([58, 64, 139, 154]);
    expect(['simd', 'relaxed']).toContain(build);
    console.log(`installed package: init() picked the '${build}' build in Node ${process.version}; [[1,2,3],[4,5,6]]·[[7,8],[9,10],[11,12]] = ${JSON.stringify(result)}`);
  });
});
