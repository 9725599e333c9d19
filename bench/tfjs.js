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

/**
 * Registers tfjs-core's gradient functions (what the @tensorflow/tfjs union
 * package does; without them tf.grads/variableGrads fail with "gradient
 * function not found"). tfjs-core's Node bundle does not contain them, and
 * its ESM files (dist/register_all_gradients.js and what it imports) use
 * extension-less relative imports that Node's ESM resolver refuses, so a
 * resolve hook adds the '.js'. The ESM modules share the bundle's engine and
 * registries (tfjs keeps those on globalThis), so the gradients they register
 * are the ones the engine uses. Takes ~2 s (it loads every op module).
 */
let gradientsRegistered = false;
async function registerTfjsGradients() {
  if (gradientsRegistered) return;
  const { register } = await import('node:module');
  const hook = `export async function resolve(specifier, context, next) {
    if (specifier.startsWith('.') && !specifier.endsWith('.js')
        && context.parentURL?.includes('/@tensorflow/tfjs-core/dist/')) {
      try { return await next(specifier + '.js', context); } catch { return next(specifier + '/index.js', context); }
    }
    return next(specifier, context);
  }`;
  register('data:text/javascript,' + encodeURIComponent(hook));
  await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  gradientsRegistered = true;
}

/**
 * As loadTfjsWasm, with the cpu backend (plain JavaScript kernels) registered
 * and initialised too, and the gradient functions registered (training needs
 * them). Returns { tf, info }; the wasm backend is active.
 */
export async function loadTfjsBoth() {
  const { tf, info } = await loadTfjsWasm();
  await registerTfjsGradients();
  if (!tf.getGradient('BatchMatMul')) throw new Error('tfjs gradients did not register');
  await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
  return { tf, info };
}

/**
 * Makes `name` the active tfjs backend, synchronously: once a backend is
 * initialised, tf.setBackend does all its work before its first await.
 */
export function useBackend(tf, name) {
  if (tf.getBackend() === name) return;
  void tf.setBackend(name);
  if (tf.getBackend() !== name) throw new Error(`could not switch tfjs to the '${name}' backend synchronously`);
}
