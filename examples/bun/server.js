// @ts-check
// The edge example's API (../edge/handler.js: GET /predict, POST /generate)
// served by Bun from a model file, on 127.0.0.1.
//   bun examples/bun/server.js [MODEL] [--port 8789]
// MODEL defaults to examples/models/brown-small.safetensors (node examples/make-model.mjs).
// 'mnemo' resolves to the package (here the repo itself; in a project of your own, bun add mnemo).

import { init, loadModel, Predictor } from 'mnemo';
import { handlerFromModel } from '../edge/handler.js';

const Bun = /** @type {any} */ (globalThis).Bun;
const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args.splice(portAt, 2)[1]) : 8789;
if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535]`);
const modelPath = args[0] ?? new URL('../models/brown-small.safetensors', import.meta.url).pathname;

const t0 = performance.now();
const rt = await init({ numThreads: 1 });
const handler = handlerFromModel({ loadModel, Predictor }, rt, new Uint8Array(await Bun.file(modelPath).arrayBuffer()));
const server = Bun.serve({ hostname: '127.0.0.1', port, fetch: handler });
console.log(`mnemo bun example: ${rt.build} build, model loaded in ${(performance.now() - t0).toFixed(1)} ms, listening on http://127.0.0.1:${server.port}/`);
