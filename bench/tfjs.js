/**
 * Loads TensorFlow.js with its wasm backend in Node, as the reference the
 * benchmarks compare against, and reports which of its wasm builds runs.
 *
 * In Node, @tensorflow/tfjs-backend-wasm picks one of three files from its
 * dist/ folder: tfjs-backend-wasm.wasm (scalar), -simd.wasm (SIMD128) or
 * -threaded-simd.wasm. Threads are never used in Node (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is false there), so it runs the
 * single-threaded SIMD build when the engine validates SIMD. We point
 * setWasmPaths at that dist/ folder explicitly and identify the file actually
 * compiled by its byte size.
 */

import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Returns { tf, info } with the 'wasm' backend active; info = { wasmFile, simd, threads, version }. */
export async function loadTfjsWasm() {
  const require = createRequire(import.meta.url);
  const tf = await import('@tensorflow/tfjs-core');
  const tfWasm = await import('@tensorflow/tfjs-backend-wasm');
  const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
  tfWasm.setWasmPaths(dist + '/');

  // Record the size of the wasm binary the backend instantiates.
  const sizes = [];
  const instantiate = WebAssembly.instantiate;
  WebAssembly.instantiate = function (source, ...rest) {
    if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) sizes.push(source.byteLength);
    return instantiate.call(this, source, ...rest);
  };
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    await tf.ready();
  } finally {
    WebAssembly.instantiate = instantiate;
  }

  const files = readdirSync(dist).filter((f) => f.endsWith('.wasm'));
  const wasmFile = files.find((f) => sizes.includes(statSync(join(dist, f)).size)) ?? 'unknown';
  const info = {
    version: tfWasm.version_wasm,
    wasmFile,
    simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) && wasmFile.includes('simd'),
    threads: tfWasm.getThreadsCount(),
  };
  return { tf, info };
}
