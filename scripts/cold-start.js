// @ts-check
// One cold start, the same in every runtime: init() (fetch or read + compile +
// instantiate the wasm, one thread), load a model file already in memory, make
// a Predictor and get the first prediction. Prints one JSON line. Used by
// scripts/bundle-facts.mjs, which runs it in a fresh process (or page) each time.
//   node scripts/cold-start.js MODEL | deno run --allow-read scripts/cold-start.js MODEL | bun scripts/cold-start.js MODEL

/**
 * Times a cold start on the given module and model bytes. `wasm`: the builds'
 * bytes, already fetched like the model's (else init() fetches or reads them).
 * @param {any} mnemo @param {Uint8Array} bytes @param {Record<string, Uint8Array>} [wasm]
 */
export async function coldStart(mnemo, bytes, wasm) {
  const t0 = performance.now();
  const rt = await mnemo.init(wasm ? { numThreads: 1, wasm } : { numThreads: 1 });
  const t1 = performance.now();
  const { model, tokenizer } = mnemo.loadModel(rt, bytes);
  const predictor = new mnemo.Predictor(model, tokenizer);
  const t2 = performance.now();
  const first = predictor.predictNextText('the', { topK: 5 });
  const t3 = performance.now();
  return { build: rt.build, initMs: t1 - t0, loadMs: t2 - t1, predictMs: t3 - t2, totalMs: t3 - t0, modelBytes: bytes.length, top: first[0]?.token };
}

const g = /** @type {any} */ (globalThis);
const isMain = g.Deno ? g.Deno.mainModule === import.meta.url
  : g.Bun ? g.Bun.main === new URL(import.meta.url).pathname
    : typeof process !== 'undefined' && process.argv[1] && new URL(import.meta.url).pathname === process.argv[1];
if (isMain) {
  const args = g.Deno ? g.Deno.args : process.argv.slice(2);
  const bytes = g.Deno ? await g.Deno.readFile(args[0]) : new Uint8Array(await (await import('node:fs/promises')).readFile(args[0]));
  const mnemo = await import(g.Deno || g.Bun ? '../dist/src/index.js' : '../dist/src/node.js');
  console.log(JSON.stringify({ runtime: g.Deno ? 'deno' : g.Bun ? 'bun' : 'node', ...(await coldStart(mnemo, bytes)) }));
}
