// Window-model files: saveModel → loadModel gives a WindowLanguageModel with the
// same config, weights, logits, predictions and perplexity (direct connections,
// tied weights); recurrent files still load as RNNLanguageModel; a window file
// with a bad config or a missing, unexpected or mis-shaped tensor fails with a
// FileFormatError naming it. Where /usr/bin/python3 has torch, the file loads
// into nn.Embedding + nn.Linear modules with load_state_dict(strict=True) and
// torch reproduces mnemo's logits.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';

const dir = mkdtempSync(join(tmpdir(), 'mnemo-window-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = 'the cat sat on the mat\nthe dog sat on the log\n';

const cases: { name: string; options: Partial<mnemo.WindowLMOptions> }[] = [
  { name: 'direct', options: { contextSize: 3, embeddingDim: 4, hiddenSize: 6, directConnections: true, hiddenDropout: 0.2 } },
  { name: 'tied', options: { contextSize: 2, embeddingDim: 5, hiddenSize: 5, tieWeights: true, embeddingDropout: 0.1 } },
];

async function build(options: Partial<mnemo.WindowLMOptions>) {
  const rt = await mnemo.init();
  const tok = mnemo.WordTokenizer.fit(TEXT);
  const model = new mnemo.WindowLanguageModel(rt, { vocabSize: tok.vocab.size, contextSize: 3, embeddingDim: 4, hiddenSize: 4, seed: 9, ...options });
  let s = 12345;
  for (const p of model.parameters()) {
    const d = p.value.data;
    for (let i = 0; i < d.length; i++) { s = (Math.imul(s, 1103515245) + 12345) >>> 0; d[i] = s / 2 ** 32 - 0.5; }
  }
  return { rt, tok, model };
}

function evalLogits(rt: mnemo.Runtime, model: mnemo.WindowLanguageModel, ids: number[][]): Float32Array {
  model.eval();
  const out = model.forward(rt.intTensor([ids.length, ids[0]!.length], ids.flat())).logits.toArray();
  model.train();
  return out;
}

function tamper(bytes: Uint8Array, edit: (t: Map<string, mnemo.SafetensorsTensorInput>, m: Record<string, string>) => void): Uint8Array {
  const f = mnemo.readSafetensors(bytes);
  const tensors = new Map<string, mnemo.SafetensorsTensorInput>(f.tensors);
  edit(tensors, f.metadata);
  return mnemo.writeSafetensors(tensors, f.metadata);
}

describe('window model files', () => {
  for (const c of cases) {
    it(`${c.name}: save → load gives the same model, logits, predictions and perplexity`, async () => {
      const { rt, tok, model } = await build(c.options);
      const bytes = mnemo.saveModel(model, tok, { note: 'x' });
      const loaded = mnemo.loadModel(rt, bytes);
      expect(loaded.model).toBeInstanceOf(mnemo.WindowLanguageModel);
      expect(loaded.config).toEqual(model.config);
      expect(loaded.model.config).toEqual(model.config);
      expect(loaded.metadata.note).toBe('x');
      expect([...mnemo.readSafetensors(bytes).tensors.keys()]).toEqual(mnemo.windowParameterShapes(model.config).map(([n]) => n));
      const again = loaded.model as mnemo.WindowLanguageModel;
      again.namedParameters().forEach(([name, p], i) => {
        expect(name).toBe(model.namedParameters()[i]![0]);
        expect(p.value.toArray()).toEqual(model.namedParameters()[i]![1].value.toArray());
      });
      const ids = [[1, 2], [3, 0], [4, 4], [2, 5]];
      expect(evalLogits(rt, again, ids)).toEqual(evalLogits(rt, model, ids));
      const a = new mnemo.Predictor(model, tok), b = new mnemo.Predictor(again, loaded.tokenizer);
      expect(b.predictNextText('the dog sat on', { topK: 3 })).toEqual(a.predictNextText('the dog sat on', { topK: 3 }));
      const stream = tok.encode(TEXT);
      expect(mnemo.perplexity(again, stream, { startToken: tok.eos }).ppl).toBe(mnemo.perplexity(model, stream, { startToken: tok.eos }).ppl);
      a.dispose(); b.dispose(); model.dispose(); again.dispose();
    });
  }

  it('recurrent model files still load as RNNLanguageModel', async () => {
    const rt = await mnemo.init();
    const tok = mnemo.WordTokenizer.fit(TEXT);
    const rnn = new mnemo.RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 4, hiddenSize: 4, seed: 1 });
    const loaded = mnemo.loadModel(rt, mnemo.saveModel(rnn, tok));
    expect(loaded.model).toBeInstanceOf(mnemo.RNNLanguageModel);
    expect(loaded.config).toEqual(rnn.config);
    rnn.dispose(); loaded.model.dispose();
  });

  const broken: [string, (t: Map<string, mnemo.SafetensorsTensorInput>, m: Record<string, string>) => void, RegExp][] = [
    ['an unknown model kind', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), model: 'transformer' }); },
      /__metadata__\.config\.model is "transformer"; this version reads 'window'/],
    ['a missing contextSize', (_, m) => { const c = JSON.parse(m.config!); delete c.contextSize; m.config = JSON.stringify(c); },
      /__metadata__\.config\.contextSize is missing/],
    ['a bad contextSize', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), contextSize: -2 }); },
      /__metadata__\.config: contextSize must be an integer in \[1, 256\], got -2/],
    ['a mis-shaped hidden.weight', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), contextSize: 2 }); },
      /tensor 'hidden\.weight' has shape \[6, 12\], but the config .*contextSize 2\) needs \[6, 8\]/],
    ['a missing direct.weight', (t) => { t.delete('direct.weight'); }, /tensor 'direct\.weight' is missing \(expected shape \[\d+, 12\]/],
    ['an unexpected direct.weight', (_, m) => { m.config = JSON.stringify({ ...JSON.parse(m.config!), directConnections: false }); },
      /unexpected tensor 'direct\.weight' for a window model \(config\)/],
  ];
  for (const [what, edit, msg] of broken) {
    it(`a window file with ${what} fails with a FileFormatError naming it`, async () => {
      const { rt, tok, model } = await build(cases[0]!.options);
      const bytes = tamper(mnemo.saveModel(model, tok), edit);
      let error: unknown;
      try { mnemo.loadModel(rt, bytes); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(mnemo.FileFormatError);
      expect((error as Error).message).toMatch(msg);
      model.dispose();
    });
  }
});

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { timeout: 120_000 }).status === 0;

/** Reads a model file with the standard library, loads it into torch modules (strict) and compares the logits. */
const TORCH_SCRIPT = String.raw`
import json, struct, sys, array
import torch
path, expect_path = sys.argv[1], sys.argv[2]
raw = open(path, 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n]); data = raw[8 + n:]
meta = header.pop('__metadata__'); c = json.loads(meta['config'])
assert c['model'] == 'window', c
state = {}
for name, t in header.items():
    a = array.array('f'); a.frombytes(data[t['data_offsets'][0]:t['data_offsets'][1]])
    state[name] = torch.tensor(a.tolist(), dtype=torch.float32).reshape(t['shape'])
V, C, m, H = c['vocabSize'], c['contextSize'], c['embeddingDim'], c['hiddenSize']
class Window(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = torch.nn.Embedding(V, m)
        self.hidden = torch.nn.Linear(C * m, H)
        self.decoder = torch.nn.Linear(H, V)
        if c['directConnections']: self.direct = torch.nn.Linear(C * m, V, bias=False)
    def forward(self, ctx):
        x = self.encoder(ctx).reshape(ctx.shape[0], C * m)
        y = self.decoder(torch.tanh(self.hidden(x)))
        return y + self.direct(x) if c['directConnections'] else y
model = Window()
if c['tieWeights']: state['decoder.weight'] = state['encoder.weight']; model.decoder.weight = model.encoder.weight
model.load_state_dict(state, strict=True)
e = json.load(open(expect_path))
with torch.no_grad():
    logits = model(torch.tensor(e['contexts']))
diff = (logits.flatten() - torch.tensor(e['logits'])).abs().max().item()
print(f'max |torch - mnemo| = {diff:.3g} over {logits.numel()} logits')
sys.exit(0 if diff < 1e-5 else 1)
`;

describe('window model files in PyTorch', () => {
  it.runIf(hasTorch)('load_state_dict(strict=True) into nn.Embedding + nn.Linear, and torch reproduces the logits', async () => {
    writeFileSync(join(dir, 'check.py'), TORCH_SCRIPT);
    for (const c of cases) {
      const { rt, tok, model } = await build(c.options);
      const file = join(dir, `${c.name}.safetensors`), expectFile = join(dir, `${c.name}.json`);
      writeFileSync(file, mnemo.saveModel(model, tok));
      // Rows of one stream read from the empty history: the contexts are the stream's, padded with its first token.
      const ids = [2, 1, 3, 0, 4];
      const C = model.config.contextSize;
      const contexts = ids.map((_, t) => Array.from({ length: C }, (_, j) => ids[Math.max(0, t - C + 1 + j)]!));
      const logits = evalLogits(rt, model, ids.map((id) => [id]));
      writeFileSync(expectFile, JSON.stringify({ contexts, logits: Array.from(logits) }));
      const r = spawnSync('/usr/bin/python3', [join(dir, 'check.py'), file, expectFile], { encoding: 'utf8', timeout: 120_000 });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toMatch(/max \|torch - mnemo\| = /);
      model.dispose();
    }
  });
  if (!hasTorch) {
    it('skipped: /usr/bin/python3 cannot import torch', () => {
      console.log('window model torch check skipped: `/usr/bin/python3 -c "import torch"` failed');
    });
  }
});
