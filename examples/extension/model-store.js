// @ts-check
// Where the extension's model lives: the bundled model.safetensors (made by the
// CLI from the bundled Brown corpus), or a fine-tuned one the options page
// stored in chrome.storage.local. Nothing leaves the machine.

/** chrome.* without type declarations. */
export const chrome = /** @type {any} */ (globalThis).chrome;

const KEY = 'finetunedModel';

/** The model file in use: the fine-tuned one if any, else the bundled one. @returns {Promise<{ bytes: Uint8Array, source: 'fine-tuned' | 'bundled' }>} */
export async function readModel() {
  const stored = (await chrome.storage.local.get(KEY))[KEY];
  if (typeof stored === 'string') return { bytes: fromBase64(stored), source: 'fine-tuned' };
  const r = await fetch(chrome.runtime.getURL('model.safetensors'));
  if (!r.ok) throw new Error(`the bundled model.safetensors is missing (HTTP ${r.status}): run node examples/extension/build.mjs`);
  return { bytes: new Uint8Array(await r.arrayBuffer()), source: 'bundled' };
}

/** Stores a fine-tuned model file. @param {Uint8Array} bytes */
export async function storeModel(bytes) {
  await chrome.storage.local.set({ [KEY]: toBase64(bytes) });
}

/** Back to the bundled model. */
export async function clearModel() {
  await chrome.storage.local.remove(KEY);
}

/** @param {Uint8Array} bytes */
function toBase64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** @param {string} b64 */
function fromBase64(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
