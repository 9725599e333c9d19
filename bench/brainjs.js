/**
 * brain.js beside the train section's char rows, where its API can do the same
 * job: `brain.recurrent.LSTM` and `GRU` learn strings character by character
 * (hidden layers of H units, one or two of them). What differs from the other
 * rows' step, so the figure is a like-for-like cost per character, not the
 * same computation:
 *   - batch 1: one string of T characters per update, no parallel streams;
 *   - no carried state: every string starts from a zero state;
 *   - its input matrix is V × V (inputSize is the vocabulary size), not V × E;
 *   - its update: RMSProp (decay 0.999) with every gradient element clipped at
 *     ±5 and an L2 term, instead of Adam after global-norm clipping;
 *   - plain JavaScript over Float32Array matrices, one thread.
 * Timing: one warm-up string, then one `train([string], { iterations: 1 })`
 * per sample until `seconds` have passed (at least 3 samples); tokens/s = T /
 * best sample. The strings are seeded random text over the 95 printable ASCII
 * characters and the line break.
 */

import { createRequire } from 'node:module';

let found;

/** { brain, version } when the brain.js package loads, else { note } saying why not. */
export function findBrain() {
  if (found) return found;
  try {
    const require = createRequire(import.meta.url);
    const brain = require('brain.js');
    const version = require('brain.js/package.json').version;
    found = { brain, version };
  } catch (e) {
    found = { note: `brain.js skipped: ${e.message.split('\n')[0]}` };
  }
  return found;
}

/** Seeded strings of `length` characters over the 95 printable ASCII characters and '\n'. */
function randomStrings(count, length, seed) {
  const chars = ['\n'];
  for (let c = 32; c <= 126; c++) chars.push(String.fromCharCode(c));
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return { chars, strings: Array.from({ length: count }, () => Array.from({ length }, () => chars[Math.floor(next() * chars.length)]).join('')) };
}

/**
 * Trains brain.js's char-level `cell` ('lstm' | 'gru') with L hidden layers of
 * H units on strings of T characters; returns { tokensPerSec, msPerStep,
 * medianMsPerStep, samples, vocabSize, version } or null without brain.js.
 */
export function brainTrain({ cell, L, H, T }, seconds) {
  const b = findBrain();
  if (!b.brain) return null;
  const { brain } = b;
  const { chars, strings } = randomStrings(64, T, 4242);
  const Net = cell === 'gru' ? brain.recurrent.GRU : brain.recurrent.LSTM;
  const net = new Net({ hiddenLayers: Array(L).fill(H), dataFormatter: new brain.utilities.DataFormatter(chars) });
  const opts = { iterations: 1, errorThresh: 0, log: false };
  net.train([strings[0]], opts); // warm-up; builds the model
  const times = [];
  const start = performance.now();
  for (let k = 1; ; k++) {
    const t0 = performance.now();
    net.train([strings[k % strings.length]], opts);
    times.push((performance.now() - t0) / 1e3);
    if ((performance.now() - start) / 1e3 >= seconds && times.length >= 3) break;
  }
  times.sort((x, y) => x - y);
  return {
    tokensPerSec: T / times[0], msPerStep: times[0] * 1e3, medianMsPerStep: times[times.length >> 1] * 1e3,
    samples: times.length, vocabSize: net.options.inputSize, version: b.version,
  };
}
