// Compiles both wasm builds (asconfig.json targets 'simd' and 'relaxed') into
// build/, then copies the .wasm files to dist/build/, where the compiled loader
// (dist/bindings/loader.js) finds them at '../build/'.
import asc from 'assemblyscript/asc';
import { mkdirSync, copyFileSync, statSync } from 'node:fs';

for (const target of ['simd', 'relaxed', 'simd-threads', 'relaxed-threads']) {
  const { error, stderr } = await asc.main(['assembly/index.ts', '--target', target], {});
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for target ${target}: ${error.message}`);
    process.exit(1);
  }
  const file = `build/mnemo-${target}.wasm`;
  mkdirSync('dist/build', { recursive: true });
  copyFileSync(file, `dist/${file}`);
  console.log(`${file}: ${statSync(file).size} bytes`);
}
