// Model files from strangers: 10,000 seeded mutants of real model files (every
// cell, word and char tokenizers, tied and untied, with extra tensors; made by
// mnemo itself) through loadModel and, when accepted, a Predictor and
// perplexity(). Each must be rejected with a named FileFormatError subclass or
// used with finite outputs (or a named error); test/fuzz/model-fuzz.js says
// what counts as a failure. Then the faults the fuzzer found, one test each.
// Runs in Node and Chromium. Deeper runs: `npm run fuzz -- --mutants N --seed S`.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { buildCorpus, formatReport, runModelFuzz } from '../fuzz/model-fuzz.js';
import { buildFile, parseFile } from '../fuzz/mutate.js';

const SEED = 20261123;
const MUTANTS = 10_000;

/** The error `f` throws (undefined if none). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('model-file fuzzing', () => {
  it(`${MUTANTS} seeded mutants: each rejected with a named error, or loaded and used with finite outputs`, async () => {
    const rt = await mnemo.init();
    const corpus = buildCorpus(rt);
    const report = runModelFuzz(rt, corpus, { mutants: MUTANTS, seed: SEED });
    console.log(`model-file fuzzing, seed ${SEED}\n${formatReport(report)}`);
    expect(report.failures.map((f) => `seed ${f.seed} mutant ${f.index} (${f.file}; ${f.op}): ${f.error}`)).toEqual([]);
    expect(report.tried).toBe(MUTANTS);
    // Every kind of check is reached, and a share of the mutants gets through to be used.
    for (const name of ['HeaderError', 'TensorLayoutError', 'MetadataError', 'TensorMismatchError', 'WeightValueError']) {
      expect(report.rejected[name] ?? 0, name).toBeGreaterThan(50);
    }
    expect(report.accepted).toBeGreaterThan(500);
    for (const [op, c] of Object.entries(report.byOperator)) expect(c.tried, op).toBeGreaterThan(200);
    expect(Object.keys(report.byOperator)).toHaveLength(10);
  });
});

describe('model-file faults the fuzzer found', () => {
  const setup = async () => {
    const rt = await mnemo.init();
    const word = buildCorpus(rt)[0]!.bytes; // word-level LSTM, tied
    return { rt, word, parsed: parseFile(word) };
  };
  /** The file with its config edited (metadata value as text). */
  const withConfig = (f: ReturnType<typeof parseFile>, edit: (text: string) => string) =>
    buildFile({ ...f.header, __metadata__: { ...f.header.__metadata__, config: edit(f.header.__metadata__.config) } }, f.data);

  it('a lying numLayers (2^31 − 1) is rejected before anything is allocated (it was a fatal heap exhaustion)', async () => {
    const { rt, parsed } = await setup();
    const before = rt.memoryStats();
    const e = thrown(() => mnemo.loadModel(rt, withConfig(parsed, (c) => c.replace(/"numLayers":1/, '"numLayers":2147483647'))));
    expect(e).toBeInstanceOf(mnemo.TensorMismatchError);
    expect((e as Error).message).toMatch(/config.numLayers is 2147483647, which needs 8589934588 recurrent tensors, but the file holds 6/);
    expect(rt.memoryStats().usedBytes).toBe(before.usedBytes);
  });

  it('deeply nested or huge JSON values are named, not a stack overflow (RangeError) or a huge message', async () => {
    const { rt, word, parsed } = await setup();
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const text = new TextDecoder().decode(word.subarray(8, 8 + parsed.headerLength)).trimEnd();
    const deepShape = buildFile(text.replace(/"shape":\[[^\]]*\]/, `"shape":${deep}`), parsed.data);
    let e = thrown(() => mnemo.loadModel(rt, deepShape));
    expect(e).toBeInstanceOf(mnemo.HeaderError);
    expect((e as Error).message).toMatch(/values nested more than 4 levels deep in the header entry of '[\w.]+'/);
    const nestedShape = buildFile(text.replace(/"shape":\[[^\]]*\]/, '"shape":[[2]]'), parsed.data);
    e = thrown(() => mnemo.loadModel(rt, nestedShape));
    expect(e).toBeInstanceOf(mnemo.TensorLayoutError);
    expect((e as Error).message).toMatch(/shape \[\[2\]\] is not a list of non-negative integers/);
    // In the config (a JSON string inside __metadata__, at most 65,536 characters).
    for (const value of ['['.repeat(20_000) + ']'.repeat(20_000), `"${'x'.repeat(50_000)}"`]) {
      e = thrown(() => mnemo.loadModel(rt, withConfig(parsed, (c) => c.replace(/\}$/, `,"hiddenSize":${value}}`))));
      expect(e).toBeInstanceOf(mnemo.MetadataError);
      expect((e as Error).message).toMatch(/__metadata__\.config\.hiddenSize is (an array|a string of 50000 characters)/);
      expect((e as Error).message.length).toBeLessThan(200);
    }
    const longName = 'n'.repeat(100_000);
    const renamed = { ...parsed.header, [longName]: parsed.header['decoder.bias'] };
    delete renamed['decoder.bias'];
    e = thrown(() => mnemo.loadModel(rt, buildFile(renamed, parsed.data)));
    expect(e).toBeInstanceOf(mnemo.TensorMismatchError);
    expect((e as Error).message).toMatch(/unexpected tensor 'n{80}…'/);
    expect((e as Error).message.length).toBeLessThan(300);
  });

  it('a header of millions of keys or items is refused by a scan before JSON.parse (it took 128 s and 3.6 GB)', async () => {
    const { rt, parsed } = await setup();
    const keys = Array.from({ length: 100_002 }, (_, i) => `"k${i}":""`).join(',');
    let e = thrown(() => mnemo.readSafetensors(buildFile(`{"__metadata__":{${keys}}}`, new Uint8Array(0))));
    expect(e).toBeInstanceOf(mnemo.HeaderError);
    expect((e as Error).message).toMatch(/more than 100001 keys in the header entry of '__metadata__'/);
    const entries = Array.from({ length: 100_002 }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(',');
    e = thrown(() => mnemo.readSafetensors(buildFile(`{${entries}}`, new Uint8Array(0))));
    expect((e as Error).message).toMatch(/more than 100001 tensor names in the header/);
    e = thrown(() => mnemo.readSafetensors(buildFile(`{"a":{"dtype":"F32","shape":[${'1,'.repeat(1000)}1],"data_offsets":[0,4]}}`, new Uint8Array(4))));
    expect((e as Error).message).toMatch(/an array of more than 64 items in the header entry of 'a'/);
    // A tokenizer with more tokens than config.vocabSize (which encoder.weight confirms) is refused before it is built.
    const meta = parsed.header.__metadata__;
    const tok = JSON.parse(meta.tokenizer);
    tok.vocab.tokens = Array.from({ length: 100_000 }, (_, i) => `w${i}`);
    e = thrown(() => mnemo.loadModel(rt, buildFile({ ...parsed.header, __metadata__: { ...meta, tokenizer: JSON.stringify(tok) } }, parsed.data)));
    expect(e).toBeInstanceOf(mnemo.MetadataError);
    expect((e as Error).message).toMatch(/tokenizer is invalid: an array of more than \d+ items in the value of 'vocab' \(config.vocabSize is \d+\)/);
  });

  it('reads from a Uint8Array whose slice() is a view (a Node Buffer) the right values', async () => {
    const { rt, word } = await setup();
    class ViewSlice extends Uint8Array {
      override slice(begin?: number, end?: number): Uint8Array { return this.subarray(begin, end); }
    }
    const padded = new ViewSlice(word.length + 12);
    padded.set(word, 12);
    const viewing = padded.subarray(12) as ViewSlice;
    const a = mnemo.readSafetensors(word), b = mnemo.readSafetensors(viewing);
    for (const [name, t] of a.tensors) expect(Array.from(b.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
    const loaded = mnemo.loadModel(rt, viewing);
    loaded.model.dispose();
    expect(thrown(() => mnemo.readSafetensors([1, 2, 3] as unknown as Uint8Array))).toBeInstanceOf(mnemo.FileFormatError);
  });

  it('a header that does not start with "{" is a HeaderError, as the format requires', async () => {
    const { rt, word, parsed } = await setup();
    const text = new TextDecoder().decode(word.subarray(8, 8 + parsed.headerLength));
    const e = thrown(() => mnemo.loadModel(rt, buildFile(` ${text.trimEnd()}`, parsed.data)));
    expect(e).toBeInstanceOf(mnemo.HeaderError);
    expect((e as Error).message).toMatch(/the header must start with '\{', it starts with " \{/);
  });

  it('weights that overflow float32 load, then predictions and perplexity raise NonFiniteOutputError, not NaN', async () => {
    const { rt, parsed } = await setup();
    // Finite weights whose logits overflow: zero recurrent weights and biases of 10 make every
    // unit of h ≈ 0.76 > 0; with the (tied) decoder weights at 3.4e38 every logit is +Infinity,
    // and the log-softmax gives Infinity − Infinity = NaN.
    const data = parsed.data.slice();
    const view = new DataView(data.buffer);
    const fill = (name: string, value: number) => {
      const [begin, end] = parsed.header[name].data_offsets as [number, number];
      for (let o = begin; o < end; o += 4) view.setFloat32(o, value, true);
    };
    fill('encoder.weight', 3.4e38);
    fill('rnn.weight_ih_l0', 0);
    fill('rnn.weight_hh_l0', 0);
    fill('rnn.bias_ih_l0', 10);
    fill('decoder.bias', 0);
    const { model, tokenizer } = mnemo.loadModel(rt, buildFile(parsed.header, data));
    const pred = new mnemo.Predictor(model, tokenizer);
    try {
      let e = thrown(() => pred.predictNext());
      expect(e).toBeInstanceOf(mnemo.NonFiniteOutputError);
      expect((e as Error).message).toMatch(/next-token distribution after 0 token\(s\) holds NaN/);
      e = thrown(() => mnemo.perplexity(model, tokenizer.encode('the cat sat'), { startToken: tokenizer.eos }));
      expect(e).toBeInstanceOf(mnemo.NonFiniteOutputError);
      expect((e as Error).message).toMatch(/perplexity: the loss of the window at position 0 is (NaN|Infinity)/);
    } finally {
      pred.dispose();
      model.dispose();
    }
  });
});
