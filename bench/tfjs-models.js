/**
 * The benchmark's language models written in TensorFlow.js ops (tfjs-core has
 * no layers): Embedding → LSTM / GRU (1 or more layers) → Linear → softmax
 * cross-entropy, a training step (forward, backward, global-norm clipping,
 * Adam) and a stateful next-token step.
 *
 * The recurrent layers are written the way a careful tfjs user would (and the
 * way mnemo computes them): one matMul projects the whole window's input
 * before the time loop, then T unrolled steps of h·W_hh, gate split,
 * sigmoid/tanh and the cell update. Weights come from mnemo's parameters
 * (PyTorch layout, transposed once here so every product is a plain x·W), so
 * both libraries start from the same model and their losses can be compared.
 *
 * Two work-arounds, both with the same arithmetic as the plain tfjs code:
 * - tf.gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks;
 *   the embedding output is therefore a leaf of the gradient tape and its
 *   gradient is scattered into a dense (V, E) gradient with tf.scatterND
 *   (duplicate ids add up), as mnemo's embedding backward does.
 * - tfjs has no clip-by-global-norm: it is written out (sum of squares of every
 *   gradient, one read of the norm, scale when above maxNorm), as
 *   torch.nn.utils.clip_grad_norm_ does.
 */

/** Transposes a row-major (rows, cols) Float32Array. */
function transpose(data, rows, cols) {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

/**
 * tfjs tensors (or variables) of the model from PyTorch-layout weights keyed
 * 'embedding.weight', 'rnn.weight_ih_l0', …, 'decoder.weight', 'decoder.bias'.
 * Matrices are stored transposed: W_ih (I, G·H), W_hh (H, G·H), decoder (H, V).
 */
function makeParams(tf, cfg, weights, asVariables) {
  const { V, E, H, L, gates } = cfg;
  const G = gates * H;
  const all = [];
  const make = (data, shape) => {
    const t = asVariables ? tf.variable(tf.tensor(data, shape), true) : tf.tensor(data, shape);
    all.push(t);
    return t;
  };
  const w = (name) => {
    const d = weights[name];
    if (!d) throw new Error(`tfjs model: weight '${name}' is missing`);
    return d;
  };
  const emb = make(w('embedding.weight'), [V, E]);
  const layers = [];
  for (let l = 0; l < L; l++) {
    const inDim = l === 0 ? E : H;
    layers.push({
      wih: make(transpose(w(`rnn.weight_ih_l${l}`), G, inDim), [inDim, G]),
      whh: make(transpose(w(`rnn.weight_hh_l${l}`), G, H), [H, G]),
      bih: make(w(`rnn.bias_ih_l${l}`), [G]),
      bhh: make(w(`rnn.bias_hh_l${l}`), [G]),
    });
  }
  const wout = make(transpose(w('decoder.weight'), V, H), [H, V]);
  const bout = make(w('decoder.bias'), [V]);
  return { emb, layers, wout, bout, all };
}

/**
 * The product x·W as tfjs computes it (tf.matMul, whose gradient takes
 * dy·Wᵀ and xᵀ·dy with transposed operands), or, with `explicitTranspose`,
 * the same product whose gradient transposes the operand first (tf.transpose)
 * and then multiplies without transposition: the tfjs wasm backend runs
 * transposed matMuls ~15× slower than plain ones (see the README's GEMM table).
 */
function makeMatMul(tf, explicitTranspose) {
  if (!explicitTranspose) return (a, b) => tf.matMul(a, b);
  return tf.customGrad((a, b, save) => {
    save([a, b]);
    return {
      value: tf.matMul(a, b),
      gradFunc: (dy, [sa, sb]) => [tf.matMul(dy, tf.transpose(sb)), tf.matMul(tf.transpose(sa), dy)],
    };
  });
}

/** One LSTM step: z (B, 4H) pre-activations without the h·W_hh part. Gates i, f, g, o (PyTorch). */
function lstmCell(tf, mm, xz, h, c, p) {
  const z = tf.add(xz, mm(h, p.whh));
  const [i, f, g, o] = tf.split(z, 4, 1);
  const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g)));
  return { h: tf.mul(tf.sigmoid(o), tf.tanh(c2)), c: c2 };
}

/** One GRU step (PyTorch: gates r, z, n; b_hn inside the reset product). xz (B, 3H) includes b_ih. */
function gruCell(tf, mm, xz, h, p) {
  const hz = tf.add(mm(h, p.whh), p.bhh);
  const [xr, xu, xn] = tf.split(xz, 3, 1);
  const [hr, hu, hn] = tf.split(hz, 3, 1);
  const r = tf.sigmoid(tf.add(xr, hr));
  const u = tf.sigmoid(tf.add(xu, hu));
  const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
  return { h: tf.add(n, tf.mul(u, tf.sub(h, n))) }; // (1 − u)·n + u·h
}

/**
 * Runs the recurrent layers over x (T·B, E), time-major rows. state: { h: [L × (B, H)], c? }.
 * Returns { out (T·B, H), h: [...], c: [...] }.
 */
function recurrent(tf, mm, cfg, params, x, state, t) {
  const lstm = cfg.cell !== 'gru';
  let input = x;
  const hs = [], cs = [];
  for (const [l, p] of params.layers.entries()) {
    // Input projection of the whole window, plus the biases that sit outside the cell.
    let xz = tf.add(mm(input, p.wih), p.bih);
    if (lstm) xz = tf.add(xz, p.bhh);
    const steps = t === 1 ? [xz] : tf.split(xz, t, 0);
    let h = state.h[l], c = lstm ? state.c[l] : null;
    const outs = [];
    for (const xs of steps) {
      const next = lstm ? lstmCell(tf, mm, xs, h, c, p) : gruCell(tf, mm, xs, h, p);
      h = next.h;
      c = next.c ?? null;
      outs.push(h);
    }
    input = outs.length === 1 ? outs[0] : tf.concat(outs, 0);
    hs.push(h);
    if (lstm) cs.push(c);
  }
  return { out: input, h: hs, c: cs };
}

/**
 * A trainable tfjs model. cfg: { V, E, H, T, B, L, cell: 'lstm' | 'gru', gates }.
 * step(batch) runs one training step on the active backend and returns the loss.
 */
export function tfjsTrainer(tf, cfg, weights, { lr, clip, eps, explicitTranspose = false }) {
  const { V, H, T, B, L } = cfg;
  const params = makeParams(tf, cfg, weights, true);
  const vars = params.all;
  const lstm = cfg.cell !== 'gru';
  const optimizer = tf.train.adam(lr, 0.9, 0.999, eps);
  const mm = makeMatMul(tf, explicitTranspose);
  let state = { h: [], c: [] };
  for (let l = 0; l < L; l++) {
    state.h.push(tf.zeros([B, H]));
    if (lstm) state.c.push(tf.zeros([B, H]));
  }

  function step(batch) {
    let next;
    const loss = tf.tidy(() => {
      const ids = tf.tensor1d(batch.ids, 'int32');
      const onehot = tf.oneHot(tf.tensor1d(batch.targets, 'int32'), V);
      // The embedding output is a leaf of the tape (see the file comment).
      const x = tf.gather(params.emb, ids);
      const f = () => {
        const r = recurrent(tf, mm, cfg, params, x, state, T);
        next = { h: r.h.map((t) => tf.keep(t)), c: r.c.map((t) => tf.keep(t)) };
        const logits = tf.add(mm(r.out, params.wout), params.bout); // (T·B, V)
        return tf.losses.softmaxCrossEntropy(onehot, logits); // mean over T·B rows
      };
      const { value, grads } = tf.engine().gradients(f, [x, ...vars.slice(1)]);
      const gEmb = tf.scatterND(tf.reshape(ids, [T * B, 1]), grads[0], params.emb.shape);
      let g = [gEmb, ...grads.slice(1)];
      if (clip) {
        const norm = Math.sqrt(tf.addN(g.map((t) => tf.sum(tf.square(t)))).dataSync()[0]);
        const coef = clip / (norm + 1e-6);
        if (coef < 1) g = g.map((t) => tf.mul(t, coef));
      }
      optimizer.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: g[i] })));
      return value;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    for (const t of [...state.h, ...state.c]) t.dispose();
    state = next;
    return value;
  }

  function dispose() {
    for (const t of [...state.h, ...state.c]) t.dispose();
    for (const v of vars) v.dispose();
    optimizer.dispose();
  }
  return { step, dispose };
}

/**
 * A next-token predictor (batch 1): next(id) feeds one token with the carried
 * state and returns the log-probabilities over V (a Float32Array copy).
 */
export function tfjsPredictor(tf, cfg, weights) {
  const { H, L } = cfg;
  const params = makeParams(tf, cfg, weights, false);
  const lstm = cfg.cell !== 'gru';
  let state = { h: [], c: [] };
  for (let l = 0; l < L; l++) {
    state.h.push(tf.zeros([1, H]));
    if (lstm) state.c.push(tf.zeros([1, H]));
  }
  function next(id) {
    const [logp, nextState] = tf.tidy(() => {
      const x = tf.gather(params.emb, tf.tensor1d([id], 'int32')); // (1, E)
      const r = recurrent(tf, (a, b) => tf.matMul(a, b), cfg, params, x, state, 1);
      const logits = tf.add(tf.matMul(r.out, params.wout), params.bout); // (1, V)
      return [tf.logSoftmax(logits), { h: r.h, c: r.c }];
    });
    const out = logp.dataSync();
    logp.dispose();
    for (const t of [...state.h, ...state.c]) t.dispose();
    state = nextState;
    return out;
  }
  function dispose() {
    for (const t of [...state.h, ...state.c, ...params.all]) t.dispose();
  }
  return { next, dispose };
}
