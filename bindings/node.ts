// Node-only part of the loader: reads the package's .wasm files from disk
// (Node's fetch cannot read file: URLs) and, on Node 20, enables relaxed SIMD.

import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { defaultWasmUrl, hasRelaxedSimd, type WasmSources } from './loader.js';

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

/** Both builds' bytes, read from the installed package. */
export async function readPackageWasm(): Promise<WasmSources> {
  const [simd, relaxed] = await Promise.all([
    readFile(defaultWasmUrl('simd')),
    readFile(defaultWasmUrl('relaxed')),
  ]);
  return { simd, relaxed };
}
