// @ts-check
// The extension's service worker: loads the model once (one thread; the
// extension's CSP allows 'wasm-unsafe-eval') and answers the content scripts'
// { type: 'predict', id, text } on their ports with the next-word suggestions.
// 'reload' (sent by the options page after fine-tuning) loads the model again.

import { init, loadModel, Predictor } from './lib/mnemo/src/index.js';
import { chrome, readModel } from './model-store.js';

/** @type {Promise<{ predictor: any, source: string, build: string }> | null} */
let loaded = null;

function load() {
  return (loaded ??= (async () => {
    const rt = await init({ numThreads: 1 });
    const { bytes, source } = await readModel();
    const { model, tokenizer } = loadModel(rt, bytes);
    return { predictor: new Predictor(model, tokenizer), source, build: rt.build };
  })().catch((e) => { loaded = null; throw e; }));
}

/** The top 3 next words after `text` (a partly typed last word is completed). @param {any} predictor @param {unknown} text */
function suggest(predictor, text) {
  const t0 = performance.now();
  const suggestions = predictor.predictNextText(typeof text === 'string' ? text.slice(-2000) : '', { topK: 8, partial: true })
    .filter((/** @type {{ token: string }} */ s) => s.token !== '<unk>' && s.token !== '</s>')
    .slice(0, 3)
    .map((/** @type {{ token: string, prob: number }} */ s) => ({ token: s.token, prob: s.prob }));
  return { suggestions, ms: performance.now() - t0 };
}

// Content scripts ask over a long-lived port: { type: 'predict', id, text } → { id, suggestions, ms }.
chrome.runtime.onConnect.addListener((/** @type {any} */ port) => {
  if (port.name !== 'mnemo-predict') return;
  port.onMessage.addListener((/** @type {any} */ msg) => {
    if (msg?.type !== 'predict') return;
    load().then(({ predictor }) => port.postMessage({ id: msg.id, ...suggest(predictor, msg.text) }),
      (e) => port.postMessage({ id: msg.id, error: String(e?.message ?? e) }));
  });
});

chrome.runtime.onMessage.addListener((/** @type {any} */ msg, /** @type {any} */ _sender, /** @type {(r: any) => void} */ reply) => {
  if (msg?.type === 'reload') {
    const old = loaded;
    loaded = null;
    old?.then(({ predictor }) => predictor.dispose(), () => {});
    load().then(({ source, build }) => reply({ source, build }), (e) => reply({ error: String(e?.message ?? e) }));
    return true;
  }
  return false;
});

load().catch((e) => console.error('mnemo: could not load the model:', e));
