// @ts-check
// The model-file fuzzer: seeded mutants of real model files (made with mnemo
// itself) through loadModel, then, when accepted, through a Predictor
// (predictions, log-probabilities, generation) and perplexity() (forward passes
// over (T, B) windows). Portable (no Node APIs): used by
// test/portable/fuzz-model.test.ts and by `npm run fuzz` (scripts/fuzz.mjs).
//
// Every mutant must end in one of two ways:
//   - rejected: loadModel throws a MnemoError (counted by class), having
//     allocated nothing that outlives the call;
//   - accepted and used: every output is finite (probabilities in [0, 1]), or
//     a named MnemoError stops the use.
// Anything else is a failure: another exception (TypeError, RangeError, a
// wasm trap), a NaN that no error reported, an error message over 1,000
// characters, wasm memory left allocated, or a mutant slower than `slowMs` (a
// hang guard, 10 s by default; no timing is asserted). Failures carry the seed
// and the mutant index, and mutantRng(seed, index) remakes that mutant alone.

import * as mnemo from 'mnemo';
import { mutantRng, mutate } from './mutate.js';

const WORD_TEXT = 'the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n\nthe end , of it .\n';
const CHAR_TEXT = 'Hello, World!\nthe quick brown fox\n\tjumps ünïcödé 😀\n';

/**
 * The models the fuzzer mutates: every cell, word and char tokenizers, tied and
 * untied, one and two layers, with and without extra metadata and tensors.
 * @typedef {{ name: string, bytes: Uint8Array }} CorpusFile
 * @param {mnemo.Runtime} rt
 * @returns {CorpusFile[]}
 */
export function buildCorpus(rt) {
  const word = mnemo.WordTokenizer.fit(WORD_TEXT);
  const wordLower = mnemo.WordTokenizer.fit(WORD_TEXT, { lowercase: true, maxVocab: 8 });
  const char = mnemo.CharTokenizer.fit(CHAR_TEXT);
  const charLower = mnemo.CharTokenizer.fit(CHAR_TEXT, { lowercase: true, minCount: 2 });
  /** @type {[string, mnemo.Tokenizer, Partial<mnemo.LMOptions>, Record<string, string>?, boolean?][]} */
  const specs = [
    ['word-lstm-tied', word, { cell: 'lstm', embeddingDim: 6, hiddenSize: 6, tieWeights: true }],
    ['word-gru-2layers', word, { cell: 'gru', embeddingDim: 5, hiddenSize: 7, numLayers: 2, dropout: 0.2 }],
    ['word-rnn_tanh-lowercase', wordLower, { cell: 'rnn_tanh', embeddingDim: 3, hiddenSize: 4 }],
    ['char-rnn_relu-tied-2layers', char, { cell: 'rnn_relu', embeddingDim: 4, hiddenSize: 4, numLayers: 2, tieWeights: true }],
    ['char-lstm', charLower, { cell: 'lstm', embeddingDim: 3, hiddenSize: 5, outputDropout: 0.1 }],
    ['char-gru-extra', char, { cell: 'gru', embeddingDim: 4, hiddenSize: 3 }, { note: 'a checkpoint', epoch: '3' }, true],
  ];
  const files = specs.map(([name, tok, options, extra, extraTensor], i) => {
    const model = new mnemo.RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 4, hiddenSize: 4, seed: 100 + i, ...options });
    try {
      const tensors = extraTensor
        ? /** @type {[string, mnemo.SafetensorsTensorInput][]} */ ([['extra.step', { dtype: 'I32', shape: [1], data: new Int32Array([7]) }]])
        : [];
      return { name, bytes: mnemo.saveModel(model, tok, extra ?? {}, tensors) };
    } finally {
      model.dispose();
    }
  });
  // The fixed-window model, where this version has it (the loader dispatches on config.model).
  const Window = /** @type {any} */ (mnemo).WindowLanguageModel;
  if (Window) {
    /** @type {[string, mnemo.Tokenizer, Record<string, unknown>][]} */
    const windows = [
      ['word-window-direct', word, { contextSize: 3, embeddingDim: 4, hiddenSize: 5, directConnections: true }],
      ['char-window-tied', char, { contextSize: 2, embeddingDim: 3, hiddenSize: 3, tieWeights: true }],
    ];
    for (const [name, tok, options] of windows) {
      const model = new Window(rt, { vocabSize: tok.vocab.size, seed: 7, ...options });
      try {
        files.push({ name, bytes: mnemo.saveModel(model, tok) });
      } finally {
        model.dispose();
      }
    }
  }
  return files;
}

/**
 * @typedef {{
 *   tried: number, rejected: Record<string, number>, accepted: number,
 *   acceptedUseErrors: Record<string, number>, byOperator: Record<string, { tried: number, accepted: number }>,
 *   failures: { index: number, seed: number, file: string, op: string, error: string }[], seconds: number,
 *   slowestMs: number,
 * }} FuzzReport
 */

/**
 * Runs `mutants` mutants of the corpus, seeded by `seed`, on `rt`. With
 * `only`, runs just that mutant index. Stops after `maxFailures` failures.
 * @param {mnemo.Runtime} rt
 * @param {CorpusFile[]} corpus
 * @param {{ mutants: number, seed: number, only?: number, maxFailures?: number, slowMs?: number,
 *   onMutant?: (index: number, op: string) => void, onOutcome?: (what: string) => void }} options
 * @returns {FuzzReport}
 */
export function runModelFuzz(rt, corpus, options) {
  const { seed, maxFailures = 20, slowMs = 10_000 } = options;
  /** @type {FuzzReport} */
  const report = { tried: 0, rejected: {}, accepted: 0, acceptedUseErrors: {}, byOperator: {}, failures: [], seconds: 0, slowestMs: 0 };
  const baseline = rt.memoryStats();
  const started = performance.now();
  const first = options.only ?? 0, last = options.only ?? options.mutants - 1;
  for (let index = first; index <= last && report.failures.length < maxFailures; index++) {
    const rng = mutantRng(seed, index);
    const fileIndex = rng.int(corpus.length);
    const file = /** @type {CorpusFile} */ (corpus[fileIndex]);
    const other = /** @type {CorpusFile} */ (corpus[(fileIndex + 1 + rng.int(corpus.length - 1)) % corpus.length]);
    const { bytes, op } = mutate(rng, file.bytes, other.bytes);
    options.onMutant?.(index, op);
    const kind = op.slice(0, op.indexOf(':'));
    const counts = report.byOperator[kind] ?? (report.byOperator[kind] = { tried: 0, accepted: 0 });
    counts.tried++;
    report.tried++;
    const t0 = performance.now();
    /** @param {string} error */
    const fail = (error) => report.failures.push({ index, seed, file: file.name, op, error });
    try {
      let loaded;
      try {
        loaded = mnemo.loadModel(rt, bytes);
      } catch (e) {
        if (!(e instanceof mnemo.MnemoError)) throw e;
        if (e.message.length > 1000) { fail(`error message of ${e.message.length} characters: ${e.message.slice(0, 200)}…`); continue; }
        report.rejected[e.name] = (report.rejected[e.name] ?? 0) + 1;
        options.onOutcome?.(`rejected: ${e.name}: ${e.message}`);
        continue;
      }
      report.accepted++;
      counts.accepted++;
      const problem = use(rt, loaded, rng);
      if (problem instanceof mnemo.MnemoError) {
        report.acceptedUseErrors[problem.name] = (report.acceptedUseErrors[problem.name] ?? 0) + 1;
        options.onOutcome?.(`accepted; in use: ${problem.name}: ${problem.message}`);
      } else if (problem) fail(problem);
      else options.onOutcome?.('accepted and used with finite outputs');
    } catch (e) {
      fail(e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e));
    } finally {
      const ms = performance.now() - t0;
      if (ms > report.slowestMs) report.slowestMs = ms;
      if (ms > slowMs) fail(`took ${ms.toFixed(0)} ms (limit ${slowMs} ms)`);
      const now = rt.memoryStats();
      if (now.usedBytes !== baseline.usedBytes || now.liveBlocks !== baseline.liveBlocks) {
        fail(`wasm memory not returned: ${now.usedBytes - baseline.usedBytes} bytes in ${now.liveBlocks - baseline.liveBlocks} blocks`);
        // Later mutants are checked against the new level, so one leak is reported once.
        baseline.usedBytes = now.usedBytes;
        baseline.liveBlocks = now.liveBlocks;
      }
    }
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/**
 * Uses an accepted model: a Predictor (predictNext, feed, predictNextText,
 * logProbabilities, generate) and a (T, B) forward pass. Returns undefined when
 * every output was finite, the MnemoError raised, or a description of what was
 * wrong. Disposes everything it and the loader made.
 * @param {mnemo.Runtime} rt @param {mnemo.LoadedModel} loaded @param {import('./mutate.js').Rng} rng
 * @returns {mnemo.MnemoError | string | undefined}
 */
function use(rt, loaded, rng) {
  const { model, tokenizer } = loaded;
  /** @type {mnemo.Predictor | undefined} */
  let pred;
  try {
    pred = new mnemo.Predictor(model, tokenizer);
    const V = model.config.vocabSize;
    const check = (/** @type {mnemo.Prediction[]} */ preds, /** @type {string} */ what) => {
      for (const p of preds) {
        if (!(p.prob >= 0 && p.prob <= 1)) return `${what}: probability ${p.prob} of token ${p.id}`;
      }
      return undefined;
    };
    let bad = check(pred.predictNext({ topK: 3 }), 'predictNext after reset');
    if (bad) return bad;
    for (let i = 0; i < 6; i++) pred.feed(rng.int(V));
    bad = check(pred.predictNext({ topK: 5 }), 'predictNext after 6 tokens');
    if (bad) return bad;
    const lp = pred.logProbabilities();
    for (let i = 0; i < lp.length; i++) {
      if (Number.isNaN(lp[i]) || lp[i] === Infinity) return `logProbabilities()[${i}] = ${lp[i]}`;
    }
    bad = check(pred.predictNextText(tokenizer.level === 'word' ? 'the cat sat on' : 'the quick', { topK: 2 }), 'predictNextText');
    if (bad) return bad;
    pred.generate('the', { maxTokens: 4, seed: rng.int(1000), topK: 3 });
    // Forward passes over a (T, B) window, through perplexity().
    const stream = Int32Array.from({ length: 13 }, () => rng.int(V));
    const r = mnemo.perplexity(model, stream, { startToken: tokenizer.eos, batchSize: 2, seqLen: 4 });
    if (!Number.isFinite(r.nll) || Number.isNaN(r.ppl)) return `perplexity: nll ${r.nll}, ppl ${r.ppl} with no error`;
    return undefined;
  } catch (e) {
    if (e instanceof mnemo.MnemoError) return e;
    throw e;
  } finally {
    pred?.dispose();
    model.dispose();
  }
}

/** The report as a table of counts, for the console. @param {FuzzReport} r */
export function formatReport(r) {
  const lines = [`mutants tried: ${r.tried} in ${r.seconds.toFixed(1)} s (${(r.tried / Math.max(r.seconds, 1e-9)).toFixed(0)}/s, slowest ${r.slowestMs.toFixed(1)} ms)`];
  const rejected = Object.values(r.rejected).reduce((a, b) => a + b, 0);
  lines.push(`rejected with a named error: ${rejected}`);
  for (const [name, n] of Object.entries(r.rejected).sort((a, b) => b[1] - a[1])) lines.push(`  ${name.padEnd(24)} ${n}`);
  const useErrors = Object.values(r.acceptedUseErrors).reduce((a, b) => a + b, 0);
  lines.push(`accepted and used: ${r.accepted} (${r.accepted - useErrors} with finite outputs, ${useErrors} stopped by a named error in use)`);
  for (const [name, n] of Object.entries(r.acceptedUseErrors)) lines.push(`  ${name.padEnd(24)} ${n}`);
  lines.push('by operator (tried / accepted):');
  for (const [op, c] of Object.entries(r.byOperator).sort((a, b) => b[1].tried - a[1].tried)) lines.push(`  ${op.padEnd(24)} ${c.tried} / ${c.accepted}`);
  lines.push(`failures: ${r.failures.length}`);
  for (const f of r.failures) lines.push(`  seed ${f.seed} mutant ${f.index} (${f.file}; ${f.op}): ${f.error.split('\n').slice(0, 4).join(' | ')}`);
  return lines.join('\n');
}
