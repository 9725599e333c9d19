// Runs the shared GEMM and LM checks in workerd (a Node script). Writes a capnp config
// into a temp dir whose modules are the built package (dist/src, dist/bindings,
// the two .wasm files as wasm modules), the checks and test/runtimes/workerd-worker.js,
// named by their paths in the repo so relative imports resolve; runs
// `workerd test` on it (no port), and prints the worker's report as one JSON line.
//   node test/runtimes/workerd.mjs

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TIMEOUT_MS = 60_000;
const MARK = 'MNEMO_REPORT ';
const repo = fileURLToPath(new URL('../../', import.meta.url));
// The platform package holds the binary. (The 'workerd' wrapper package is not
// used: this registry serves only the linux-x64 binaries, and the wrapper's
// other-platform optional dependencies make `npm ci` reject the lock file.)
const require = createRequire(import.meta.url);
const platformPackage = `@cloudflare/workerd-${process.platform}-${process.arch === 'x64' ? '64' : process.arch}`;
const workerdBin = require.resolve(`${platformPackage}/bin/workerd`);
const workerdVersion = require(`${platformPackage}/package.json`).version; // 1.YYYYMMDD.N
const compatibilityDate = workerdVersion.split('.')[1].replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');

const jsIn = (dir) => readdirSync(join(repo, dir), { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => `${dir}/${f}`);
const modules = [
  'test/runtimes/workerd-worker.js', // the main module comes first
  'test/runtimes/report.js',
  'test/runtimes/lm-checks.js',
  'test/portable/gemm-checks.js',
  ...jsIn('dist/src'),
  ...jsIn('dist/bindings'),
];
// Embeds starting with '/' are looked up in the import path, which is the repo (-I).
const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (services = [(name = "main", worker = .worker)]);

const worker :Workerd.Worker = (
  modules = [
${modules.map((m) => `    (name = "${m}", esModule = embed "/${m}"),`).join('\n')}
    (name = "dist/build/mnemo-simd.wasm", wasm = embed "/dist/build/mnemo-simd.wasm"),
    (name = "dist/build/mnemo-relaxed.wasm", wasm = embed "/dist/build/mnemo-relaxed.wasm"),
  ],
  bindings = [
    (name = "RUNTIME_VERSION", text = "${workerdVersion}"),
    (name = "SIMD_BYTES", data = embed "/dist/build/mnemo-simd.wasm"),
    (name = "LSTM_FIXTURE", data = embed "/test/fixtures/lstm.safetensors"),
  ],
  compatibilityDate = "${compatibilityDate}",
);
`;

/** Runs the workerd binary itself (not the npm wrapper), so the pid held is workerd's. */
function runWorkerd(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(workerdBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`workerd test timed out after ${TIMEOUT_MS} ms:\n${out}`)); }, TIMEOUT_MS);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'mnemo-workerd-'));
try {
  writeFileSync(join(dir, 'config.capnp'), config);
  const { code, out } = await runWorkerd(['test', '-I', repo, join(dir, 'config.capnp')]);
  const line = out.split('\n').find((l) => l.includes(MARK));
  if (code !== 0 || !line) throw new Error(`workerd test exited with ${code}${line ? '' : ' and printed no report'}:\n${out}`);
  console.log(line.slice(line.indexOf(MARK) + MARK.length));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
