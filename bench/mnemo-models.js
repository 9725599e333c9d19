/**
 * The benchmark's language models in mnemo: Embedding → LSTM / GRU → Linear →
 * CrossEntropyLoss, a training step as a real LM trainer runs it (zeroGrad,
 * forward, backward, clipGradNorm(5), Adam, hidden state carried to the next
 * window without backpropagating into it) and a stateful next-token step.
 *
 * cfg: { V, E, H, T, B, L, cell: 'lstm' | 'gru' }.
 */

import { Adam, CrossEntropyLoss, Embedding, GRU, LSTM, Linear, clipGradNorm, logSoftmax } from '../dist/src/node.js';

/** Names of the phases of step(batch, times), in order (times[i] is the end of phase i). */
export const PHASES = [
  'zeroGrad', 'embedding fwd', 'rnn fwd', 'linear fwd', 'loss fwd+bwd', 'linear bwd', 'rnn bwd',
  'embedding bwd', 'clipGradNorm', 'adam', 'state copy',
];

function makeLayers(rt, cfg, seed) {
  const { V, E, H, L } = cfg;
  const Cell = cfg.cell === 'gru' ? GRU : LSTM;
  const embedding = new Embedding(rt, { numEmbeddings: V, embeddingDim: E, seed: seed + 1 });
  const rnn = new Cell(rt, { inputSize: E, hiddenSize: H, numLayers: L, seed: seed + 2 });
  const decoder = new Linear(rt, { inFeatures: H, outFeatures: V, seed: seed + 3 });
  return { embedding, rnn, decoder, modules: [embedding, rnn, decoder] };
}

/** The model's weights as PyTorch-layout Float32Array copies keyed 'embedding.weight', 'rnn.weight_ih_l0', … */
function exportWeights(layers) {
  const out = {};
  for (const [prefix, m] of [['embedding', layers.embedding], ['rnn', layers.rnn], ['decoder', layers.decoder]]) {
    for (const [name, p] of m.namedParameters()) out[`${prefix}.${name}`] = p.value.toArray();
  }
  return out;
}

/** Copies weights (as exportWeights returns) into the layers. */
function importWeights(layers, weights) {
  for (const [prefix, m] of [['embedding', layers.embedding], ['rnn', layers.rnn], ['decoder', layers.decoder]]) {
    for (const [name, p] of m.namedParameters()) p.value.set(weights[`${prefix}.${name}`]);
  }
}

/**
 * A trainable model on runtime `rt`. Weights from `weights` if given (same
 * layout as weights()), else from the seeded initialisation.
 * step(batch, times?) → loss; with a Float64Array `times`, times[i] gets
 * performance.now() at the end of PHASES[i] and times[PHASES.length] the start.
 */
export function mnemoTrainer(rt, cfg, { lr, clip, seed = 1, weights }) {
  const { H, T, B, L } = cfg;
  const layers = makeLayers(rt, cfg, seed);
  if (weights) importWeights(layers, weights);
  const { embedding, rnn, decoder } = layers;
  const loss = new CrossEntropyLoss(rt, {});
  const params = layers.modules.flatMap((m) => m.parameters());
  const optimizer = new Adam(params, { lr, eps: 1e-8 });
  const ids = rt.intTensor([T, B]);
  const targets = rt.intTensor([T * B]);
  const lstm = cfg.cell !== 'gru';
  const state = { h: rt.zeros([L, B, H]), ...(lstm ? { c: rt.zeros([L, B, H]) } : {}) };
  const n = PHASES.length;

  function step(batch, times) {
    ids.data.set(batch.ids);
    targets.data.set(batch.targets);
    if (times) times[n] = performance.now();
    optimizer.zeroGrad();
    if (times) times[0] = performance.now();
    const x = embedding.forward(ids); // (T, B, E)
    if (times) times[1] = performance.now();
    const r = rnn.forward(x, state); // output (T, B, H)
    if (times) times[2] = performance.now();
    const logits = decoder.forward(r.output.view([T * B, H])); // (T·B, V)
    if (times) times[3] = performance.now();
    const value = loss.forward(logits, targets);
    const dLogits = loss.backward(1, { inPlace: true });
    if (times) times[4] = performance.now();
    const dH = decoder.backward(dLogits); // (T·B, H)
    if (times) times[5] = performance.now();
    const g = rnn.backward(dH.view([T, B, H]));
    if (times) times[6] = performance.now();
    embedding.backward(g.input);
    if (times) times[7] = performance.now();
    if (clip) clipGradNorm(params, clip);
    if (times) times[8] = performance.now();
    optimizer.step();
    if (times) times[9] = performance.now();
    // Truncated BPTT: the final state is the next window's initial state, as a constant.
    state.h.data.set(r.h.data);
    if (lstm) state.c.data.set(r.c.data);
    if (times) times[10] = performance.now();
    return value;
  }

  function dispose() {
    optimizer.dispose();
    for (const m of [...layers.modules, loss]) m.dispose();
    for (const t of [ids, targets, state.h, state.c]) t?.dispose();
  }
  return { step, dispose, weights: () => exportWeights(layers), params };
}

/**
 * A next-token predictor, batch 1, eval mode: next(id) runs Embedding (1, 1, E)
 * → one recurrent step from the carried state → Linear (1, V) → log-softmax
 * over V, and returns the log-probabilities (a view into mnemo's memory, valid
 * until the next call).
 */
export function mnemoPredictor(rt, cfg, { seed = 1, weights }) {
  const { H, L, V } = cfg;
  const layers = makeLayers(rt, cfg, seed);
  if (weights) importWeights(layers, weights);
  for (const m of layers.modules) m.eval();
  const { embedding, rnn, decoder } = layers;
  const ids = rt.intTensor([1, 1]);
  const lstm = cfg.cell !== 'gru';
  const state = { h: rt.zeros([L, 1, H]), ...(lstm ? { c: rt.zeros([L, 1, H]) } : {}) };
  const logp = rt.tensor([1, V]);

  function next(id) {
    ids.data[0] = id;
    const x = embedding.forward(ids); // (1, 1, E)
    const r = rnn.forward(x, state);
    const logits = decoder.forward(r.output.view([1, H])); // (1, V)
    logSoftmax(logits, logp);
    state.h.data.set(r.h.data);
    if (lstm) state.c.data.set(r.c.data);
    return logp.data;
  }

  function dispose() {
    for (const m of layers.modules) m.dispose();
    for (const t of [ids, state.h, state.c, logp]) t?.dispose();
  }
  return { next, dispose };
}
