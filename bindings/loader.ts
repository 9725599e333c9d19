// Portable loader: picks a build, compiles it (or takes a precompiled module)
// and instantiates it on a memory the caller owns. Uses only WebAssembly,
// fetch and URL, so it runs in browsers, workers, workerd, Deno, Bun and Node.

import { UnsupportedRuntimeError, WasmLoadError } from '../src/errors.js';
import { hasRelaxedSimd, hasSimd } from './features.js';
import { KERNEL_ABI, REQUIRED_EXPORTS, type BuildName, type KernelExports, type WasmFileName } from './kernels.js';

export type { BuildName, KernelExports, WasmFileName } from './kernels.js';
export { hasRelaxedSimd, hasSimd } from './features.js';

/**
 * Where a build's wasm comes from: a precompiled `WebAssembly.Module` (required
 * in workerd, which refuses to compile bytes), the bytes, a URL to fetch, or a
 * fetch `Response`.
 */
export type WasmSource = WebAssembly.Module | ArrayBuffer | ArrayBufferView | URL | string
  | Response | PromiseLike<Response>;

/**
 * One source (whatever build it is), or one per build so the loader can
 * choose; the '-threads' builds are needed for numThreads > 1.
 */
export type WasmSources = WasmSource | Partial<Record<WasmFileName, WasmSource>>;

/** What the loader needs to produce kernels. */
export interface LoadOptions {
  /** `'auto'` (default) takes relaxed SIMD when the runtime validates it, else plain SIMD. */
  build?: 'auto' | BuildName;
  /** Where the wasm comes from; default: the package's own build/ files, fetched. */
  wasm?: WasmSources;
}

/** An instantiated build. */
export interface LoadedKernels {
  build: BuildName;
  exports: KernelExports;
  module: WebAssembly.Module;
}

/** URL of a build's .wasm inside the installed package (bundlers see these literals). */
export function defaultWasmUrl(file: WasmFileName): URL {
  switch (file) {
    case 'relaxed': return new URL('../build/mnemo-relaxed.wasm', import.meta.url);
    case 'simd-threads': return new URL('../build/mnemo-simd-threads.wasm', import.meta.url);
    case 'relaxed-threads': return new URL('../build/mnemo-relaxed-threads.wasm', import.meta.url);
    default: return new URL('../build/mnemo-simd.wasm', import.meta.url);
  }
}

/** Every compiled file name. */
export const WASM_FILES: readonly WasmFileName[] = ['simd', 'relaxed', 'simd-threads', 'relaxed-threads'];

/** Whether `wasm` (as given to init) can provide the threads builds: the defaults, or a record naming one. */
export function hasThreadsSources(wasm: WasmSources | undefined): boolean {
  return wasm === undefined || (isSourceRecord(wasm) && (wasm['simd-threads'] !== undefined || wasm['relaxed-threads'] !== undefined));
}

function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
}

/** The build `auto` resolves to in this runtime, or the forced one if the runtime can run it. */
export function chooseBuild(requested: 'auto' | BuildName = 'auto'): BuildName {
  if (requested !== 'auto' && requested !== 'simd' && requested !== 'relaxed') {
    throw new UnsupportedRuntimeError(`build must be 'auto', 'simd' or 'relaxed', got ${JSON.stringify(requested)}`);
  }
  if (!hasSimd()) {
    throw new UnsupportedRuntimeError('this runtime does not validate WebAssembly SIMD (fixed-width SIMD128), which mnemo needs');
  }
  const relaxed = hasRelaxedSimd();
  if (requested === 'relaxed' && !relaxed) {
    throw new UnsupportedRuntimeError(
      "build 'relaxed' was forced, but this runtime does not validate relaxed SIMD (f32x4.relaxed_madd); " +
      "on Node 20 import mnemo's Node entry (it enables the V8 flag) or use build 'simd'");
  }
  if (requested === 'auto') return relaxed ? 'relaxed' : 'simd';
  return requested;
}

function isSourceRecord(w: WasmSources): w is Partial<Record<WasmFileName, WasmSource>> {
  // A plain object naming builds. (Not `instanceof Response`: in Node, touching
  // the Response global loads fetch's implementation, ~20 ms of a cold start.)
  return typeof w === 'object' && w !== null && Object.getPrototypeOf(w) === Object.prototype
    && !('then' in w) && WASM_FILES.some((name) => name in w);
}

async function compileSource(source: WasmSource, what: string): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  try {
    if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
      return await WebAssembly.compile(source as BufferSource);
    }
    let response: Response;
    if (typeof source === 'string' || source instanceof URL) {
      try {
        response = await fetch(source);
      } catch (e) {
        throw new WasmLoadError(`could not fetch ${what} from ${String(source)}: ${(e as Error).message}` +
          ' (where the package files cannot be fetched, pass the wasm in `init({ wasm })`; in workerd,' +
          ' import the .wasm files as modules and pass those)');
      }
      if (!response.ok) throw new WasmLoadError(`fetching ${what} from ${String(source)} failed: HTTP ${response.status}`);
    } else {
      response = await source;
    }
    const type = response.headers.get('content-type') ?? '';
    if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
      return await WebAssembly.compileStreaming(response);
    }
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (e) {
    if (e instanceof WasmLoadError) throw e;
    throw new WasmLoadError(`could not compile ${what}: ${(e as Error).message}` +
      (/disallowed|embedder/i.test((e as Error).message)
        ? ' (this runtime refuses to compile wasm from bytes: pass a precompiled WebAssembly.Module in `wasm`)' : ''));
  }
}

/**
 * Loads a build of the kernels on `memory`. With one source per build (or none:
 * the package's files), `build: 'auto'` picks relaxed SIMD when the runtime
 * validates it. With a single source, that source is used and its build is read
 * from the module itself.
 */
export async function loadKernels(memory: WebAssembly.Memory, options: LoadOptions = {}): Promise<LoadedKernels> {
  if (!(memory instanceof WebAssembly.Memory)) throw new WasmLoadError('loadKernels needs a WebAssembly.Memory');
  const wasm = options.wasm;
  // A shared memory needs the threads build of the chosen flavour.
  const shared = isShared(memory);
  const fileOf = (b: BuildName): WasmFileName => shared ? `${b}-threads` : b;
  let source: WasmSource;
  let expected: BuildName | undefined;
  if (wasm === undefined || isSourceRecord(wasm)) {
    const record = wasm ?? {};
    let build = chooseBuild(options.build);
    if (wasm !== undefined && record[fileOf(build)] === undefined) {
      // Auto falls back to what the caller gave; a forced build must be given.
      const other: BuildName = build === 'relaxed' ? 'simd' : 'relaxed';
      if (options.build !== undefined && options.build !== 'auto') {
        throw new WasmLoadError(`build '${fileOf(build)}' was forced, but no wasm source was given for it`);
      }
      if (record[fileOf(other)] === undefined || (other === 'relaxed' && !hasRelaxedSimd())) {
        throw new WasmLoadError(`no usable wasm source: give { ${fileOf('simd')} } (and optionally { ${fileOf('relaxed')} })`);
      }
      build = other;
    }
    source = record[fileOf(build)] ?? defaultWasmUrl(fileOf(build));
    expected = build;
  } else {
    source = wasm;
    if (options.build !== undefined && options.build !== 'auto') {
      chooseBuild(options.build);
      expected = options.build;
    } else if (!hasSimd()) {
      chooseBuild('simd');
    }
  }
  const module = await compileSource(source, expected ? `the '${expected}' build` : 'the wasm module');
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, { env: { memory } });
  } catch (e) {
    throw new WasmLoadError(`could not instantiate the kernels: ${(e as Error).message}`);
  }
  const exports = instance.exports as unknown as KernelExports;
  const missing = REQUIRED_EXPORTS.filter((name) => typeof exports[name] !== 'function');
  if (missing.length > 0) {
    throw new WasmLoadError(`the wasm module is not a mnemo build of this version: missing exports ${missing.join(', ')}`);
  }
  if (exports.abi_version() !== KERNEL_ABI) {
    throw new WasmLoadError(`the wasm module is from another mnemo version: kernel interface ${exports.abi_version()}, `
      + `these bindings call ${KERNEL_ABI} (rebuild, or serve the .wasm files of the same package version)`);
  }
  const build: BuildName = exports.build_relaxed() === 1 ? 'relaxed' : 'simd';
  if (expected !== undefined && build !== expected) {
    throw new WasmLoadError(`the source given for build '${expected}' is the '${build}' build`);
  }
  return { build, exports, module };
}
