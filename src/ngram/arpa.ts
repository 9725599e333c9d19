// The ARPA back-off format (Doug Paul's; what SRILM and KenLM read and write):
//
//   \data\
//   ngram 1=<count>
//   ngram 2=<count>
//
//   \1-grams:
//   <log10 p>	<w1>	<log10 backoff>
//   …
//   \2-grams:
//   <log10 p>	<w1> <w2>	<log10 backoff>
//   …
//   \end\
//
// p(w | h) = p(h w) when (h w) is listed, else backoff(h) · p(w | h') (backoff
// 1 when h is not listed). `<s>` is listed as a unigram with log10 p = −99
// (never predicted) so that it can carry a backoff weight; −99 also stands for
// probability 0. Numbers are written with all their digits (JavaScript's
// shortest round-trip form), so a model read back gives the same probabilities
// up to the rounding of log10 and 10^x (≈1e−15 relative).
//
// Reading is tolerant in what KenLM and SRILM write (text before \data\, tabs
// or spaces, a missing backoff = 0, missing contexts) and strict about the rest:
// counts in the header must match, every word must be a unigram, `<s>` only
// first and `</s>` only last in an n-gram, no n-gram twice, `\end\` present.

import { FileFormatError, MnemoError } from '../errors.js';
import type { BackoffTables } from './smoothing.js';
import { HashTable, NgramTrie, permute, sortTables } from './trie.js';

const BOS = '<s>';
const EOS = '</s>';
/** log10 of probability 0 in ARPA files. */
const LOG_ZERO = -99;

function log10Text(p: number): string {
  return p > 0 ? String(Math.log10(p)) : String(LOG_ZERO);
}

/**
 * The ARPA text of a backoff model over `trie` (tokens: the vocabulary by id;
 * id V is `<s>`). Entries whose probability is NaN (contexts only) are not
 * listed; a backoff weight is written for entries of orders < N that have
 * children or a weight other than 1.
 */
export function writeARPA(trie: NgramTrie, tokens: readonly string[], tables: BackoffTables): string {
  const N = trie.order, V = trie.vocabSize;
  tokens.forEach((t, i) => {
    if (t === BOS || t === '' || /\s/.test(t)) {
      throw new MnemoError(`toARPA: token ${i} (${JSON.stringify(t)}) ${t === BOS ? 'is the sentence-start marker <s>' : 'is empty or contains white space'}; ARPA cannot hold it as a word`);
    }
  });
  const names = [...tokens, BOS];
  const sections: string[][] = [];
  const counts: number[] = [];
  for (let n = 1; n <= N; n++) {
    const lines: string[] = [];
    const prob = tables.prob[n]!, bow = n < N ? tables.bow[n]! : null, first = n < N ? trie.first[n]! : null;
    trie.forEachNgram(n, (i, ids) => {
      let p = prob[i]!;
      const isBos = n === 1 && i === V;
      if (p !== p && !isBos) return; // a context only
      if (isBos) p = 0;
      let words = names[ids[0]!]!;
      for (let j = 1; j < n; j++) words += ' ' + names[ids[j]!]!;
      let line = `${log10Text(p)}\t${words}`;
      if (bow && (first![i + 1]! > first![i]! || bow[i] !== 1)) line += `\t${log10Text(bow[i]!)}`;
      lines.push(line);
    });
    sections.push(lines);
    counts.push(lines.length);
  }
  const out: string[] = ['\\data\\'];
  counts.forEach((c, i) => out.push(`ngram ${i + 1}=${c}`));
  sections.forEach((lines, i) => {
    out.push('', `\\${i + 1}-grams:`);
    for (const l of lines) out.push(l);
  });
  out.push('', '\\end\\', '');
  return out.join('\n');
}

/** What readARPA returns: the trie (no counts), the vocabulary (unigrams in file order, `<s>` left out) and the backoff tables. */
export interface ARPAModel {
  trie: NgramTrie;
  tokens: string[];
  tables: BackoffTables;
}

/** Parses ARPA text (see the file comment). Throws FileFormatError naming the line. */
export function readARPA(text: string): ARPAModel {
  if (typeof text !== 'string') throw new FileFormatError(`ARPA: expected the file's text as a string, got ${typeof text}`);
  // A cursor over the lines (no split of the whole text): `at` is the number of the line last read.
  let pos = 0, at = 0, prevPos = 0;
  const next = (): string | undefined => {
    if (pos > text.length) return undefined;
    prevPos = pos;
    let end = text.indexOf('\n', pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end).trim();
    pos = end + 1;
    at++;
    return line;
  };
  const back = (): void => { pos = prevPos; at--; };
  const fail = (message: string, line = at): never => {
    throw new FileFormatError(`ARPA line ${line}: ${message}`);
  };

  // Header.
  let line: string | undefined;
  while ((line = next()) !== undefined && line !== '\\data\\');
  if (line === undefined) throw new FileFormatError('ARPA: no \\data\\ line: not an ARPA file');
  const declared: number[] = [];
  while ((line = next()) !== undefined && line !== '' && !line.startsWith('\\')) {
    const m = /^ngram\s+(\d+)\s*=\s*(\d+)$/.exec(line);
    if (!m) fail(`expected 'ngram N=COUNT' in the \\data\\ section, got ${brief(line)}`);
    const n = Number(m![1]), c = Number(m![2]);
    if (n !== declared.length + 1) fail(`expected the count of order ${declared.length + 1}, got order ${n}`);
    declared.push(c);
  }
  const N = declared.length;
  if (N === 0) fail('the \\data\\ section declares no n-gram counts');
  if (N > 64) fail(`order ${N} is more than the 64 this reader takes`);
  if (line !== undefined && line.startsWith('\\')) back();

  const seekSection = (title: string): void => {
    let l: string | undefined;
    while ((l = next()) !== undefined && l === '');
    if (l !== title) fail(l === undefined ? `the file ends before ${title}` : `expected ${title}, got ${brief(l)}`);
  };
  const parseNumber = (s: string, what: string): number => {
    let x = Number(s);
    if (x !== x && /^-inf(inity)?$/i.test(s)) x = -Infinity; // SRILM's spelling of log10 0
    if (s === '' || x !== x || x === Infinity) fail(`${what} ${brief(s)} is not a number`);
    return x;
  };

  // Unigrams: the vocabulary.
  seekSection('\\1-grams:');
  const uniWords: string[] = [], uniProb: number[] = [], uniBow: number[] = [], uniLine: number[] = [];
  while ((line = next()) !== undefined && line !== '' && !line.startsWith('\\')) {
    const f = fields(line);
    if (f.length !== 2 && !(f.length === 3 && N > 1)) fail(`a 1-gram line needs log10 p, the word${N > 1 ? ' and an optional backoff' : ''}; got ${f.length} fields`);
    uniProb.push(parseNumber(f[0]!, 'log10 p'));
    uniBow.push(f.length === 3 ? parseNumber(f[2]!, 'log10 backoff') : 0);
    uniWords.push(f[1]!);
    uniLine.push(at);
  }
  if (line !== undefined && line.startsWith('\\')) back();
  if (uniWords.length !== declared[0]) fail(`\\data\\ declares ngram 1=${declared[0]} but the section lists ${uniWords.length}`, at);
  const tokens: string[] = [];
  const id = new Map<string, number>();
  let bosSeen = false;
  uniWords.forEach((w, i) => {
    if (w === BOS) {
      if (bosSeen) fail('the unigram <s> is listed twice', uniLine[i]);
      bosSeen = true;
    } else {
      if (id.has(w)) fail(`the unigram ${brief(w)} is listed twice`, uniLine[i]);
      id.set(w, tokens.length);
      tokens.push(w);
    }
  });
  if (!id.has(EOS)) throw new FileFormatError('ARPA: the unigrams do not include </s>, the end of a sentence');
  const V = tokens.length;
  id.set(BOS, V);
  const prob: Float64Array[] = [new Float64Array(0), new Float64Array(V + 1).fill(NaN)];
  const bow: Float64Array[] = [Float64Array.of(1), new Float64Array(V + 1).fill(1)];
  uniWords.forEach((w, i) => {
    const j = id.get(w)!;
    if (w !== BOS) prob[1]![j] = pow10(uniProb[i]!);
    bow[1]![j] = pow10(uniBow[i]!);
  });

  // Orders 2..N: hash tables keyed by (prefix, word), with growing payloads.
  const tables: HashTable[] = [new HashTable(0), new HashTable(0)];
  const pay: { prob: Float64Array; bow: Float64Array }[] = [{ prob: new Float64Array(0), bow: new Float64Array(0) }, { prob: new Float64Array(0), bow: new Float64Array(0) }];
  for (let n = 2; n <= N; n++) {
    tables.push(new HashTable(Math.min(declared[n - 1]!, 1 << 20)));
    pay.push({ prob: new Float64Array(16), bow: new Float64Array(16) });
  }
  /** The entry of order n for (parent, word), inserted as a context only (NaN, backoff 1) if new. */
  const entry = (n: number, parent: number, word: number): number => {
    const i = tables[n]!.findOrInsert(parent, word);
    const pl = pay[n]!;
    if (i >= pl.prob.length) {
      const grow = (a: Float64Array, fill: number) => { const b = new Float64Array(a.length * 2).fill(fill); b.set(a); return b; };
      pl.prob = grow(pl.prob, NaN);
      pl.bow = grow(pl.bow, 1);
    }
    if (tables[n]!.count[i] === 0) { tables[n]!.count[i] = 1; pl.prob[i] = NaN; pl.bow[i] = 1; }
    return i;
  };
  const ids = new Int32Array(N);
  for (let n = 2; n <= N; n++) {
    seekSection(`\\${n}-grams:`);
    let listed = 0;
    while ((line = next()) !== undefined && line !== '' && !line.startsWith('\\')) {
      const f = fields(line);
      if (f.length !== n + 1 && !(f.length === n + 2 && n < N)) {
        fail(`a ${n}-gram line needs log10 p, ${n} words${n < N ? ' and an optional backoff' : ''}; got ${f.length} fields`);
      }
      const lp = parseNumber(f[0]!, 'log10 p');
      const lb = f.length === n + 2 ? parseNumber(f[n + 1]!, 'log10 backoff') : 0;
      for (let j = 0; j < n; j++) {
        const w = f[j + 1]!, x = id.get(w);
        if (x === undefined) fail(`the word ${brief(w)} is not among the unigrams`);
        if (x === V && j > 0) fail('<s> can only begin an n-gram');
        if (w === EOS && j < n - 1) fail('</s> can only end an n-gram');
        ids[j] = x!;
      }
      let parent = ids[0]!;
      for (let j = 2; j < n; j++) parent = entry(j, parent, ids[j - 1]!);
      const i = entry(n, parent, ids[n - 1]!);
      const pl = pay[n]!;
      if (pl.prob[i] === pl.prob[i]) fail(`the ${n}-gram ${brief(f.slice(1, n + 1).join(' '))} is listed twice`);
      pl.prob[i] = pow10(lp);
      pl.bow[i] = pow10(lb);
      listed++;
    }
    if (line !== undefined && line.startsWith('\\')) back();
    if (listed !== declared[n - 1]) fail(`\\data\\ declares ngram ${n}=${declared[n - 1]} but the section lists ${listed}`, at);
  }
  while ((line = next()) !== undefined && line === '');
  if (line !== '\\end\\') fail(line === undefined ? 'the file ends without \\end\\ (truncated?)' : `expected \\end\\, got ${brief(line)}`);

  const { words, first, sortOrder } = sortTables(N, V, tables);
  for (let n = 2; n <= N; n++) {
    const size = tables[n]!.size;
    prob.push(permute(pay[n]!.prob.subarray(0, size), sortOrder[n]!));
    if (n < N) bow.push(permute(pay[n]!.bow.subarray(0, size), sortOrder[n]!));
  }
  return { trie: new NgramTrie(N, V, words, first, null), tokens, tables: { prob, bow } };
}

/** The white-space separated fields of a trimmed line. */
function fields(line: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= line.length; i++) {
    const c = i < line.length ? line.charCodeAt(i) : 32;
    if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
      if (i > start) out.push(line.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** 10^x, with −99 (and below) read as probability 0. */
function pow10(x: number): number {
  return x <= LOG_ZERO ? 0 : 10 ** x;
}

function brief(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}…` : s);
}
