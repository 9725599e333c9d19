import { loadTfjsBoth, useBackend } from './tfjs.js';
import { tfjsTrainer } from './tfjs-models.js';
import { randomFloats } from './harness.js';
const { tf, info } = await loadTfjsBoth();
console.log(info);
const which = process.argv[2] ?? 'word';
const cfgs = { char: { V: 96, E: 64, H: 256, T: 64, B: 32 }, word: { V: 10000, E: 256, H: 256, T: 35, B: 20 } };
for (const cell of ['lstm', 'gru']) {
const cfg = { ...cfgs[which], L: 1, cell, gates: cell === 'gru' ? 3 : 4 };
const G = cfg.gates * cfg.H;
const w = {
  'embedding.weight': randomFloats(cfg.V * cfg.E, 1),
  'rnn.weight_ih_l0': randomFloats(G * cfg.E, 2).map(x => x * 0.06),
  'rnn.weight_hh_l0': randomFloats(G * cfg.H, 3).map(x => x * 0.06),
  'rnn.bias_ih_l0': randomFloats(G, 4).map(x => x * 0.06),
  'rnn.bias_hh_l0': randomFloats(G, 5).map(x => x * 0.06),
  'decoder.weight': randomFloats(cfg.V * cfg.H, 6).map(x => x * 0.06),
  'decoder.bias': randomFloats(cfg.V, 7).map(x => x * 0.06),
};
const n = cfg.T * cfg.B;
const ids = new Int32Array(n).map((_, i) => (i * 7919) % cfg.V);
const targets = new Int32Array(n).map((_, i) => (i * 7919 + 1) % cfg.V);
for (const be of ['wasm', 'cpu']) {
  useBackend(tf, be);
  const m = tfjsTrainer(tf, cfg, w, { lr: 1e-3, clip: 5, eps: 1e-8 });
  for (let s = 0; s < 3; s++) {
    const t0 = performance.now();
    const loss = m.step({ ids, targets });
    console.log(which, cell, be, s, loss.toFixed(4), ((performance.now() - t0) / 1000).toFixed(2), 's', tf.memory().numTensors);
  }
  m.dispose();
}
}
