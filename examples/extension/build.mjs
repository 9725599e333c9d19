// Makes the extension loadable: copies the built package (dist/src,
// dist/bindings and the two one-thread .wasm builds) into lib/mnemo/ and the
// bundled model (examples/make-model.mjs: the CLI trains it from the bundled
// Brown corpus) to model.safetensors. Then load examples/extension as an
// unpacked extension (chrome://extensions, developer mode).
//   npm run build && node examples/extension/build.mjs

import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const dist = here('../../dist/');
if (!existsSync(`${dist}src/index.js`)) throw new Error(`${dist}src/index.js is missing: run npm run build first`);

const lib = here('./lib/mnemo/');
rmSync(lib, { recursive: true, force: true });
mkdirSync(`${lib}build`, { recursive: true });
const js = (src) => src.endsWith('.js') || !/\.\w+$/.test(src); // .js files and folders
cpSync(`${dist}src`, `${lib}src`, { recursive: true, filter: js });
cpSync(`${dist}bindings`, `${lib}bindings`, { recursive: true, filter: js });
for (const build of ['simd', 'relaxed']) cpSync(`${dist}build/mnemo-${build}.wasm`, `${lib}build/mnemo-${build}.wasm`);
execFileSync(process.execPath, [here('../make-model.mjs')], { stdio: 'inherit' });
console.log('examples/extension is ready: load it unpacked (chrome://extensions, developer mode, "Load unpacked")');
