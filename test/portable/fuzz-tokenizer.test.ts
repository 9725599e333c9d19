// Hostile text through the tokenizers: seeded inputs (invalid UTF-8 decoded,
// lone surrogates, NUL and control characters, every line break and space,
// lines of 1 MB, empty input) through WordTokenizer and CharTokenizer fit,
// tokenize, encode, decode and their JSON form, plus malformed tokenizer JSON
// and arguments of the wrong type. Each input must give results that keep the
// invariants listed in test/fuzz/tokenizer-fuzz.js or a named error. Then the
// faults the fuzzer found. Runs in Node and Chromium.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { formatTokenizerReport, runTokenizerFuzz } from '../fuzz/tokenizer-fuzz.js';

const SEED = 20261123;
const INPUTS = 3000;

describe('tokenizer fuzzing', () => {
  it(`${INPUTS} seeded hostile inputs: valid results or a named error`, () => {
    const report = runTokenizerFuzz({ inputs: INPUTS, seed: SEED });
    console.log(`tokenizer fuzzing, seed ${SEED}\n${formatTokenizerReport(report)}`);
    expect(report.failures.map((f) => `seed ${f.seed} input ${f.index} (${f.what}): ${f.error}`)).toEqual([]);
    expect(report.tried).toBe(INPUTS);
    expect(report.ok).toBeGreaterThan(INPUTS / 4);
    expect(report.rejected.TokenizerError ?? 0).toBeGreaterThan(100);
    expect(report.rejected.FileFormatError ?? 0).toBeGreaterThan(100);
    expect(report.longestInput).toBeGreaterThanOrEqual(1_000_000);
  });
});

describe('tokenizer faults the fuzzer found', () => {
  it('decode() of something that is not a list of ids is a TokenizerError, not a TypeError', () => {
    for (const tok of [mnemo.WordTokenizer.fit('a b\n'), mnemo.CharTokenizer.fit('ab\n')]) {
      for (const bad of [null, undefined, 3, 'abc', { length: -1 }, { length: 1.5 }]) {
        expect(() => tok.decode(bad as unknown as number[]), String(bad)).toThrow(mnemo.TokenizerError);
      }
      expect(() => tok.decode(null as unknown as number[])).toThrow(/decode: ids must be an array of token ids, got null/);
      expect(tok.decode(new Int32Array(0))).toBe('');
    }
  });

  it('a character tokenizer that saw a lone high surrogate still reads a surrogate pair as one character', () => {
    const tok = mnemo.CharTokenizer.fit('a\ud83d b 😀\n'); // a lone U+D83D, then U+1F600 (U+D83D U+DE00)
    const text = '😀\ud83d😀';
    const ids = Array.from(tok.encode(text));
    expect(ids).toEqual(tok.tokenize(text).map((t) => tok.vocab.idOf(t)));
    expect(ids).toHaveLength(3);
    expect(tok.decode(ids)).toBe(text);
  });

  it('error messages quote at most 40 characters of a token, however long', () => {
    const long = 'x'.repeat(1_000_000);
    const e = (() => { try { mnemo.WordTokenizer.fromVocabulary(['</s>', long, long]); } catch (err) { return err as Error; } })();
    expect(e).toBeInstanceOf(mnemo.TokenizerError);
    expect(e!.message).toMatch(/token "x{40}…" appears twice \(ids 1 and 2\)/);
    expect(e!.message.length).toBeLessThan(120);
  });
});
