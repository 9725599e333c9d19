// @ts-check
// The options page: fine-tunes the model in use on pasted text (a few seconds
// of training, here in the page, one thread), stores the result in
// chrome.storage.local and tells the service worker to reload it.

import { init, loadModel, saveModel, Trainer } from './lib/mnemo/src/index.js';
import { chrome, clearModel, readModel, storeModel } from './model-store.js';

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));

async function showSource() {
  $('source').textContent = (await readModel()).source === 'fine-tuned' ? 'fine-tuned on your text' : 'the bundled model (Brown corpus)';
}

$('tune').onclick = async () => {
  const status = $('status');
  $('tune').disabled = true;
  status.dataset.state = 'training';
  try {
    const text = String($('text').value);
    const seconds = Number($('seconds').value);
    if (!(seconds > 0 && seconds <= 600)) throw new Error(`seconds must be in (0, 600], got ${$('seconds').value}`);
    const rt = await init({ numThreads: 1 });
    const { model, tokenizer } = loadModel(rt, (await readModel()).bytes);
    const ids = tokenizer.encode(text);
    const batchSize = Math.min(8, Math.floor(ids.length / 40));
    if (batchSize < 1) throw new Error(`the text is too short to fine-tune on (${ids.length} tokens; paste at least 40 words)`);
    const seqLen = Math.min(20, Math.floor(ids.length / batchSize) - 1);
    const started = performance.now(), deadline = started + seconds * 1000;
    const trainer = new Trainer(model, { train: ids, startToken: tokenizer.eos },
      { epochs: 1_000_000, batchSize, seqLen, lr: 3e-3, clip: 1, shouldStop: () => performance.now() >= deadline });
    /** @type {number[]} */
    let losses = [];
    while (performance.now() < deadline) {
      losses = (await trainer.train()).losses;
      $('progress').value = Math.min(1, (performance.now() - started) / (seconds * 1000));
      status.textContent = `step ${losses.length}, loss ${losses.at(-1)?.toFixed(3)}`;
      await new Promise((r) => setTimeout(r, 0)); // let the page paint
    }
    trainer.dispose();
    const first = mean(losses.slice(0, 5)), last = mean(losses.slice(-5));
    await storeModel(saveModel(model, tokenizer));
    const reloaded = await chrome.runtime.sendMessage({ type: 'reload' });
    if (reloaded?.error) throw new Error(reloaded.error);
    status.textContent = `Fine-tuned: ${losses.length} steps on ${ids.length} tokens, loss ${first.toFixed(3)} → ${last.toFixed(3)}. Suggestions now use it.`;
    status.dataset.first = String(first);
    status.dataset.last = String(last);
    status.dataset.state = 'done';
    await showSource();
  } catch (e) {
    status.textContent = `Error: ${/** @type {Error} */ (e).message}`;
    status.dataset.state = 'error';
  } finally {
    $('tune').disabled = false;
  }
};

$('reset').onclick = async () => {
  await clearModel();
  await chrome.runtime.sendMessage({ type: 'reload' });
  $('status').textContent = 'Back to the bundled model.';
  await showSource();
};

/** @param {number[]} xs */
function mean(xs) { return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length); }

showSource();
