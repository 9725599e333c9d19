// @ts-check
// The demo page: everything heavy runs in worker.js; this file only sends
// messages and draws. Each request gets an id; `call` resolves with the
// answer of the same id (training also streams 'progress' messages).

import { SAMPLES } from './samples.js';

const $ = (/** @type {string} */ id) => /** @type {any} */ (document.getElementById(id));
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 1;
/** @type {Map<number, { resolve: (m: any) => void, reject: (e: Error) => void, onProgress?: (m: any) => void }>} */
const pending = new Map();

worker.onmessage = (e) => {
  const msg = e.data, p = pending.get(msg.id);
  if (!p) return;
  if (msg.type === 'progress' || msg.type === 'started') { p.onProgress?.(msg); return; }
  pending.delete(msg.id);
  if (msg.type === 'error') p.reject(new Error(msg.error)); else p.resolve(msg);
};

/** Sends a request to the worker and waits for its answer. @param {object} msg @param {(m: any) => void} [onProgress] @param {Transferable[]} [transfer] */
function call(msg, onProgress, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ ...msg, id }, transfer);
  });
}

// ---- the text ----
for (const [key, s] of Object.entries(SAMPLES)) $('sample').add(new Option(s.title, key));
$('sample').add(new Option('(my own text)', ''));
const pick = () => { const s = SAMPLES[/** @type {keyof typeof SAMPLES} */ ($('sample').value)]; if (s) $('corpus').value = s.text; };
$('sample').onchange = pick;
pick();

// ---- the loss chart ----
/** @type {number[]} */
let losses = [];
function drawChart() {
  const c = $('chart'), g = c.getContext('2d'), W = c.width, H = c.height, pad = 30;
  g.clearRect(0, 0, W, H);
  g.fillStyle = '#666'; g.font = '11px sans-serif';
  if (losses.length < 2) { g.fillText('loss per step appears here while training', pad, H / 2); return; }
  const max = Math.max(...losses), min = Math.min(...losses), span = max - min || 1;
  g.fillText(max.toFixed(2), 2, pad - 4); g.fillText(min.toFixed(2), 2, H - 4);
  g.fillText(`step ${losses.length}`, W - 60, H - 4);
  g.strokeStyle = '#2455c3'; g.lineWidth = 1.5; g.beginPath();
  losses.forEach((l, i) => {
    const x = pad + (i / (losses.length - 1)) * (W - pad - 8), y = pad + (1 - (l - min) / span) * (H - 2 * pad);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
}
drawChart();

// ---- training ----
const setModelReady = (/** @type {boolean} */ ready) => {
  for (const id of ['typing', 'generate', 'save']) $(id).disabled = !ready;
};
$('train').onclick = async () => {
  $('train').disabled = true; $('stop').disabled = false; setModelReady(false);
  losses = []; drawChart();
  $('status').textContent = 'Starting…';
  try {
    const done = await call({ type: 'train', text: $('corpus').value, level: $('level').value, hidden: Number($('hidden').value), seconds: Number($('seconds').value) }, (m) => {
      if (m.type === 'started') { $('status').textContent = `Training on ${m.tokens.toLocaleString()} tokens, vocabulary ${m.vocabSize}, ${m.threads} thread(s)…`; return; }
      losses.push(...m.losses); drawChart();
      $('progress').value = Math.min(1, m.elapsed / m.seconds);
      const last = losses.slice(-20), mean = last.reduce((a, b) => a + b, 0) / Math.max(1, last.length);
      $('status').textContent = `step ${m.step} · loss ${mean.toFixed(3)} · ${Math.round(m.tokensPerSec).toLocaleString()} tokens/s · ${Math.max(0, m.seconds - m.elapsed).toFixed(0)} s left`;
      setModelReady(true); // suggestions work while it trains
    });
    $('progress').value = 1;
    $('status').textContent = `Trained: ${done.steps} steps in ${done.seconds.toFixed(1)} s${done.stopped ? ' (stopped)' : ''}. Type below.`;
    $('status').dataset.state = 'trained';
    setModelReady(true);
    suggest();
  } catch (e) {
    $('status').textContent = `Error: ${/** @type {Error} */ (e).message}`;
    $('status').dataset.state = 'error';
  } finally {
    $('train').disabled = false; $('stop').disabled = true;
  }
};
$('stop').onclick = () => call({ type: 'stop' });

// ---- suggestions per keystroke ----
/** @type {{ token: string, prob: number }[]} */
let current = [];
let asked = 0;
async function suggest() {
  const text = $('typing').value, mine = ++asked;
  try {
    const m = await call({ type: 'predict', text });
    if (mine !== asked) return; // a newer keystroke's answer is on its way
    current = m.suggestions.filter((/** @type {{ token: string }} */ s) => s.token !== '</s>' && s.token !== '<unk>' && s.token !== '\n');
    $('suggestions').replaceChildren(...current.map((s) => {
      const li = document.createElement('li');
      li.textContent = s.token;
      const small = document.createElement('small');
      small.textContent = `${(s.prob * 100).toFixed(1)}%`;
      li.append(small);
      return li;
    }));
    $('suggestions').dataset.text = text;
    $('suggestions').dataset.ms = m.ms.toFixed(3);
  } catch (e) {
    $('suggestions').textContent = /** @type {Error} */ (e).message;
  }
}
$('typing').addEventListener('input', suggest);
$('typing').addEventListener('keydown', (/** @type {KeyboardEvent} */ e) => {
  if (e.key !== 'Tab' || !current.length) return;
  e.preventDefault();
  const box = $('typing'), v = box.value, word = current[0].token;
  const level = $('level').value;
  if (level === 'char') box.value = v + word;
  else {
    const m = /(\S*)$/.exec(v), partial = m ? m[1] : '';
    box.value = (word.startsWith(partial) ? v.slice(0, v.length - partial.length) : v) + word + ' ';
  }
  suggest();
});

// ---- generation ----
$('generate').onclick = async () => {
  const m = await call({ type: 'generate', prompt: $('typing').value, seed: Math.floor(Math.random() * 1e6) });
  $('generated').textContent = $('typing').value.trimEnd() + ' ' + m.text;
};

// ---- the model file ----
$('save').onclick = async () => {
  const m = await call({ type: 'save' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([m.bytes], { type: 'application/octet-stream' }));
  a.download = 'mnemo-model.safetensors';
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
};
$('load').onchange = async () => {
  const file = $('load').files[0];
  if (!file) return;
  try {
    const bytes = await file.arrayBuffer();
    const m = await call({ type: 'load', bytes }, undefined, [bytes]);
    $('level').value = m.config.level ?? ($('level').value);
    $('status').textContent = `Loaded ${file.name}: vocabulary ${m.vocabSize}.`;
    $('status').dataset.state = 'loaded';
    setModelReady(true);
    suggest();
  } catch (e) {
    $('status').textContent = `Could not load ${file.name}: ${/** @type {Error} */ (e).message}`;
    $('status').dataset.state = 'error';
  }
};

call({ type: 'hello' }).then((m) => {
  $('runtime').textContent = `WebAssembly ${m.build} build, ${m.threads} thread(s) for training${m.crossOriginIsolated ? '' : ' (the page is not cross-origin isolated, so one)'}.`;
  $('runtime').dataset.threads = String(m.threads);
}, (e) => { $('runtime').textContent = `Could not start: ${e.message}`; });
