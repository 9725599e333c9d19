// Vite config of the browser demo.
//   npx vite examples/browser            (dev server on http://localhost:5173)
//   npx vite build examples/browser      (static site in examples/browser/dist)
// 'mnemo' is the built package in this repo (dist/, npm run build); in a project
// of your own, npm install mnemo and drop the alias. COOP + COEP make the page
// cross-origin isolated, so training in the Worker uses threads; a static host
// must send the same two headers.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  resolve: { alias: { mnemo: fileURLToPath(new URL('../../dist/src/index.js', import.meta.url)) } },
  worker: { format: 'es' },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: { headers, fs: { allow: [fileURLToPath(new URL('../..', import.meta.url))] } },
  preview: { headers },
});
