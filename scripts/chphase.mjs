import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright';
const repo = '/work/main/', modelPath = process.argv[2], N = Number(process.argv[3] ?? 5);
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
const page = `<!doctype html><link rel="icon" href="data:,"><script type="module">
const bytes = new Uint8Array(await (await fetch("/model")).arrayBuffer());
const mnemo = await import("/dist/src/index.js");
const S = await import("/dist/src/io/safetensors.js");
const T = await import("/dist/src/lm/tokenizer.js");
const I = await import("/dist/src/nn/init.js");
const r = {}; let t = performance.now(); const lap = (k) => { const n = performance.now(); r[k] = n - t; t = n; };
const rt = await mnemo.init({ numThreads: 1 }); lap('init');
const f = S.readSafetensorsLayout(bytes); lap('layout');
const o = JSON.parse(f.metadata.tokenizer); lap('parseTok');
const toks = o.vocab.tokens.split(' '); lap('split');
const v = new T.Vocabulary(toks, o.vocab.unk); lap('Vocabulary');
const wt = T.WordTokenizer.fromVocabulary(v, { lowercase: o.lowercase }); lap('WordTokenizer');
const config = JSON.parse(f.metadata.config);
const model = I.withoutInit(() => new mnemo.RNNLanguageModel(rt, config)); lap('construct');
const mem = new Uint8Array(rt.memory.buffer);
for (const [name, p] of model.namedParameters()) { const tt = f.tensors.get(name); mem.set(tt.bytes, p.value.offset); } lap('copy');
for (const [name, p] of model.namedParameters()) rt.kernels.sum_squares(p.value.offset, p.value.size); lap('check');
const pred = new mnemo.Predictor(model, wt); lap('Predictor');
pred.predictNextText('the', { topK: 5 }); lap('predict');
window.result = r;
</script>`;
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/') { res.writeHead(200, { 'content-type': 'text/html' }); res.end(page); return; }
  const file = path === '/model' ? modelPath : join(repo, path);
  try { const b = readFileSync(file); res.writeHead(200, { 'content-type': types[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' }); res.end(b); } catch { res.writeHead(404).end(); }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const all = [];
for (let i = 0; i < N; i++) {
  const ctx = await browser.newContext(); const pg = await ctx.newPage();
  pg.on('pageerror', (e) => console.log('ERR', e.message));
  await pg.goto(`http://127.0.0.1:${server.address().port}/`);
  await pg.waitForFunction(() => window.result, null, { timeout: 60000 });
  all.push(await pg.evaluate(() => window.result)); await ctx.close();
}
await browser.close(); server.close();
const keys = Object.keys(all[0]);
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(keys.map((k) => `${k} ${med(all.map((r) => r[k])).toFixed(1)}`).join('  '));
console.log('total', med(all.map((r) => keys.reduce((s, k) => s + r[k], 0))).toFixed(1));
