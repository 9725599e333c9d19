// @ts-check
// The demo's Worker: holds the runtime, the model and a Predictor, and trains
// here so the page never freezes. Messages in: { type, id, ... }; every answer
// carries the request's id. Training runs in slices of ~150 ms (Trainer's
// shouldStop), with a macrotask between slices, so 'stop', 'predict' and
// 'generate' are answered while it trains. Threads: all cores but one when the
// page is cross-origin isolated (COOP + COEP), else one.

import {
  init, WordTokenizer, CharTokenizer, RNNLanguageModel, Trainer, Predictor, saveModel, loadModel,
} from 'mnemo';

/** @type {Promise<any>} */
// One core is left to the page (its main thread draws the chart and takes keys).
const runtime = init({ numThreads: self.crossOriginIsolated ? Math.max(1, navigator.hardwareConcurrency - 1) : 1 })
  .then(async (rt) => { await rt.threadsReady; return rt; });
/** @type {{ model: any, tokenizer: any, predictor: any } | null} */
let current = null;
let stopRequested = false;

/** @param {any} msg @param {Transferable[]} [transfer] */
const post = (msg, transfer = []) => self.postMessage(msg, transfer);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** Replaces the current model (freeing the old one's predictor). @param {any} model @param {any} tokenizer */
function use(model, tokenizer) {
  current?.predictor.dispose();
  current = { model, tokenizer, predictor: new Predictor(model, tokenizer) };
}

/** @param {{ text: string, level: 'word' | 'char', hidden: number, seconds: number }} o @param {number} id */
async function train(o, id) {
  const rt = await runtime;
  const text = String(o.text ?? '');
  if (text.trim().length < 200) throw new Error(`the text is too short to train on (${text.trim().length} characters; paste at least 200)`);
  const hidden = Math.round(Number(o.hidden)), seconds = Number(o.seconds);
  if (!(hidden >= 8 && hidden <= 512)) throw new Error(`hidden size must be in [8, 512], got ${o.hidden}`);
  if (!(seconds > 0 && seconds <= 600)) throw new Error(`seconds must be in (0, 600], got ${o.seconds}`);
  const tokenizer = o.level === 'char' ? CharTokenizer.fit(text) : WordTokenizer.fit(text, { minCount: 1 });
  const ids = tokenizer.encode(text);
  const batchSize = Math.max(1, Math.min(16, Math.floor(ids.length / 80)));
  const seqLen = o.level === 'char' ? 64 : 20;
  const model = new RNNLanguageModel(rt, {
    vocabSize: tokenizer.vocab.size, embeddingDim: hidden, hiddenSize: hidden, cell: 'lstm', numLayers: 1,
    dropout: 0, tieWeights: true, seed: 1,
  });
  use(model, tokenizer);
  stopRequested = false;
  const started = performance.now(), deadline = started + seconds * 1000;
  let sliceEnd = 0;
  const trainer = new Trainer(model, { train: ids, startToken: tokenizer.eos }, {
    epochs: 1_000_000, batchSize, seqLen: Math.max(2, Math.min(seqLen, Math.floor(ids.length / batchSize) - 1)), lr: 1e-2, clip: 1,
    shouldStop: () => stopRequested || performance.now() >= Math.min(deadline, sliceEnd),
  });
  let sent = 0;
  post({ type: 'started', id, vocabSize: tokenizer.vocab.size, tokens: ids.length, threads: rt.threads, build: rt.build, crossOriginIsolated: self.crossOriginIsolated });
  try {
    for (;;) {
      sliceEnd = performance.now() + 150;
      const t0 = performance.now();
      const { losses } = await trainer.train(); // until shouldStop: the end of the slice
      const tokensPerSec = (losses.length - sent) * batchSize * trainer.options.seqLen / ((performance.now() - t0) / 1000);
      post({ type: 'progress', id, losses: losses.slice(sent), step: losses.length, elapsed: (performance.now() - started) / 1000, seconds, tokensPerSec });
      sent = losses.length;
      if (stopRequested || performance.now() >= deadline) break;
      await tick(); // let 'stop', 'predict' and 'generate' in
    }
  } finally {
    trainer.dispose();
  }
  current?.predictor.reset();
  post({ type: 'trained', id, steps: sent, seconds: (performance.now() - started) / 1000, stopped: stopRequested });
}

self.onmessage = async (/** @type {MessageEvent} */ e) => {
  const msg = e.data, id = msg.id;
  try {
    switch (msg.type) {
      case 'hello': {
        const rt = await runtime;
        post({ type: 'ready', id, build: rt.build, threads: rt.threads, crossOriginIsolated: self.crossOriginIsolated });
        break;
      }
      case 'train': await train(msg, id); break;
      case 'stop': stopRequested = true; post({ type: 'ok', id }); break;
      case 'predict': {
        if (!current) throw new Error('no model yet: train one or load a model file');
        const t0 = performance.now();
        const suggestions = current.predictor.predictNextText(String(msg.text), { topK: 5, partial: true });
        post({ type: 'suggestions', id, text: msg.text, suggestions, ms: performance.now() - t0 });
        break;
      }
      case 'generate': {
        if (!current) throw new Error('no model yet: train one or load a model file');
        const text = current.predictor.generate(String(msg.prompt), { maxTokens: 40, temperature: 0.8, topK: 20, seed: msg.seed ?? 0 });
        post({ type: 'generated', id, text });
        break;
      }
      case 'save': {
        if (!current) throw new Error('no model yet: train one or load a model file');
        const bytes = saveModel(current.model, current.tokenizer);
        post({ type: 'saved', id, bytes }, [bytes.buffer]);
        break;
      }
      case 'load': {
        const rt = await runtime;
        const { model, tokenizer } = loadModel(rt, new Uint8Array(msg.bytes));
        use(model, tokenizer);
        post({ type: 'loaded', id, vocabSize: tokenizer.vocab.size, config: model.config });
        break;
      }
      default: throw new Error(`unknown message ${JSON.stringify(msg.type)}`);
    }
  } catch (err) {
    post({ type: 'error', id, error: `${/** @type {Error} */ (err)?.name ?? 'Error'}: ${/** @type {Error} */ (err)?.message ?? err}` });
  }
};
