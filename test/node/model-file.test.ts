// Model files: saveModel → loadModel gives the same weights, config,
// tokenizer, logits, predictions and perplexity; extra metadata and tensors
// travel along; corrupted or mismatched files fail with a FileFormatError that
// names the field. scripts/check-model-file.py (python3, stdlib only) accepts
// the files and rejects a mismatched one; where /usr/bin/python3 has torch,
// its --torch mode loads them into torch modules with load_state_dict(strict)
// and reproduces mnemo's logits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';

const script = fileURLToPath(new URL('../../scripts/check-model-file.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mnemo-model-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = 'the cat sat on the mat\nthe dog sat on the log\n';

interface Case { name: string; level: 'word' | 'char'; options: Partial<mnemo.LMOptions> }
const cases: Case[] = [
  { name: 'lstm-tied', level: 'word', options: { cell: 'lstm', embeddingDim: 6, hiddenSize: 6, tieWeights: true, dropout: 0 } },
  { name: 'gru-2layers', level: 'word', options: { cell: 'gru', embeddingDim: 5, hiddenSize: 7, numLayers: 2, dropout: 0.2, outputDropout: 0.1 } },
  { name: 'rnn_relu-char', level: 'char', options: { cell: 'rnn_relu', embeddingDim: 4, hiddenSize: 9 } },
  { name: 'rnn_tanh-3layers', level: 'word', options: { cell: 'rnn_tanh', embeddingDim: 3, hiddenSize: 4, numLayers: 3 } },
];

async function build(c: Case) {
  const rt = await mnemo.init();
  const tok = c.level === 'word' ? mnemo.WordTokenizer.fit(TEXT) : mnemo.CharTokenizer.fit(TEXT);
  const model = new mnemo.RNNLanguageModel(rt, {
    vocabSize: tok.vocab.size, embeddingDim: 4, hiddenSize: 4, seed: 9, ...c.options,
  });
  let s = 12345;
  for (const p of model.parameters()) {
    const d = p.value.data;
    for (let i = 0; i < d.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; d[i] = (s / 2 ** 32 - 0.5); }
  }
  return { rt, tok, model };
}

function evalLogits(rt: mnemo.Runtime, model: mnemo.RNNLanguageModel, ids: number[][]): Float32Array {
  const T = ids.length, B = ids[0]!.length;
  model.eval();
  const out = model.forward(rt.intTensor([T, B], ids.flat())).logits.toArray();
  model.train();
  return out;
}

/** Rewrites a file through `edit` (tensors and metadata as plain objects). */
function tamper(bytes: Uint8Array, edit: (t: Map<string, mnemo.SafetensorsTensorInput>, m: Record<string, string>) => void): Uint8Array {
  const f = mnemo.readSafetensors(bytes);
  const tensors = new Map<string, mnemo.SafetensorsTensorInput>(f.tensors);
  edit(tensors, f.metadata);
  return mnemo.writeSafetensors(tensors, f.metadata);
}

const python = (args: string[], exe = 'python3') => spawnSync(exe, [script, ...args], { encoding: 'utf8', timeout: 120_000 });
const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 120_000 }).status === 0;

describe('model files: save → load', () => {
  for (const c of cases) {
    it(`${c.name}: same weights, config, tokenizer, logits, predictions and perplexity`, async () => {
      const { rt, tok, model } = await build(c);
      const bytes = mnemo.saveModel(model, tok, { note: 'hello' });
      const loaded = mnemo.loadModel(rt, bytes);
      expect(loaded.config).toEqual(model.config);
      expect(loaded.model.config).toEqual(model.config);
      expect(loaded.tokenizer.toJSON()).toEqual(tok.toJSON());
      expect(loaded.metadata.format).toBe('mnemo-lm/1');
      expect(loaded.metadata.note).toBe('hello');
      expect(loaded.model.namedParameters().map(([n]) => n)).toEqual(model.namedParameters().map(([n]) => n));
      for (const [[, p], [, q]] of model.namedParameters().map((e, i) => [e, loaded.model.namedParameters()[i]!] as const)) {
        expect(q.value.toArray()).toEqual(p.value.toArray());
      }
      if (c.options.tieWeights) expect(loaded.model.decoder.weight).toBe(loaded.model.encoder.weight);
      const ids = [[1, 2], [3, 1], [0, 4]];
      expect(evalLogits(rt, loaded.model, ids)).toEqual(evalLogits(rt, model, ids));
      const a = new mnemo.Predictor(model, tok), b = new mnemo.Predictor(loaded.model, loaded.tokenizer);
      const text = c.level === 'word' ? 'the cat sat' : 'the ca';
      expect(b.predictNextText(text, { topK: 5 })).toEqual(a.predictNextText(text, { topK: 5 }));
      expect(b.generate('the', { maxTokens: 10, seed: 4 })).toBe(a.generate('the', { maxTokens: 10, seed: 4 }));
      const stream = tok.encode(TEXT);
      expect(mnemo.perplexity(loaded.model, stream, { startToken: tok.eos, batchSize: 1 }))
        .toEqual(mnemo.perplexity(model, stream, { startToken: tok.eos, batchSize: 1 }));
      a.dispose(); b.dispose();
      model.dispose(); loaded.model.dispose();
    });
  }

  it('stores the tied weight once and accepts a file that also holds an identical decoder.weight', async () => {
    const { rt, tok, model } = await build(cases[0]!);
    const bytes = mnemo.saveModel(model, tok);
    expect([...mnemo.readSafetensors(bytes).tensors.keys()]).toEqual(
      ['encoder.weight', 'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'decoder.bias']);
    const withCopy = tamper(bytes, (t) => t.set('decoder.weight', t.get('encoder.weight')!));
    mnemo.loadModel(rt, withCopy).model.dispose();
    const different = tamper(bytes, (t) => {
      const w = t.get('encoder.weight')!;
      const d = Float32Array.from(w.data); d[0] += 1;
      t.set('decoder.weight', { ...w, data: d });
    });
    expect(() => mnemo.loadModel(rt, different)).toThrow(/config.tieWeights is true but tensor 'decoder.weight' differs from 'encoder.weight'/);
    model.dispose();
  });

  it('carries extra metadata and extra.* tensors (a checkpoint\'s), and refuses reserved names', async () => {
    const { rt, tok, model } = await build(cases[1]!);
    const step = new Int32Array([42]);
    const bytes = mnemo.saveModel(model, tok, { epoch: '3' }, [['extra.step', { dtype: 'I32', shape: [1], data: step }]]);
    const loaded = mnemo.loadModel(rt, bytes);
    expect(loaded.metadata.epoch).toBe('3');
    expect(loaded.extraTensors.get('extra.step')).toEqual({ dtype: 'I32', shape: [1], data: step });
    expect(() => mnemo.saveModel(model, tok, { config: '{}' })).toThrow(/reserved key 'config'/);
    expect(() => mnemo.saveModel(model, tok, {}, [['step', { dtype: 'I32', shape: [1], data: step }]]))
      .toThrow(/extra tensor 'step' must have a name starting with 'extra.'/);
    const other = mnemo.WordTokenizer.fit('a b c');
    expect(() => mnemo.saveModel(model, other)).toThrow(/the tokenizer has 5 tokens but the model's vocabulary is 9/);
    model.dispose(); loaded.model.dispose();
  });
});

describe('model files: the bytes given', () => {
  it('load from a view at an odd byte offset (the weights are copied straight into wasm memory): the same weights', async () => {
    const { rt, tok, model } = await build(cases[0]!);
    const bytes = mnemo.saveModel(model, tok);
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 1);
    const loaded = mnemo.loadModel(rt, shifted.subarray(1, 1 + bytes.length));
    shifted.fill(0); // the file's bytes are not kept
    for (const [[name, p], [, q]] of model.namedParameters().map((e, i) => [e, loaded.model.namedParameters()[i]!] as const)) {
      expect(q.value.toArray(), name).toEqual(p.value.toArray());
    }
    model.dispose(); loaded.model.dispose();
  });
});

describe('model files: corrupted or mismatched files name the problem', () => {
  const bad: [string, (t: Map<string, mnemo.SafetensorsTensorInput>, m: Record<string, string>) => void, RegExp][] = [
    ['format missing', (_, m) => { delete m.format; }, /__metadata__.format is missing/],
    ['format from the future', (_, m) => { m.format = 'mnemo-lm/2'; }, /__metadata__.format is 'mnemo-lm\/2', this version reads 'mnemo-lm\/1'/],
    ['config missing', (_, m) => { delete m.config; }, /__metadata__.config is missing/],
    ['config not JSON', (_, m) => { m.config = '{vocab'; }, /__metadata__.config is not valid JSON/],
    ['config field missing', (_, m) => { const c = JSON.parse(m.config!); delete c.numLayers; m.config = JSON.stringify(c); },
      /__metadata__.config.numLayers is missing/],
    ['config field invalid', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), hiddenSize: -2 }); },
      /__metadata__.config: hiddenSize must be a positive integer, got -2/],
    ['unknown cell', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), cell: 'lstn' }); }, /cell must be one of/],
    ['config disagrees with the shapes', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), hiddenSize: 8 }); },
      /tensor 'rnn.weight_ih_l0' has shape \[21, 5\], but the config .* needs \[24, 5\]/],
    ['fewer layers than tensors', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), numLayers: 1 }); },
      /unexpected tensor 'rnn.weight_ih_l1' for a 1-layer gru model/],
    ['tensor missing', (t) => { t.delete('decoder.bias'); }, /tensor 'decoder.bias' is missing \(expected shape \[9\] from the config\)/],
    ['stray tensor', (t) => { t.set('decoder.scale', { dtype: 'F32', shape: [1], data: new Float32Array(1) }); }, /unexpected tensor 'decoder.scale'/],
    ['wrong dtype', (t) => { t.set('decoder.bias', { dtype: 'I32', shape: [9], data: new Int32Array(9) }); }, /tensor 'decoder.bias' has dtype I32, expected F32/],
    ['NaN weight', (t) => { const w = t.get('rnn.weight_hh_l1')!; const d = Float32Array.from(w.data); d[3] = NaN; t.set('rnn.weight_hh_l1', { ...w, data: d }); },
      /tensor 'rnn.weight_hh_l1' holds a non-finite value \(NaN\) at element 3/],
    ['infinite embedding', (t) => { const w = t.get('encoder.weight')!; const d = Float32Array.from(w.data); d[d.length - 1] = -Infinity; t.set('encoder.weight', { ...w, data: d }); },
      /tensor 'encoder.weight' holds a non-finite value \(-Infinity\) at element 44/],
    ['vocabulary smaller than the embedding', (_, m) => { const k = JSON.parse(m.tokenizer!); k.vocab.tokens = k.vocab.tokens.split(' ').filter((w: string) => w !== 'mat').join(' '); m.tokenizer = JSON.stringify(k); },
      /the tokenizer's vocabulary has 8 tokens but encoder.weight has 9 rows \(config.vocabSize = 9\)/],
    ['200,000 words for 9 rows: split no further than the 10th', (_, m) => { const k = JSON.parse(m.tokenizer!); k.vocab.tokens += ' x'.repeat(200_000); m.tokenizer = JSON.stringify(k); },
      /the tokenizer's vocabulary has 10 tokens but encoder.weight has 9 rows/],
    ['vocabulary as a list (files written before) with a word too many', (_, m) => { const k = JSON.parse(m.tokenizer!); k.vocab.tokens = [...k.vocab.tokens.split(' '), 'x']; m.tokenizer = JSON.stringify(k); },
      /__metadata__.tokenizer is invalid: an array of more than 9 items in the value of 'vocab' \(config.vocabSize is 9\)/],
    ['tokenizer invalid', (_, m) => { m.tokenizer = JSON.stringify({ ...JSON.parse(m.tokenizer!), level: 'byte' }); },
      /__metadata__.tokenizer is invalid: tokenizer.level must be 'word' or 'char'/],
    ['tokenizer missing', (_, m) => { delete m.tokenizer; }, /__metadata__.tokenizer is missing/],
  ];
  for (const [what, edit, message] of bad) {
    it(what, async () => {
      const { rt, tok, model } = await build(cases[1]!);
      const bytes = tamper(mnemo.saveModel(model, tok), edit);
      const before = rt.memoryStats().liveBytes;
      let error: unknown;
      try { mnemo.loadModel(rt, bytes); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(mnemo.FileFormatError);
      expect((error as Error).message).toMatch(message);
      expect(rt.memoryStats().liveBytes).toBe(before); // nothing left allocated
      model.dispose();
    });
  }

  it('a truncated file', async () => {
    const { rt, tok, model } = await build(cases[1]!);
    const bytes = mnemo.saveModel(model, tok);
    expect(() => mnemo.loadModel(rt, bytes.subarray(0, bytes.length - 10))).toThrow(mnemo.FileFormatError);
    expect(() => mnemo.loadModel(rt, bytes.subarray(0, 5))).toThrow(/too short/);
    model.dispose();
  });
});

describe('scripts/check-model-file.py', () => {
  it('python3 (stdlib only) accepts every saved file and lists its tensors', async () => {
    for (const c of cases) {
      const { tok, model } = await build(c);
      const file = join(dir, `${c.name}.safetensors`);
      writeFileSync(file, mnemo.saveModel(model, tok));
      const r = python([file]);
      expect(r.status, r.stderr).toBe(0);
      for (const [name] of model.namedParameters()) expect(r.stdout).toContain(name);
      expect(r.stdout).toMatch(/OK: \d+ tensors are the state_dict of the config/);
      model.dispose();
    }
  });

  it('exits non-zero on a file whose shapes do not match its config', async () => {
    const { tok, model } = await build(cases[1]!);
    const file = join(dir, 'mismatch.safetensors');
    writeFileSync(file, tamper(mnemo.saveModel(model, tok), (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), hiddenSize: 8 }); }));
    const r = python([file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/MISMATCH rnn.weight_ih_l0: shape \[21, 5\], expected \[24, 5\]/);
    model.dispose();
  });

  it.runIf(hasTorch)('--torch: load_state_dict(strict=True) in PyTorch, and torch reproduces mnemo\'s logits', async () => {
    for (const c of cases) {
      const { rt, tok, model } = await build(c);
      const file = join(dir, `${c.name}.safetensors`), expectFile = join(dir, `${c.name}.expect.json`);
      writeFileSync(file, mnemo.saveModel(model, tok));
      const ids = [[1, 2, 0], [3, 1, 2], [0, 4, 4], [2, 2, 1]];
      writeFileSync(expectFile, JSON.stringify({ ids, logits: Array.from(evalLogits(rt, model, ids)), tol: 1e-5 }));
      const r = python([file, '--torch', '--expect', expectFile], '/usr/bin/python3');
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/OK torch .*load_state_dict\(strict=True\) took all \d+ tensors/);
      expect(r.stdout).toMatch(/OK torch forward: logits \[12, \d+\] match mnemo's/);
      model.dispose();
    }
  });
  if (!hasTorch) {
    it('--torch: skipped, /usr/bin/python3 cannot import torch', () => {
      console.log('check-model-file.py --torch skipped: `/usr/bin/python3 -c "import torch"` failed (install python3-torch to run it)');
    });
  }
});
