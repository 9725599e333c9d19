// Measures the README's bundle facts: the size of each .wasm build (raw and
// gzipped), the gzipped size of the library's JavaScript as a browser bundle
// (dist/src/index.js bundled and minified by rolldown, the bundler inside
// Vite) plus one .wasm, and the cold start per runtime (init + load a ~5 MB
// model + first prediction; a fresh process or page each run, median of RUNS).
//   npm run build && node scripts/bundle-facts.mjs [--runs 5]
// Writes test-output/bundle-facts.json and prints a Markdown table.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const repo = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);
const runsAt = process.argv.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(process.argv[runsAt + 1]) : 5;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs must be a positive integer`);
const out = join(repo, 'test-output');
mkdirSync(out, { recursive: true });
const gz = (b) => gzipSync(b, { level: 9 }).length;
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

// 1. wasm sizes.
const wasm = readdirSync(join(repo, 'dist/build')).filter((f) => f.endsWith('.wasm')).sort().map((f) => {
  const b = readFileSync(join(repo, 'dist/build', f));
  return { file: f, bytes: b.length, gzip: gz(b) };
});

// 2. The browser bundle: the portable entry, minified; the wasm stays a separate asset.
const { build } = await import('rolldown');
const bundle = await build({ input: join(repo, 'dist/src/index.js'), write: false, output: { format: 'esm', minify: true }, logLevel: 'silent' });
const js = bundle.output.filter((o) => o.type === 'chunk').map((o) => Buffer.from(o.code)).reduce((a, b) => Buffer.concat([a, b]));
const relaxed = wasm.find((w) => w.file === 'mnemo-relaxed.wasm');
const browser = { jsBytes: js.length, jsGzip: gz(js), wasmGzip: relaxed.gzip, totalGzip: gz(js) + relaxed.gzip };

// 3. A ~5 MB model: word LSTM, V = 10,000, E = H = 120, tied (random weights: the timing does not depend on them).
const modelPath = join(out, 'bundle-facts-model.safetensors');
{
  const mnemo = await import('../dist/src/node.js');
  const rt = await mnemo.init({ numThreads: 1 });
  const words = Array.from({ length: 9998 }, (_, i) => `w${i}`);
  const tok = mnemo.WordTokenizer.fit(['the', ...words].join(' '));
  const model = new mnemo.RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 120, hiddenSize: 120, cell: 'lstm', numLayers: 1, tieWeights: true, seed: 1 });
  writeFileSync(modelPath, mnemo.saveModel(model, tok));
}
const modelBytes = readFileSync(modelPath).length;

// 4. Cold starts, a fresh process each.
const bin = {
  deno: require.resolve(`@deno/${process.platform}-${process.arch}${process.platform === 'linux' ? '-glibc' : ''}/deno`),
  bun: (() => { try { return require.resolve('bun/bin/bun.exe'); } catch { return require.resolve(`@oven/bun-${process.platform}-${process.arch}/bin/bun`); } })(),
};
const commands = {
  node: [process.execPath, ['scripts/cold-start.js', modelPath]],
  deno: [bin.deno, ['run', `--allow-read=${repo}`, 'scripts/cold-start.js', modelPath]],
  bun: [bin.bun, ['scripts/cold-start.js', modelPath]],
};
const cold = {};
for (const [runtime, [file, args]] of Object.entries(commands)) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const line = execFileSync(file, args, { cwd: repo, encoding: 'utf8', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } }).trim().split('\n').pop();
    runs.push(JSON.parse(line));
  }
  cold[runtime] = summarize(runs);
}
// Chromium: a fresh page each run, the model bytes fetched before the clock starts; init()
// fetching the wasm itself, and (as the target counts it: instantiation) the wasm fetched before too.
const chromium = await chromiumColdStart();
if (chromium.skipped) cold.chromium = chromium;
else { cold['chromium (init fetches the wasm)'] = chromium.fetches; cold['chromium (wasm fetched before)'] = chromium.fetched; }

// workerd: the edge example serving this model, a fresh workerd process each run. Its clock
// stands still while a request computes, so the time is taken from outside: the first
// request (instantiate the precompiled wasm, load the model, first prediction, and HTTP on
// 127.0.0.1), then a second one (a prediction and HTTP) for comparison.
cold.workerd = await workerdColdStart();

async function workerdColdStart() {
  const { createServer, get } = await import('node:http');
  const { connect } = await import('node:net');
  const { spawn } = await import('node:child_process');
  const request = (url) => new Promise((resolve, reject) => {
    const t = performance.now();
    get(url, (res) => { res.resume(); res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode })); }).on('error', reject);
  });
  const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
  const listening = (port) => new Promise((resolve) => { const c = connect(port, '127.0.0.1', () => { c.end(); resolve(true); }).on('error', () => resolve(false)); });
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const port = await freePort();
    const child = spawn(process.execPath, ['examples/edge/serve.mjs', '--port', String(port), '--model', modelPath], { cwd: repo, stdio: 'ignore' });
    try {
      const until = Date.now() + 60_000;
      while (!(await listening(port))) {
        if (Date.now() > until) throw new Error('workerd did not listen within 60 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      const url = `http://127.0.0.1:${port}/predict?text=the&k=5`;
      const first = await request(url), second = await request(url);
      if (first.status !== 200 || second.status !== 200) throw new Error(`workerd answered ${first.status}, ${second.status}`);
      runs.push({ first: first.ms, second: second.ms });
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
  return { build: 'relaxed', runs: RUNS, firstRequestMs: median(runs.map((r) => r.first)), secondRequestMs: median(runs.map((r) => r.second)) };
}

function summarize(runs) {
  return {
    build: runs[0].build, runs: runs.length,
    initMs: median(runs.map((r) => r.initMs)), loadMs: median(runs.map((r) => r.loadMs)),
    predictMs: median(runs.map((r) => r.predictMs)), totalMs: median(runs.map((r) => r.totalMs)),
  };
}

async function chromiumColdStart() {
  let chromiumPath;
  try { chromiumPath = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim(); } catch { return { skipped: 'no chromium' }; }
  const { createServer } = await import('node:http');
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.safetensors': 'application/octet-stream' };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      // ?fetched: the wasm builds' bytes are fetched before the clock too, as the model's are (the
      // target counts instantiation, not the network); else init() fetches the wasm itself.
      res.end('<!doctype html><link rel="icon" href="data:,"><script type="module">'
        + 'const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());'
        + 'const bytes = await get("/model");'
        + 'const wasm = location.search === "?fetched" ? { simd: await get("/dist/build/mnemo-simd.wasm"), relaxed: await get("/dist/build/mnemo-relaxed.wasm") } : undefined;'
        + 'const { coldStart } = await import("/scripts/cold-start.js");'
        + 'const mnemo = await import("/dist/src/index.js");'
        + 'window.result = await coldStart(mnemo, bytes, wasm);</script>');
      return;
    }
    const file = path === '/model' ? modelPath : join(repo, path);
    if (!file.startsWith(repo) && file !== modelPath) { res.writeHead(403).end(); return; }
    try {
      const body = readFileSync(file);
      res.writeHead(200, { 'content-type': types[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream' });
      res.end(body);
    } catch { res.writeHead(404).end(); }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const { chromium } = await import('playwright');
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
  const runs = { fetches: [], fetched: [] };
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const variant of ['fetches', 'fetched']) { // alternating, so both see the same machine
        const ctx = await browser.newContext(); // a fresh context: no cached compiled wasm
        const page = await ctx.newPage();
        await page.goto(variant === 'fetched' ? `${url}?fetched` : url);
        await page.waitForFunction(() => window.result, null, { timeout: 60_000 });
        runs[variant].push(await page.evaluate(() => window.result));
        await ctx.close();
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  return { fetches: summarize(runs.fetches), fetched: summarize(runs.fetched) };
}

const facts = { date: new Date().toISOString().slice(0, 10), wasm, browser, modelBytes, coldStart: cold };
writeFileSync(join(out, 'bundle-facts.json'), JSON.stringify(facts, null, 2));

console.log('| wasm build | bytes | gzipped |\n|---|---:|---:|');
for (const w of wasm) console.log(`| ${w.file} | ${w.bytes.toLocaleString('en')} | ${w.gzip.toLocaleString('en')} |`);
console.log(`\nBrowser bundle (portable entry, minified): JS ${kb(browser.jsBytes)}, gzipped ${kb(browser.jsGzip)}; + mnemo-relaxed.wasm gzipped ${kb(browser.wasmGzip)} = **${kb(browser.totalGzip)} gzipped**\n`);
console.log(`Cold start with a ${(modelBytes / 2 ** 20).toFixed(2)} MiB model (median of ${RUNS} fresh processes/pages, one thread), ms:\n`);
console.log('| runtime | build | init (compile + instantiate) | load model | first prediction | total |\n|---|---|---:|---:|---:|---:|');
for (const [rt, c] of Object.entries(cold)) {
  if (c.skipped) { console.log(`| ${rt} | skipped: ${c.skipped} | | | | |`); continue; }
  if (rt === 'workerd') continue;
  console.log(`| ${rt} | ${c.build} | ${c.initMs.toFixed(1)} | ${c.loadMs.toFixed(1)} | ${c.predictMs.toFixed(1)} | **${c.totalMs.toFixed(1)}** |`);
}
console.log(`\nworkerd (the edge example, timed from outside): first request ${cold.workerd.firstRequestMs.toFixed(1)} ms `
  + `(instantiate, load the model, first prediction, HTTP); a second request ${cold.workerd.secondRequestMs.toFixed(1)} ms`);
