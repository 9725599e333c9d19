/**
 * n-gram language models on Brown: training time, scoring time, valid
 * perplexity and memory per n-gram, for each order and smoothing method.
 * Needs `npm run build` first and the data of ../shared/data/brown.
 *
 *   node bench/ngram.js [--orders 2,3,4,5] [--smoothing kn,katz] [--rounds 3] [--arpa] [--data DIR]
 *
 * Times are the best of `rounds` runs (single thread). The perplexity follows
 * the Brown README's rules: every token and '</s>' predicted, each line
 * restarted with <s> (N = 200,000 on valid). --arpa also times writing and
 * reading the ARPA text of each kn/katz model.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { NgramLM, WordTokenizer } from '../dist/src/node.js';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '2,3,4,5' },
    smoothing: { type: 'string', default: 'kn' },
    rounds: { type: 'string', default: '3' },
    arpa: { type: 'boolean', default: false },
    data: { type: 'string', default: fileURLToPath(new URL('../../shared/data/brown/', import.meta.url)) },
  },
});
const dir = values.data;
if (!existsSync(join(dir, 'train.txt'))) {
  console.error(`bench/ngram.js: no Brown data in ${dir} (pass --data DIR)`);
  process.exit(1);
}
const orders = values.orders.split(',').map(Number);
const methods = values.smoothing.split(',');
const rounds = Number(values.rounds);

const vocab = readFileSync(join(dir, 'vocab.txt'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
const tokenizer = WordTokenizer.fromVocabulary(vocab);
const train = tokenizer.encode(readFileSync(join(dir, 'train.txt'), 'utf8'));
const valid = tokenizer.encode(readFileSync(join(dir, 'valid.txt'), 'utf8'));
console.log(`Brown: ${train.length} train tokens, ${valid.length} valid tokens, |V| = ${tokenizer.vocab.size}; best of ${rounds}\n`);

/** Best time of `rounds` calls of f (ms) and its last result. */
function best(f) {
  let ms = Infinity, out;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    out = f();
    ms = Math.min(ms, performance.now() - t0);
  }
  return { ms, out };
}

const rows = [];
for (const smoothing of methods) {
  for (const order of orders) {
    const { ms: trainMs, out: lm } = best(() => NgramLM.train(train, { tokenizer, order, smoothing }));
    const { ms: evalMs, out: r } = best(() => lm.perplexity(valid, { allowUnnormalized: true }));
    const ngrams = lm.ngramCounts.reduce((a, b) => a + b, 0);
    const row = {
      smoothing, order, ppl: r.ppl.toFixed(3) + (r.normalized ? '' : ' (scores)'), trainMs: trainMs.toFixed(0),
      evalMs: evalMs.toFixed(0), ngrams, bytesPerNgram: (lm.byteLength / ngrams).toFixed(1),
      countBytesPerNgram: (lm.trie.byteLength / ngrams).toFixed(1),
    };
    if (values.arpa && (smoothing === 'kn' || smoothing === 'katz')) {
      const { ms: writeMs, out: text } = best(() => lm.toARPA());
      const { ms: readMs } = best(() => NgramLM.fromARPA(text));
      Object.assign(row, { arpaMB: (text.length / 1e6).toFixed(1), arpaWriteMs: writeMs.toFixed(0), arpaReadMs: readMs.toFixed(0) });
    }
    rows.push(row);
    console.log(Object.entries(row).map(([k, v]) => `${k} ${v}`).join(', '));
  }
}
