// The gzipped library (the portable entry bundled and minified by rolldown,
// Vite's bundler, plus one wasm build) stays within the 60 KB of issue 5, measured
// as scripts/bundle-facts.mjs measures it. A size, not a time: it cannot flake.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

const dist = (p: string) => fileURLToPath(new URL(`../../dist/${p}`, import.meta.url));
const LIMIT = 60 * 1024;

describe('bundle size', () => {
  it(`portable JS (minified) + mnemo-relaxed.wasm, gzipped, ≤ ${LIMIT} bytes`, async () => {
    const { build } = await import('rolldown');
    const bundle = await build({ input: dist('src/index.js'), write: false, output: { format: 'esm', minify: true }, logLevel: 'silent' });
    const js = Buffer.concat(bundle.output.filter((o) => o.type === 'chunk').map((o) => Buffer.from((o as { code: string }).code)));
    const gz = (b: Buffer) => gzipSync(b, { level: 9 }).length;
    const total = gz(js) + gz(readFileSync(dist('build/mnemo-relaxed.wasm')));
    console.log(`bundle: JS ${gz(js)} + wasm ${total - gz(js)} = ${total} bytes gzipped (limit ${LIMIT})`);
    expect(total).toBeLessThanOrEqual(LIMIT);
  });
});
