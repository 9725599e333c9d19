// @ts-check
// The language-model checks every runtime runs (Deno, Bun, workerd; Node and
// Chromium run the same in test/portable): a recurrent layer's PyTorch parity
// fixture (every LSTM case of test/fixtures/lstm.safetensors: output, h_n, c_n
// and the input gradient), a few training steps of a small LSTM language model
// whose loss must fall, and save → load → the same prediction, bit for bit.
// Plain JavaScript; the mnemo module and the runtime are passed in.

const FORWARD_TOL = 1e-5, GRAD_TOL = 1e-4;

/** Largest |a − b| over the largest |b|. @param {ArrayLike<number>} a @param {ArrayLike<number>} b */
function relErr(a, b) {
  if (a.length !== b.length) return Infinity;
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / (m || 1);
}

/**
 * Runs the checks; returns { passed, failed, failures, fixtureCases, losses }.
 * @param {any} mnemo @param {any} rt @param {Uint8Array} fixtureBytes the bytes of test/fixtures/lstm.safetensors
 */
export function runLmChecks(mnemo, rt, fixtureBytes) {
  /** @type {string[]} */
  const failures = [];
  let passed = 0;
  /** @param {boolean} ok @param {string} what */
  const check = (ok, what) => { if (ok) passed++; else failures.push(what); };
  /** @param {string} name @param {() => void} body */
  const guarded = (name, body) => {
    try { body(); } catch (/** @type {any} */ e) { failures.push(`${name} threw ${e?.name}: ${e?.message}`); }
  };

  // 1. Parity with PyTorch: every LSTM case of the fixture.
  let fixtureCases = 0;
  guarded('lstm fixture', () => {
    const fx = mnemo.readSafetensors(fixtureBytes);
    const cases = JSON.parse(fx.metadata.cases);
    for (const spec of cases) {
      const get = (/** @type {string} */ n) => {
        const t = fx.tensors.get(`${spec.id}/${n}`);
        if (!t) throw new Error(`fixture: missing ${spec.id}/${n}`);
        return t;
      };
      const layer = new mnemo.LSTM(rt, {
        inputSize: spec.inputSize, hiddenSize: spec.hiddenSize, numLayers: spec.numLayers,
        bidirectional: spec.bidirectional, batchFirst: spec.batchFirst, bias: spec.bias,
      });
      for (const [name, p] of layer.namedParameters()) p.value.data.set(get(name).data);
      const tensor = (/** @type {string} */ n) => { const r = get(n); return rt.tensor(r.shape, r.data); };
      const out = layer.forward(tensor('input'), { h: tensor('h0'), c: tensor('c0') });
      check(relErr(out.output.data, get('output').data) <= FORWARD_TOL, `${spec.id} output`);
      check(relErr(out.h.data, get('h_n').data) <= FORWARD_TOL, `${spec.id} h_n`);
      check(relErr(out.c.data, get('c_n').data) <= FORWARD_TOL, `${spec.id} c_n`);
      layer.zeroGrad();
      const grads = layer.backward(tensor('grad_output'), { h: tensor('grad_h_n'), c: tensor('grad_c_n') });
      check(relErr(grads.input.data, get('grad_input').data) <= GRAD_TOL, `${spec.id} grad_input`);
      for (const [name, p] of layer.namedParameters()) check(relErr(p.grad.data, get(`grad.${name}`).data) <= GRAD_TOL, `${spec.id} grad.${name}`);
      fixtureCases++;
    }
    check(fixtureCases > 0, 'the fixture has cases');
  });

  // 2. A few training steps of a small word-level LSTM LM: the loss falls.
  const text = Array.from({ length: 40 }, (_, i) => `the ${['cat', 'dog', 'bird'][i % 3]} sat on the ${['mat', 'log', 'branch'][i % 3]} .`).join('\n');
  /** @type {number[]} */
  let losses = [];
  guarded('training', () => {
    const tok = mnemo.WordTokenizer.fit(text);
    const model = new mnemo.RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 16, hiddenSize: 16, cell: 'lstm', numLayers: 1, dropout: 0, seed: 3 });
    const ids = tok.encode(text);
    const B = 4, T = 8;
    const batcher = new mnemo.BpttBatcher(ids, { batchSize: B, seqLen: T });
    const params = model.parameters();
    const opt = new mnemo.Adam(params, { lr: 0.02 });
    let state;
    for (let step = 0; step < 30; step++) {
      let w = batcher.next();
      if (!w) { batcher.reset(); w = batcher.next(); state = undefined; }
      const input = rt.intTensor([w.seqLen, B], w.inputs), targets = rt.intTensor([w.seqLen * B], w.targets);
      opt.zeroGrad();
      const r = model.lossAndBackward(input, targets, state);
      mnemo.clipGradNorm(params, 1);
      opt.step();
      state = model.detachState(r.state, state);
      input.dispose(); targets.dispose();
      losses.push(r.loss);
    }
    const mean = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    check(losses.every(Number.isFinite), 'every loss is finite');
    check(mean(losses.slice(-5)) < 0.6 * mean(losses.slice(0, 5)), `the loss falls (${mean(losses.slice(0, 5)).toFixed(3)} → ${mean(losses.slice(-5)).toFixed(3)})`);

    // 3. save → load → the same prediction, bit for bit.
    model.eval();
    const file = mnemo.saveModel(model, tok);
    const again = mnemo.loadModel(rt, file);
    const a = new mnemo.Predictor(model, tok).predictNextText('the cat sat on the', { topK: 3 });
    const b = new mnemo.Predictor(again.model, again.tokenizer).predictNextText('the cat sat on the', { topK: 3 });
    check(JSON.stringify(a) === JSON.stringify(b), `save → load gives the same prediction (${JSON.stringify(a)} vs ${JSON.stringify(b)})`);
    check(['mat', 'log', 'branch'].includes(a[0]?.token), `the trained model predicts a place after "the cat sat on the" (got ${a[0]?.token})`);
  });
  return { passed, failed: failures.length, failures, fixtureCases, firstLoss: losses[0], lastLoss: losses.at(-1) };
}
