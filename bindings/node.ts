// Node-only part of the loader: reads the package's .wasm files from disk
// (Node's fetch cannot read file: URLs) and, on Node 20, enables relaxed SIMD.

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { defaultWasmUrl, hasRelaxedSimd, WASM_FILES, type WasmSources } from './loader.js';
import { WORKER_SOURCE, type PoolWorker } from './pool.js';

/**
 * Node 20 (V8 11.3) validates relaxed SIMD only behind --experimental-wasm-relaxed-simd;
 * Node 22 and later have it on. This sets the flag at run time, which V8 reads
 * when it validates or compiles a module, so it must run before the relaxed build
 * is compiled; it changes nothing already compiled. Returns whether relaxed SIMD
 * now validates. Set MNEMO_NO_V8_FLAGS=1 to leave V8's flags alone.
 */
export function enableRelaxedSimd(): boolean {
  if (hasRelaxedSimd()) return true;
  if (globalThis.process?.env?.MNEMO_NO_V8_FLAGS === '1') return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return hasRelaxedSimd();
}

/** Every build's bytes, read from the installed package. */
export async function readPackageWasm(): Promise<WasmSources> {
  const bytes = await Promise.all(WASM_FILES.map((name) => readFile(defaultWasmUrl(name))));
  return Object.fromEntries(WASM_FILES.map((name, i) => [name, bytes[i]!]));
}

/** Logical cores Node may use. */
export function nodeThreads(): number {
  return availableParallelism();
}

/**
 * Starts a pool worker as a worker_threads Worker (the code inline, so no file
 * has to be found). Unreferenced: it never keeps the process alive.
 */
export function spawnNodeWorker(): PoolWorker {
  const w = new Worker(WORKER_SOURCE, { eval: true });
  w.unref();
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => void w.terminate(),
    watch(ready, failed) {
      w.once('message', (m) => m === 'ready' ? ready() : failed(new Error((m as { error?: string })?.error ?? 'unexpected message')));
      w.once('error', failed);
    },
  };
}
