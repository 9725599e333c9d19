// @ts-check
// The edge example's API (../edge/handler.js: GET /predict, POST /generate)
// served by Deno from a model file, on 127.0.0.1.
//   deno run --allow-read --allow-net=127.0.0.1 examples/deno/server.js [MODEL] [--port 8788]
// MODEL defaults to examples/models/brown-small.safetensors (node examples/make-model.mjs).
// 'mnemo' resolves to the package (here the repo itself; in a project of your own,
// npm install mnemo, or import 'npm:mnemo').

import { init, loadModel, Predictor } from 'mnemo';
import { handlerFromModel } from '../edge/handler.js';

const Deno = /** @type {any} */ (globalThis).Deno;
const args = [...Deno.args];
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args.splice(portAt, 2)[1]) : 8788;
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535]`);
const modelPath = args[0] ?? new URL('../models/brown-small.safetensors', import.meta.url);

const t0 = performance.now();
const rt = await init({ numThreads: 1 });
const handler = handlerFromModel({ loadModel, Predictor }, rt, await Deno.readFile(modelPath));
const server = Deno.serve({
  hostname: '127.0.0.1', port,
  onListen: (/** @type {{ port: number }} */ a) => console.log(`mnemo deno example: ${rt.build} build, model loaded in ${(performance.now() - t0).toFixed(1)} ms, listening on http://127.0.0.1:${a.port}/`),
}, handler);
Deno.addSignalListener('SIGTERM', () => server.shutdown());
