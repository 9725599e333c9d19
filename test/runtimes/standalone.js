// @ts-check
// Entry for Deno and Bun: runs the shared GEMM and LM checks against the built package
// (dist/, the portable entry, which fetches its wasm from a file: URL) and
// prints one JSON line.
//   deno run --allow-read=<repo> test/runtimes/standalone.js
//   bun test/runtimes/standalone.js

import * as mnemo from '../../dist/src/index.js';
import { report } from './report.js';

const g = /** @type {any} */ (globalThis);
const [runtime, version] = g.Deno ? ['deno', g.Deno.version.deno] : g.Bun ? ['bun', g.Bun.version] : [];
if (!runtime) throw new Error('run this with deno or bun');
const fixture = new URL('../fixtures/lstm.safetensors', import.meta.url);
const fixtureBytes = g.Deno ? await g.Deno.readFile(fixture) : new Uint8Array(await g.Bun.file(fixture).arrayBuffer());
console.log(JSON.stringify(await report(mnemo, runtime, version, undefined, fixtureBytes)));
