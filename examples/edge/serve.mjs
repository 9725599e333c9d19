// Serves the edge example (worker.js) with workerd on 127.0.0.1: writes a
// workerd config (capnp) whose modules are the built package under the names
// its package.json exports ('mnemo', 'mnemo/wasm/simd.wasm', …: workerd looks
// bare names up beside the importing module), the worker,
// handler.js and the model as a data module, then runs the workerd binary
// itself (so the pid is the server's; Ctrl-C stops it).
//   node examples/make-model.mjs && node examples/edge/serve.mjs [--port 8787] [--model FILE] [--config-only]
// --config-only prints the config instead of serving; --model serves another model file
// inside the repository (scripts/bundle-facts.mjs times cold starts with its 5 MB model).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args[portAt + 1]) : 8787;
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535], got ${args[portAt + 1]}`);

const modelAt = args.indexOf('--model');
const modelPath = modelAt >= 0 ? fileURLToPath(new URL(args[modelAt + 1], `file://${process.cwd()}/`)) : join(repo, 'examples/edge/model.safetensors');
if (!modelPath.startsWith(repo)) throw new Error(`--model must be a file inside ${repo}, got ${modelPath}`);
const model = modelPath.slice(repo.length);
for (const f of ['dist/src/index.js', 'dist/build/mnemo-simd.wasm', model]) {
  if (!existsSync(join(repo, f))) throw new Error(`${f} is missing: run npm run build, then node examples/make-model.mjs`);
}

// The workerd binary from its platform package (the 'workerd' wrapper package is not installed here).
const require = createRequire(import.meta.url);
const platformPackage = `@cloudflare/workerd-${process.platform}-${process.arch === 'x64' ? '64' : process.arch}`;
const workerdBin = require.resolve(`${platformPackage}/bin/workerd`);
const workerdVersion = require(`${platformPackage}/package.json`).version; // 1.YYYYMMDD.N
const compatibilityDate = workerdVersion.split('.')[1].replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');

const jsIn = (dir) => readdirSync(join(repo, dir), { recursive: true }).filter((f) => f.endsWith('.js')).map((f) => `${dir}/${f}`);
// Embeds starting with '/' are looked up in the import path, which is the repo (-I).
const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "examples/edge/worker.js", esModule = embed "/examples/edge/worker.js"),
    (name = "examples/edge/handler.js", esModule = embed "/examples/edge/handler.js"),
    (name = "examples/edge/model.safetensors", data = embed "/${model}"),
    # workerd resolves a bare specifier as a path beside the importing module.
    (name = "examples/edge/mnemo", esModule = "export * from '../../dist/src/index.js';"),
    (name = "examples/edge/mnemo/wasm/simd.wasm", wasm = embed "/dist/build/mnemo-simd.wasm"),
    (name = "examples/edge/mnemo/wasm/relaxed.wasm", wasm = embed "/dist/build/mnemo-relaxed.wasm"),
${[...jsIn('dist/src'), ...jsIn('dist/bindings')].map((m) => `    (name = "${m}", esModule = embed "/${m}"),`).join('\n')}
  ],
  compatibilityDate = "${compatibilityDate}",
);
`;

if (args.includes('--config-only')) {
  console.log(config);
} else {
  const dir = mkdtempSync(join(tmpdir(), 'mnemo-edge-'));
  writeFileSync(join(dir, 'config.capnp'), config);
  const child = spawn(workerdBin, ['serve', '-I', repo, join(dir, 'config.capnp')], { stdio: 'inherit' });
  const stop = () => child.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  child.on('exit', (code, signal) => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(code ?? (signal ? 0 : 1));
  });
  console.log(`mnemo edge example: workerd ${workerdVersion} on http://127.0.0.1:${port}/ (GET /predict?text=…, POST /generate)`);
}
