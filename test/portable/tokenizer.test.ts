// Word and character tokenizers: the splitting rule, '<unk>' and '</s>', the
// vocabulary order, JSON round trips and errors. On the real corpora (read from
// ../shared/data when this runtime can read it): fitting Brown's train.txt gives
// exactly vocab.txt, and the KJV train text gives its 63 characters + '<unk>'.
// Runs in Node and in headless Chromium.
import { describe, expect, it } from 'vitest';
import {
  CharTokenizer, FileFormatError, MnemoError, TokenizerError, Vocabulary, WordTokenizer, tokenizerFromJSON,
  init, loadModel, saveModel, RNNLanguageModel,
} from 'mnemo';

/**
 * A file of ../shared/data/, or null where this runtime cannot read it. In the
 * browser it goes through vitest's readFile command (paths from the repo root),
 * which Vite's server.fs.allow restricts to the repo unless the config allows '../shared'.
 */
async function sharedData(path: string): Promise<string | null> {
  try {
    if (typeof process !== 'undefined' && process.versions?.node) {
      const fs = await import('node:fs/promises');
      return await fs.readFile(new URL('../../../shared/data/' + path, import.meta.url), 'utf8');
    }
    const { commands } = await import('vitest/browser');
    return await commands.readFile('../shared/data/' + path);
  } catch {
    return null;
  }
}

/** −1 if a and b hold the same numbers, else the first index where they differ (fast on long arrays, unlike toEqual). */
function firstDifference(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

const brownTrain = await sharedData('brown/train.txt');
const brownTrainRaw = await sharedData('brown/train.raw.txt');
const brownVocab = await sharedData('brown/vocab.txt');
const kjvTrain = await sharedData('kjv/train.txt');
const kjvStats = await sharedData('kjv/stats.json');
const skipBrown = brownTrain === null || brownTrainRaw === null || brownVocab === null;
if (skipBrown) console.warn('tokenizer.test: ../shared/data/brown is not readable in this runtime; the Brown vocabulary checks are skipped');
if (kjvTrain === null || kjvStats === null) console.warn('tokenizer.test: ../shared/data/kjv is not readable in this runtime; the KJV check is skipped');

describe('WordTokenizer', () => {
  const text = 'the cat sat .\n\n  The  cat\tran , fast\r\n\t \nthe end';

  it('splits lines on white space runs, adds </s> at each non-empty line end, keeps case and attached punctuation', () => {
    const tok = WordTokenizer.fit(text);
    expect(tok.tokenize(text)).toEqual([
      'the', 'cat', 'sat', '.', '</s>', 'The', 'cat', 'ran', ',', 'fast', '</s>', 'the', 'end', '</s>',
    ]);
    expect(tok.tokenize('Hello, world! "quoted"')).toEqual(['Hello,', 'world!', '"quoted"', '</s>']);
    expect(tok.tokenize('')).toEqual([]);
    expect(tok.tokenize('\n \n\t\n')).toEqual([]);
    expect(tok.level).toBe('word');
    expect(tok.vocab.tokenOf(tok.eos)).toBe('</s>');
  });

  it('orders the vocabulary by count, ties by code point, with <unk> and </s>', () => {
    const tok = WordTokenizer.fit(text);
    // </s> ×3; cat, the ×2; then count 1 by code point (',' '.' 'The' before lower case); <unk> (count 0) last
    expect(tok.vocab.tokens).toEqual(['</s>', 'cat', 'the', ',', '.', 'The', 'end', 'fast', 'ran', 'sat', '<unk>']);
    expect(tok.vocab.unkId).toBe(10);
    expect(tok.vocab.size).toBe(11);
    // code points, not UTF-16 units: U+FF01 sorts before U+1F600
    expect(WordTokenizer.fit('\u{1F600} \uFF01').vocab.tokens).toEqual(['</s>', '\uFF01', '\u{1F600}', '<unk>']);
  });

  it('maps words below minCount and past maxVocab to <unk>, counting them for <unk>\'s rank', () => {
    const tok = WordTokenizer.fit('a a a b b c d e\nb c', { minCount: 2 });
    // a 3, b 3, c 2, </s> 2, <unk> = d + e = 2
    expect(tok.vocab.tokens).toEqual(['a', 'b', '</s>', '<unk>', 'c']);
    expect(Array.from(tok.encode('a d zebra c'))).toEqual([0, 3, 3, 4, 2]);
    expect(tok.tokenize('a d zebra')).toEqual(['a', 'd', 'zebra', '</s>']); // tokenize keeps the words
    const small = WordTokenizer.fit('a a a b b c d e\nb c', { maxVocab: 4 });
    // keeps </s> and <unk> plus the top 2 words (a, b); c, d, e → <unk> (4)
    expect(small.vocab.tokens).toEqual(['<unk>', 'a', 'b', '</s>']);
  });

  it('lower-cases by option', () => {
    const tok = WordTokenizer.fit('The the THE\nthe', { lowercase: true });
    expect(tok.vocab.tokens).toEqual(['the', '</s>', '<unk>']);
    expect(Array.from(tok.encode('ThE'))).toEqual([0, 1]);
    expect(tok.toJSON().lowercase).toBe(true);
  });

  it('decodes with single spaces and </s> as a line end', () => {
    const tok = WordTokenizer.fit(text);
    expect(tok.decode(tok.encode(text))).toBe('the cat sat .\nThe cat ran , fast\nthe end\n');
    expect(tok.decode([])).toBe('');
    expect(tok.decode([tok.eos, tok.eos])).toBe('\n\n');
    expect(tok.decode(tok.encode('the dog'))).toBe('the <unk>\n');
    expect(() => tok.decode([99])).toThrow(TokenizerError);
    expect(() => tok.decode([1.5])).toThrow(/out of range/);
  });

  it('round-trips through JSON, as an object or as text', () => {
    const tok = WordTokenizer.fit(text, { lowercase: true });
    const json = tok.toJSON();
    // The words as one string: in a model file's header it takes no escape per word (cold start).
    expect(json).toEqual({ level: 'word', lowercase: true, vocab: { tokens: tok.vocab.tokens.join(' '), unk: '<unk>' } });
    // The array form (files written before) reads the same.
    const asArray = { ...json, vocab: { tokens: [...tok.vocab.tokens], unk: '<unk>' } };
    for (const back of [tokenizerFromJSON(json), tokenizerFromJSON(JSON.stringify(json)), tokenizerFromJSON(asArray)]) {
      expect(back).toBeInstanceOf(WordTokenizer);
      expect(back.toJSON()).toEqual(json);
      expect(back.vocab.tokens).toEqual(tok.vocab.tokens);
      expect(Array.from(back.encode(text))).toEqual(Array.from(tok.encode(text)));
    }
    // A string with an empty word (two spaces, or a space at an end) is refused; the character level needs the array.
    for (const tokens of ['<unk>  </s> a', ' <unk> </s>', '<unk> </s> ']) {
      expect(() => tokenizerFromJSON({ ...json, vocab: { tokens, unk: '<unk>' } })).toThrow(/token \d+ \(""\) is empty or contains white space/);
    }
    expect(() => tokenizerFromJSON({ level: 'char', lowercase: false, vocab: { tokens: 'a \n', unk: null } })).toThrow(/tokenizer\.vocab\.tokens must be an array of strings, got "a \\n"/);
  });

  it('takes a given vocabulary; without <unk>, an unknown word throws', () => {
    const tok = WordTokenizer.fromVocabulary(['</s>', 'a', 'b']);
    expect(tok.vocab.unkId).toBe(-1);
    expect(Array.from(tok.encode('a b\nb'))).toEqual([1, 2, 0, 2, 0]);
    expect(() => tok.encode('a c')).toThrow(/unknown token "c"/);
    expect(() => WordTokenizer.fromVocabulary(['a', '<unk>'])).toThrow(/<\/s>/);
    expect(() => WordTokenizer.fromVocabulary(['</s>', 'a b'])).toThrow(/white space/);
    expect(() => WordTokenizer.fromVocabulary(['</s>', 'a', 'a'])).toThrow(/appears twice/);
  });

  it('rejects bad arguments with TokenizerError', () => {
    expect(() => WordTokenizer.fit(42 as unknown as string)).toThrow(TokenizerError);
    expect(() => WordTokenizer.fit(null as unknown as string)).toThrow(/text must be a string, got null/);
    expect(() => WordTokenizer.fit('a', { minCount: -1 })).toThrow(/minCount must be a non-negative integer/);
    expect(() => WordTokenizer.fit('a', { maxVocab: 1 })).toThrow(/maxVocab must be at least 2/);
    expect(() => WordTokenizer.fit('a').encode(undefined as unknown as string)).toThrow(/got undefined/);
    expect(new TokenizerError('x')).toBeInstanceOf(MnemoError);
  });

  it.skipIf(skipBrown)('fitted on Brown train.txt gives exactly vocab.txt, and decode(encode(train)) is train', () => {
    const expected = brownVocab!.trimEnd().split('\n').map((line) => line.split('\t')[0]);
    expect(expected.length).toBe(13845);
    const t0 = performance.now();
    const tok = WordTokenizer.fit(brownTrain!);
    const t1 = performance.now();
    const ids = tok.encode(brownTrain!);
    const t2 = performance.now();
    console.log(`Brown train (${(brownTrain!.length / 1e6).toFixed(1)} MB): fit ${(t1 - t0).toFixed(0)} ms, encode ${(t2 - t1).toFixed(0)} ms`);
    expect(tok.vocab.tokens).toEqual(expected);
    expect(ids.length).toBe(800005);
    expect(tok.decode(ids)).toBe(brownTrain);
    // The raw text with minCount 4 (frequency ≤ 3 → <unk>) gives the same vocabulary and ids.
    const raw = WordTokenizer.fit(brownTrainRaw!, { minCount: 4 });
    expect(raw.vocab.tokens).toEqual(expected);
    expect(firstDifference(raw.encode(brownTrainRaw!), ids)).toBe(-1);
  });
});

describe('CharTokenizer', () => {
  it('makes every code point a token, \\n the end of line, and <unk> of unseen characters', () => {
    const tok = CharTokenizer.fit('abba\ncab\n');
    // a, b ×3 (tie: code point), \n ×2, c ×1, <unk> 0
    expect(tok.vocab.tokens).toEqual(['a', 'b', '\n', 'c', '<unk>']);
    expect(tok.eos).toBe(2);
    expect(tok.level).toBe('char');
    expect(Array.from(tok.encode('abc\nz'))).toEqual([0, 1, 3, 2, 4]);
    expect(tok.decode(tok.encode('abc\nz'))).toBe('abc\n\uFFFD');
    expect(tok.tokenize('a\u{1F600}b')).toEqual(['a', '\u{1F600}', 'b']);
  });

  it('counts characters outside the BMP as one token, and always has \\n', () => {
    const tok = CharTokenizer.fit('x\u{1F600}\u{1F600}');
    expect(tok.vocab.tokens).toEqual(['\u{1F600}', 'x', '\n', '<unk>']);
    expect(Array.from(tok.encode('\u{1F600}x\n\u{1F601}\uD800'))).toEqual([0, 1, 2, 3, 3]);
    expect(tok.decode([0, 1, 2])).toBe('\u{1F600}x\n');
  });

  it('applies minCount and lowercase, round-trips through JSON', () => {
    const tok = CharTokenizer.fit('AAab', { minCount: 2, lowercase: true });
    expect(tok.vocab.tokens).toEqual(['a', '<unk>', '\n']);
    const back = tokenizerFromJSON(JSON.stringify(tok.toJSON()));
    expect(back).toBeInstanceOf(CharTokenizer);
    expect(back.toJSON()).toEqual({ level: 'char', lowercase: true, vocab: { tokens: ['a', '<unk>', '\n'], unk: '<unk>' } });
    expect(Array.from(back.encode('Abz'))).toEqual([0, 1, 1]);
    expect(() => CharTokenizer.fromVocabulary(['\n', 'ab'])).toThrow(/not a single character/);
    expect(() => CharTokenizer.fromVocabulary(['a', '<unk>'])).toThrow(/'\\n'/);
  });

  it.skipIf(kjvTrain === null || kjvStats === null)('fitted on the KJV train text gives its 63 characters + <unk>', () => {
    const stats = JSON.parse(kjvStats!) as { charset: string; train_char_counts: Record<string, number> };
    const t0 = performance.now();
    const tok = CharTokenizer.fit(kjvTrain!);
    const ids = tok.encode(kjvTrain!);
    console.log(`KJV train (${(kjvTrain!.length / 1e6).toFixed(1)} MB): char fit + encode ${(performance.now() - t0).toFixed(0)} ms`);
    expect(tok.vocab.size).toBe(64);
    expect([...tok.vocab.tokens].filter((t) => t !== '<unk>').sort()).toEqual([...stats.charset].sort());
    expect(tok.vocab.tokens[tok.vocab.size - 1]).toBe('<unk>');
    expect(ids.length).toBe(kjvTrain!.length);
    expect(tok.vocab.idOf(' ')).toBe(0); // the most frequent character
    expect(tok.decode(ids)).toBe(kjvTrain);
  });
});

describe('Vocabulary', () => {
  it('maps tokens and ids both ways', () => {
    const v = new Vocabulary(['x', '<unk>', 'y']);
    expect(v.size).toBe(3);
    expect(v.unkId).toBe(1);
    expect(v.idOf('y')).toBe(2);
    expect(v.idOf('nope')).toBe(1);
    expect(v.has('nope')).toBe(false);
    expect(v.has('<unk>')).toBe(true);
    expect(v.tokenOf(0)).toBe('x');
    expect(() => v.tokenOf(3)).toThrow(/id 3 is out of range \[0, 3\)/);
    expect(() => v.tokenOf(-1)).toThrow(TokenizerError);
    expect(new Vocabulary(['a', '?'], '?').unkId).toBe(1);
    expect(new Vocabulary(['a', '<unk>'], null).unkId).toBe(-1);
    expect(() => new Vocabulary(['a'], '<unk>')).toThrow(/not one of the 1 tokens/);
    expect(Object.isFrozen(v.tokens)).toBe(true);
  });

  it('round-trips through JSON and rejects malformed JSON with FileFormatError', () => {
    const v = new Vocabulary(['x', '<unk>', 'y']);
    expect(Vocabulary.fromJSON(v.toJSON()).tokens).toEqual(['x', '<unk>', 'y']);
    expect(Vocabulary.fromJSON(JSON.stringify({ tokens: ['a'], unk: null })).unkId).toBe(-1);
    const bad: [unknown, RegExp][] = [
      ['{tokens', /vocabulary: invalid JSON/],
      [42, /expected an object \{ tokens, unk \}, got number 42/],
      [{ tokens: 'abc', unk: null }, /vocabulary\.tokens must be an array/],
      [{ tokens: ['a', 3], unk: null }, /vocabulary\.tokens\[1\] must be a string, got number 3/],
      [{ tokens: ['a'], unk: 5 }, /vocabulary\.unk must be a string or null/],
      [{ tokens: ['a'], unk: '<unk>' }, /not one of the 1 tokens/],
      [{ tokens: ['a', 'a'], unk: null }, /appears twice/],
    ];
    for (const [json, message] of bad) {
      expect(() => Vocabulary.fromJSON(json)).toThrow(FileFormatError);
      expect(() => Vocabulary.fromJSON(json)).toThrow(message);
    }
  });

  it('tokenizerFromJSON names the bad field', () => {
    const vocab = { tokens: ['</s>', '<unk>'], unk: '<unk>' };
    expect(() => tokenizerFromJSON('not json')).toThrow(/tokenizer: invalid JSON/);
    expect(() => tokenizerFromJSON([1])).toThrow(/expected an object \{ level, lowercase, vocab \}/);
    expect(() => tokenizerFromJSON({ level: 'byte', lowercase: false, vocab })).toThrow(/tokenizer\.level must be 'word' or 'char', got "byte"/);
    expect(() => tokenizerFromJSON({ level: 'word', lowercase: 'no', vocab })).toThrow(/tokenizer\.lowercase must be a boolean/);
    expect(() => tokenizerFromJSON({ level: 'word', lowercase: false })).toThrow(/tokenizer\.vocab: expected an object/);
    expect(() => tokenizerFromJSON({ level: 'char', lowercase: false, vocab })).toThrow(FileFormatError);
    expect(tokenizerFromJSON({ level: 'word', lowercase: false, vocab }).eos).toBe(0);
  });
});

describe('vocab_index kernel (loadModel builds a word vocabulary\'s table in wasm)', () => {
  it('builds exactly the table the Vocabulary builds in JavaScript, and finds the first duplicate', async () => {
    const rt = await init();
    let seed = 11;
    const next = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (const n of [1, 2, 3, 7, 16, 100, 2000]) {
      // Short and long ASCII words over a small alphabet: many hash collisions and shared prefixes.
      const set = new Set<string>();
      while (set.size < n) set.add(Array.from({ length: 1 + Math.floor(next() * (next() < 0.1 ? 40 : 4)) }, () => 'abcX.,<>/'[Math.floor(next() * 9)]).join(''));
      const words = [...set];
      const js = new Vocabulary(words, null) as unknown as { slots: Int32Array };
      const text = words.join(' ');
      const nslots = js.slots.length;
      const t = rt.arena.alloc(text.length), st = rt.arena.alloc(4 * (n + 1)), sl = rt.arena.allocZeroed(4 * nslots);
      new Uint8Array(rt.memory.buffer, t, text.length).set(new TextEncoder().encode(text));
      expect(rt.kernels.vocab_index(t, text.length, sl, nslots, st), `n ${n}`).toBe(n);
      expect(Array.from(new Int32Array(rt.memory.buffer, sl, nslots)), `n ${n}`).toEqual(Array.from(js.slots));
      if (n > 2) { // a duplicate of word 1 as the last word: reported as −(id + 1)
        const dup = [...words.slice(0, -1), words[1]!].join(' ');
        new Int32Array(rt.memory.buffer, sl, nslots).fill(0);
        new Uint8Array(rt.memory.buffer, t, dup.length).set(new TextEncoder().encode(dup));
        expect(rt.kernels.vocab_index(t, dup.length, sl, nslots, st)).toBe(-n);
      }
      rt.arena.release(sl); rt.arena.release(st); rt.arena.release(t);
    }
    // Through a model file: the same ids for every word, ASCII or not (a non-ASCII vocabulary takes the JavaScript path).
    for (const extra of ['naïve', 'plain']) {
      const tok = WordTokenizer.fit(`the cat sat on the mat ${extra} . a dog , ran`);
      const m = new RNNLanguageModel(rt, { vocabSize: tok.vocab.size, embeddingDim: 4, hiddenSize: 4, seed: 1 });
      const back = loadModel(rt, saveModel(m, tok)).tokenizer;
      for (const w of tok.vocab.tokens) expect(back.vocab.idOf(w)).toBe(tok.vocab.idOf(w));
      expect(back.vocab.idOf('unseen')).toBe(tok.vocab.unkId);
      m.dispose();
    }
  });
});
