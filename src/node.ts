// The Node entry of mnemo: everything of the portable entry, with an init()
// that reads the wasm from the package on disk and enables relaxed SIMD on
// Node 20. Node resolves `import 'mnemo'` here through the exports map.

import { enableRelaxedSimd, nodeThreads, readPackageWasm, spawnNodeWorker } from '../bindings/node.js';
import { init as initPortable, type InitOptions, type Runtime } from './runtime.js';

export * from './index.js';
export { enableRelaxedSimd } from '../bindings/node.js';
export { loadBrown, BROWN_PACKAGE_VERSION, type BrownCorpus, type LoadBrownOptions } from './lm/brown.js';

/**
 * As the portable init(), but the default wasm source is the package's files,
 * read with node:fs, and worker threads are worker_threads (default: all cores).
 */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  if (options.build !== 'simd') enableRelaxedSimd();
  return initPortable({
    numThreads: nodeThreads(), spawnWorker: spawnNodeWorker,
    ...options, wasm: options.wasm ?? await readPackageWasm(),
  });
}
