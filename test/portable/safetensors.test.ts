// safetensors reader/writer: round trips, a crafted file for every validation error,
// and the PyTorch fixtures (test/fixtures/, from scripts/make-fixtures.py) parse and
// hold what their __metadata__ describes. Runs in Node and Chromium.
import { describe, expect, it } from 'vitest';
import { FileFormatError, ShapeError, readSafetensors, writeSafetensors } from 'mnemo';
import { loadFixture } from './fixtures.js';

/** Builds a file from a header (object or raw JSON text) and data bytes; `length` overrides the header length. */
function craft(header: unknown, data: number[] | Uint8Array = [], length?: number): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  const n = length ?? json.length;
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Expects readSafetensors to throw FileFormatError with a message matching `message`. */
function expectFormatError(bytes: Uint8Array, message: RegExp): void {
  let error: unknown;
  try {
    readSafetensors(bytes);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(FileFormatError);
  expect((error as Error).message).toMatch(message);
}

const f32 = (n: number) => ({ dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] });

describe('safetensors round trip', () => {
  it('writes and reads F32 and I32 tensors and metadata', () => {
    const w = new Float32Array([1.5, -2, 3.25, Math.PI, -0, 1e-40]);
    const ids = new Int32Array([7, -1, 2147483647, -2147483648]);
    const bytes = writeSafetensors([
      ['layer.weight', { dtype: 'F32', shape: [2, 3], data: w }],
      ['ids', { dtype: 'I32', shape: [4], data: ids }],
      ['scalar', { dtype: 'F32', shape: [], data: new Float32Array([42]) }],
      ['empty', { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) }],
      ['ünï/côdé', { dtype: 'I32', shape: [1, 1], data: new Int32Array([3]) }],
    ], { config: '{"hiddenSize":37}', note: 'é' });

    // Header padded with spaces to a multiple of 8: the data starts aligned.
    const headerLength = new DataView(bytes.buffer).getUint32(0, true);
    expect(headerLength % 8).toBe(0);
    expect(bytes.length).toBe(8 + headerLength + 4 * (6 + 4 + 1 + 0 + 1));

    const file = readSafetensors(bytes);
    expect(file.metadata).toEqual({ config: '{"hiddenSize":37}', note: 'é' });
    expect([...file.tensors.keys()]).toEqual(['layer.weight', 'ids', 'scalar', 'empty', 'ünï/côdé']);
    const weight = file.tensors.get('layer.weight')!;
    expect(weight.dtype).toBe('F32');
    expect(weight.shape).toEqual([2, 3]);
    expect(weight.data).toBeInstanceOf(Float32Array);
    expect(Array.from(weight.data)).toEqual(Array.from(w));
    expect(Object.is(weight.data[4], -0)).toBe(true);
    const ints = file.tensors.get('ids')!;
    expect(ints.dtype).toBe('I32');
    expect(ints.data).toBeInstanceOf(Int32Array);
    expect(Array.from(ints.data)).toEqual(Array.from(ids));
    expect(file.tensors.get('scalar')).toEqual({ dtype: 'F32', shape: [], data: new Float32Array([42]) });
    expect(file.tensors.get('empty')!.shape).toEqual([0, 5]);
    expect(file.tensors.get('empty')!.data.length).toBe(0);
    expect(Array.from(file.tensors.get('ünï/côdé')!.data)).toEqual([3]);
  });

  it('writes no __metadata__ when none is given, and reads it as {}', () => {
    const bytes = writeSafetensors([['x', { dtype: 'F32', shape: [1], data: new Float32Array([1]) }]]);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + new DataView(bytes.buffer).getUint32(0, true)));
    expect(text).not.toContain('__metadata__');
    expect(JSON.parse(text)).toEqual({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } });
    expect(readSafetensors(bytes).metadata).toEqual({});
  });

  it('writes subarray views as their own elements only', () => {
    const big = new Float32Array([0, 1, 2, 3, 4, 5]);
    const bytes = writeSafetensors([['mid', { dtype: 'F32', shape: [3], data: big.subarray(2, 5) }]]);
    expect(Array.from(readSafetensors(bytes).tensors.get('mid')!.data)).toEqual([2, 3, 4]);
  });

  it('reads from unaligned bytes and returns copies, never views of the input', () => {
    const bytes = writeSafetensors([
      ['a', { dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) }],
      ['b', { dtype: 'I32', shape: [2], data: new Int32Array([4, 5]) }],
    ]);
    for (const shift of [1, 2, 3, 4]) {
      const buffer = new Uint8Array(bytes.length + shift);
      buffer.set(bytes, shift);
      const unaligned = buffer.subarray(shift);
      const file = readSafetensors(unaligned);
      const a = file.tensors.get('a')!.data;
      expect(Array.from(a)).toEqual([1, 2, 3]);
      expect(Array.from(file.tensors.get('b')!.data)).toEqual([4, 5]);
      expect(a.buffer).not.toBe(buffer.buffer);
      a[0] = 99;
      expect(Array.from(readSafetensors(unaligned).tensors.get('a')!.data)).toEqual([1, 2, 3]);
    }
  });

  it('reads data that starts at an odd file offset (an unpadded header), copying it', () => {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat32(0, 0.5, true);
    new DataView(data.buffer).setFloat32(4, -8, true);
    const bytes = craft('{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', data);
    expect((bytes.length - 8) % 4).not.toBe(0); // the data starts unaligned
    expect(Array.from(readSafetensors(bytes).tensors.get('x')!.data)).toEqual([0.5, -8]);
  });

  it('rejects bytes that belong to no tensor: a hole before a tensor, or after the last one', () => {
    // The format requires the tensors to cover the data without gaps (no room for a polyglot file).
    expectFormatError(craft({ x: { dtype: 'F32', shape: [2], data_offsets: [1, 9] } }, new Uint8Array(9)),
      /bytes \[0, 1\) of the data belong to no tensor \(a hole before tensor 'x'\)/);
    expectFormatError(craft({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)),
      /the tensors cover 4 bytes of data but the file holds 8 after the header: 4 trailing bytes/);
  });

  it('rejects what would make an invalid file', () => {
    const one = { dtype: 'F32' as const, shape: [1], data: new Float32Array([1]) };
    expect(() => writeSafetensors([['w', one], ['w', one]])).toThrow(/duplicate tensor name 'w'/);
    expect(() => writeSafetensors([['w', one], ['w', one]])).toThrow(FileFormatError);
    expect(() => writeSafetensors([['__metadata__', one]])).toThrow(FileFormatError);
    expect(() => writeSafetensors([['w', { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]]))
      .toThrow(ShapeError);
    expect(() => writeSafetensors([['w', { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]]))
      .toThrow(/'w' has shape \[2, 2\] but 3 elements/);
    expect(() => writeSafetensors([['w', { dtype: 'I32', shape: [1], data: new Float32Array(1) }]]))
      .toThrow(/'w' has dtype I32 but its data is not a Int32Array/);
    expect(() => writeSafetensors([['w', { dtype: 'F16' as 'F32', shape: [1], data: new Float32Array(1) }]]))
      .toThrow(/'F16'/);
    expect(() => writeSafetensors([['w', one]], { epoch: 3 as unknown as string }))
      .toThrow(/metadata value 'epoch' is a number/);
  });
});

describe('safetensors validation', () => {
  it('rejects a file too short for the header length', () => {
    expectFormatError(new Uint8Array([1, 0, 0]), /3 bytes, too short/);
  });

  it('rejects a header length beyond the file', () => {
    expectFormatError(craft({}, [], 1000), /header length 1000 runs past the end of the file \(10 bytes\)/);
  });

  it('rejects a header length over 100 MB', () => {
    expectFormatError(craft({}, [], 200_000_000), /header length 200000000 exceeds the limit of 100000000 bytes/);
    expectFormatError(craft({}, [], 2 ** 40), /header length 1099511627776 exceeds the limit/);
  });

  it('rejects a header that is not JSON, not UTF-8, or not an object', () => {
    expectFormatError(craft('{"x": {"dtype": "F32",'), /header is not valid JSON/);
    const bad = craft('{}');
    bad[9] = 0xff; // '}' -> invalid UTF-8 byte
    expectFormatError(bad, /not valid UTF-8/);
    expectFormatError(craft('[1, 2]'), /header is not a JSON object/);
    expectFormatError(craft('null'), /header is not a JSON object/);
    expectFormatError(craft({ x: 'F32' }), /tensor 'x': the header entry is not an object/);
  });

  it('names an unknown or unsupported dtype', () => {
    expectFormatError(craft({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor 'h' has dtype 'F16'; only F32 and I32 are supported/);
    expectFormatError(craft({ q: { dtype: 'Q4', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor 'q' has dtype 'Q4'/);
    expectFormatError(craft({ m: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor 'm': dtype is missing/);
  });

  it('rejects a shape that does not match data_offsets', () => {
    expectFormatError(craft({ w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, new Uint8Array(24)),
      /tensor 'w': shape \[2, 3\] of F32 needs 24 bytes, but data_offsets \[0, 20\] hold 20/);
    expectFormatError(craft({ w: { dtype: 'I32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor 'w': shape \[-1\] is not a list of non-negative integers/);
    expectFormatError(craft({ w: { dtype: 'I32', shape: [1.5], data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor 'w': shape/);
    expectFormatError(craft({ w: { dtype: 'I32', shape: 4, data_offsets: [0, 4] } }, new Uint8Array(4)),
      /tensor 'w': shape 4 is not a list/);
  });

  it('rejects data_offsets outside the data, reversed or malformed', () => {
    expectFormatError(craft({ w: f32(3) }, new Uint8Array(8)),
      /tensor 'w': data_offsets \[0, 12\] run past the end of the data \(8 bytes\)/);
    expectFormatError(craft({ w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, new Uint8Array(8)),
      /tensor 'w': data_offsets \[8, 4\] end before they begin/);
    expectFormatError(craft({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(8)),
      /tensor 'w': data_offsets \[0\] is not a pair/);
    expectFormatError(craft({ w: { dtype: 'F32', shape: [1] } }, new Uint8Array(8)),
      /tensor 'w': data_offsets undefined is not a pair/);
  });

  it('rejects overlapping tensors', () => {
    const header = {
      a: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
    };
    expectFormatError(craft(header, new Uint8Array(16)), /tensors 'a' .*\[0, 12\].* and 'b' .*\[8, 16\].* overlap/);
    // Adjacent tensors and an empty tensor inside another's range are fine.
    const ok = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
      e: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
    };
    expect(readSafetensors(craft(ok, new Uint8Array(16))).tensors.size).toBe(3);
  });

  it('rejects non-string metadata values and a non-object __metadata__', () => {
    expectFormatError(craft({ __metadata__: { name: 'x', epoch: 3 } }), /metadata value 'epoch' is a number, not a string/);
    expectFormatError(craft({ __metadata__: { cfg: { a: 1 } } }), /metadata value 'cfg' is an object, not a string/);
    expectFormatError(craft({ __metadata__: ['a'] }), /'__metadata__' is an array, not an object/);
  });

  it('rejects duplicate tensor names (which JSON.parse would silently merge)', () => {
    const entry = JSON.stringify(f32(1));
    expectFormatError(craft(`{"w": ${entry}, "v": ${entry}, "w" : ${entry}}`, new Uint8Array(4)),
      /duplicate tensor name 'w'/);
    // Escapes are decoded before comparing: "\u0077" is "w".
    expectFormatError(craft(`{"w": ${entry}, "\\u0077": ${entry}}`, new Uint8Array(4)), /duplicate tensor name 'w'/);
    expectFormatError(craft(`{"w": {"dtype": "F32", "dtype": "I32", "shape": [1], "data_offsets": [0, 4]}}`,
      new Uint8Array(4)), /duplicate key 'dtype' in the header entry of 'w'/);
    // Strings are skipped escape by escape: one ending in an escaped backslash ends at the next
    // quote, an escaped quote does not end one, so the keys after them are still compared.
    expectFormatError(craft(`{"__metadata__": {"k": "a\\\\", "k": "b"}, "w": ${entry}}`, new Uint8Array(4)),
      /duplicate key 'k' in the header entry of '__metadata__'/);
    expectFormatError(craft(`{"__metadata__": {"k\\"": "\\"k\\": \\\\", "k\\"": "b"}, "w": ${entry}}`, new Uint8Array(4)),
      /duplicate key 'k"' in the header entry of '__metadata__'/);
    // Same key in different objects, or a key-like string as a value, is no duplicate.
    const fine = `{"__metadata__": {"a": "w", "w": "\\"w\\": [x]"}, "w": ${entry}, "a": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}}`;
    expect([...readSafetensors(craft(fine, new Uint8Array(4))).tensors.keys()]).toEqual(['w', 'a']);
  });
});

// ---------------------------------------------------------------- fixtures

interface RecurrentCase {
  id: string;
  cell: 'rnn' | 'lstm' | 'gru';
  nonlinearity?: 'tanh' | 'relu';
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  batchFirst: boolean;
  bias: boolean;
  seqLen: number;
  batch: number;
}

/** Every tensor a recurrent case must hold, with its shape (PyTorch names under '<case id>/'). */
function expectedTensors(c: RecurrentCase): Map<string, number[]> {
  const gates = { rnn: 1, gru: 3, lstm: 4 }[c.cell] * c.hiddenSize;
  const D = c.bidirectional ? 2 : 1;
  const H = c.hiddenSize;
  const params = new Map<string, number[]>();
  for (let l = 0; l < c.numLayers; l++) {
    for (const suffix of D === 2 ? ['', '_reverse'] : ['']) {
      params.set(`weight_ih_l${l}${suffix}`, [gates, l === 0 ? c.inputSize : D * H]);
      params.set(`weight_hh_l${l}${suffix}`, [gates, H]);
      if (c.bias) {
        params.set(`bias_ih_l${l}${suffix}`, [gates]);
        params.set(`bias_hh_l${l}${suffix}`, [gates]);
      }
    }
  }
  const [T, B] = [c.seqLen, c.batch];
  const input = c.batchFirst ? [B, T, c.inputSize] : [T, B, c.inputSize];
  const output = c.batchFirst ? [B, T, D * H] : [T, B, D * H];
  const state = [c.numLayers * D, B, H]; // never batch-first
  const states = c.cell === 'lstm' ? ['h', 'c'] : ['h'];
  const out = new Map<string, number[]>([...params].map(([n, s]) => [`${c.id}/${n}`, s]));
  out.set(`${c.id}/input`, input).set(`${c.id}/grad_input`, input);
  out.set(`${c.id}/output`, output).set(`${c.id}/grad_output`, output);
  for (const s of states) {
    for (const name of [`${s}0`, `${s}_n`, `grad_${s}0`, `grad_${s}_n`]) out.set(`${c.id}/${name}`, state);
  }
  for (const [n, s] of params) out.set(`${c.id}/grad.${n}`, s);
  return out;
}

const CELL_FILES = [
  ['rnn_tanh.safetensors', 'rnn', 'tanh'],
  ['rnn_relu.safetensors', 'rnn', 'relu'],
  ['lstm.safetensors', 'lstm', undefined],
  ['gru.safetensors', 'gru', undefined],
] as const;

describe('PyTorch fixtures', () => {
  for (const [file, cell, nonlinearity] of CELL_FILES) {
    it(`${file}: every case holds its parameters, inputs, states, outputs and gradients`, async () => {
      const { tensors, metadata } = await loadFixture(file);
      expect(metadata.format).toBe('mnemo-fixture-v1');
      const cases = JSON.parse(metadata.cases!) as RecurrentCase[];
      expect(cases.map((c) => c.id)).toEqual([
        'l1_uni_bf0', 'l1_uni_bf1', 'l1_bi_bf0', 'l1_bi_bf1', 'l2_uni_bf0', 'l2_bi_bf0', 'l1_uni_bf0_nobias',
      ]);
      const seen = new Set<string>();
      for (const c of cases) {
        expect(c.cell).toBe(cell);
        expect(c.nonlinearity).toBe(nonlinearity);
        for (const [name, shape] of expectedTensors(c)) {
          const t = tensors.get(name);
          expect(t, name).toBeDefined();
          expect(t!.dtype, name).toBe('F32');
          expect(t!.shape, name).toEqual(shape);
          expect(t!.data.every(Number.isFinite), name).toBe(true);
          seen.add(name);
        }
        // Initial states and upstream gradients are nonzero random, so every path is exercised.
        for (const n of ['h0', 'grad_h_n', 'grad_output', ...(cell === 'lstm' ? ['c0', 'grad_c_n'] : [])]) {
          expect(tensors.get(`${c.id}/${n}`)!.data.some((v) => v !== 0), n).toBe(true);
        }
      }
      expect([...tensors.keys()].filter((n) => !seen.has(n))).toEqual([]);
      // The LSTM's first case in PyTorch's layout: weight_ih_l0 is (4H, I).
      if (cell === 'lstm') expect(tensors.get('l1_uni_bf0/weight_ih_l0')!.shape).toEqual([4 * 37, 13]);
    });
  }

  it('optim.safetensors: initial parameters, problem, and each run after steps 1 and 10', async () => {
    const { tensors, metadata } = await loadFixture('optim.safetensors');
    const problem = JSON.parse(metadata.problem!) as {
      model: { inputSize: number; hiddenSize: number }; seqLen: number; batch: number; steps: number; savedSteps: number[];
    };
    const runs = JSON.parse(metadata.runs!) as { id: string; optimizer: string; hyperparameters: Record<string, unknown> }[];
    expect(runs.map((r) => r.id)).toEqual(['adam', 'adamw', 'sgd_momentum', 'sgd_nesterov_wd']);
    expect(runs[0]!.hyperparameters).toMatchObject({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 });
    expect(runs[3]!.hyperparameters).toMatchObject({ lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-3 });
    const { inputSize: I, hiddenSize: H } = problem.model;
    const params: [string, number[]][] = [
      ['weight_ih_l0', [4 * H, I]], ['weight_hh_l0', [4 * H, H]], ['bias_ih_l0', [4 * H]], ['bias_hh_l0', [4 * H]],
    ];
    const expected = new Map<string, number[]>([
      ['input', [problem.seqLen, problem.batch, I]],
      ['grad_output', [problem.seqLen, problem.batch, H]],
      ...params.map(([n, s]): [string, number[]] => [`init/${n}`, s]),
    ]);
    for (const run of runs) {
      for (const step of problem.savedSteps) for (const [n, s] of params) expected.set(`${run.id}/step${step}/${n}`, s);
      expected.set(`${run.id}/grad_norm`, [problem.steps]).set(`${run.id}/loss`, [problem.steps]);
    }
    expect(new Set(tensors.keys())).toEqual(new Set(expected.keys()));
    for (const [name, shape] of expected) expect(tensors.get(name)!.shape, name).toEqual(shape);
    // Every run starts from the same parameters, so the first gradient norm is the same.
    const first = runs.map((r) => tensors.get(`${r.id}/grad_norm`)!.data[0]);
    expect(new Set(first).size).toBe(1);
  });
});
