// Tokenizers: text → token ids → text, at word or character level. Portable
// (no Node APIs). The vocabulary is plain JSON, so it travels inside a model file.
//
// Word level, the rule:
//   - The text is cut into lines at '\n' (a '\r' before it is white space, so
//     CRLF text gives the same tokens).
//   - Each line is split on runs of white space (JavaScript's `\s`: space, tab,
//     '\r', '\f', '\v' and the Unicode spaces). Nothing else is split:
//     punctuation stays attached to its word unless the text already separates
//     it (the Brown files write `election , which` with spaces, so `,` is a word).
//   - Every non-empty line ends with the token '</s>'; a line that is empty or
//     only white space produces nothing.
//   - With `lowercase`, the text is lower-cased first (String#toLowerCase,
//     locale-independent); by default case is kept (`The` ≠ `the`).
//   - fit(): words seen fewer than `minCount` times (default 1) become '<unk>';
//     with `maxVocab`, only the most frequent words are kept so that the
//     vocabulary has at most that many tokens, and the others become '<unk>'.
//     '<unk>' and '</s>' are always in the vocabulary, counted like words ('<unk>'
//     counts the words it replaced, plus any literal `<unk>` in the text).
//   - Vocabulary order: count descending, ties by code point (the order of the
//     Brown `vocab.txt`); id = rank.
//   - decode() joins words with single spaces and turns '</s>' into '\n', so
//     decode(encode(text)) is the text with white space normalised.
//
// Character level: every character (Unicode code point, not UTF-16 unit) is a
// token, '\n' included; '\n' is the end-of-line token. fit() keeps characters
// seen at least `minCount` times; '<unk>' is always in the vocabulary and
// stands for any other character, so unseen characters are never fatal. It
// decodes to U+FFFD (the replacement character). Same order rule as words.

import { FileFormatError, MnemoError } from '../errors.js';

/** A tokenizer was given a bad argument (not a string, an id out of range, an unknown token without '<unk>'). */
export class TokenizerError extends MnemoError {}

/** The unknown-token and end-of-line tokens. */
export const UNK = '<unk>';
export const EOS_WORD = '</s>';
export const EOS_CHAR = '\n';
/** What a character-level '<unk>' decodes to. */
const REPLACEMENT_CHAR = '\uFFFD';

const WHITESPACE = /\s+/;

/**
 * Token ↔ id. Ids are positions in `tokens`. The token → id index is an
 * open-addressing hash table in an Int32Array (hashToken below, linear
 * probing, at most half full), not a Map: for a 10,000-word vocabulary
 * that is 128 KB outside the JS heap instead of about 1 MB inside it, which is
 * what made loading a model start a full garbage collection (cold start).
 */
export class Vocabulary {
  /** id → token. */
  readonly tokens: readonly string[];
  /** Id of the unknown token, or −1 if the vocabulary has none. */
  readonly unkId: number;
  /** Slots of the hash table: id + 1, or 0 for an empty slot. */
  private readonly slots: Int32Array;

  /**
   * @param tokens id → token; no duplicates.
   * @param unk the unknown token: a string in `tokens`, null for none; by default '<unk>' if present, else none.
   */
  constructor(tokens: readonly string[], unk?: string | null, /** @internal */ index?: Int32Array) {
    if (!Array.isArray(tokens)) throw new TokenizerError(`Vocabulary: tokens must be an array of strings, got ${describe(tokens)}`);
    const n = tokens.length;
    // `index`: the table the vocab_index kernel built over these tokens (loadModel), duplicates already refused.
    const slots = index ?? new Int32Array(vocabularySlots(n));
    const mask = slots.length - 1;
    for (let i = index ? n : 0; i < n; i++) {
      const t: unknown = tokens[i];
      if (typeof t !== 'string') throw new TokenizerError(`Vocabulary: token ${i} must be a string, got ${describe(t)}`);
      let s = hashToken(t) & mask;
      for (let e = slots[s]!; e !== 0; e = slots[s]!) {
        if (tokens[e - 1] === t) throw new TokenizerError(`Vocabulary: token ${describe(t)} appears twice (ids ${e - 1} and ${i})`);
        s = (s + 1) & mask;
      }
      slots[s] = i + 1;
    }
    this.tokens = Object.freeze(tokens.slice());
    this.slots = slots;
    const unkToken = unk === undefined ? (this.find(UNK) >= 0 ? UNK : null) : unk;
    if (unkToken !== null && (typeof unkToken !== 'string' || this.find(unkToken) < 0)) {
      throw new TokenizerError(`Vocabulary: the unknown token ${describe(unkToken)} is not one of the ${tokens.length} tokens`);
    }
    this.unkId = unkToken === null ? -1 : this.find(unkToken);
  }

  /** The id of `token`, or −1. */
  private find(token: string): number {
    const slots = this.slots, mask = slots.length - 1, tokens = this.tokens;
    let s = hashToken(token) & mask;
    for (let e = slots[s]!; e !== 0; e = slots[s]!) {
      if (tokens[e - 1] === token) return e - 1;
      s = (s + 1) & mask;
    }
    return -1;
  }

  /** Number of tokens. */
  get size(): number {
    return this.tokens.length;
  }

  /** The id of `token`; unkId when it is unknown. Throws TokenizerError if it is unknown and there is no unknown token. */
  idOf(token: string): number {
    const id = this.find(token);
    if (id >= 0) return id;
    if (this.unkId >= 0) return this.unkId;
    throw new TokenizerError(`Vocabulary: unknown token ${describe(token)} and the vocabulary has no unknown token`);
  }

  /** The token of `id`. Throws TokenizerError if id is not an integer in [0, size). */
  tokenOf(id: number): string {
    const t = Number.isInteger(id) ? this.tokens[id] : undefined;
    if (t === undefined) throw new TokenizerError(`Vocabulary: id ${id} is out of range [0, ${this.size})`);
    return t;
  }

  /** Whether `token` is in the vocabulary (the unknown token counts as in it). */
  has(token: string): boolean {
    return this.find(token) >= 0;
  }

  /** `{ tokens, unk }`: the tokens in id order and the unknown token (or null). */
  toJSON(): { tokens: string[]; unk: string | null } {
    return { tokens: this.tokens.slice(), unk: this.unkId >= 0 ? this.tokens[this.unkId]! : null };
  }

  /** The inverse of toJSON(), from the object or its JSON text. Throws FileFormatError naming the bad field. */
  static fromJSON(json: unknown): Vocabulary {
    return vocabularyFromJSON(parseJSON(json, 'vocabulary'), 'vocabulary');
  }
}

/**
 * The JSON form of a tokenizer (stored in a model file's metadata). The word
 * level writes its tokens as ONE string, separated by single spaces (a word
 * never holds white space): in a model file's header that string needs no
 * escape per token, so a 10,000-word vocabulary is read at native speed
 * (cold start). The character level writes an array (its tokens include ' '
 * and '\n'). tokenizerFromJSON() reads both forms at the word level.
 */
export interface TokenizerJSON {
  level: 'char' | 'word';
  lowercase: boolean;
  vocab: { tokens: string[] | string; unk: string | null };
}

/** What WordTokenizer and CharTokenizer share. */
export interface Tokenizer {
  readonly level: 'char' | 'word';
  readonly vocab: Vocabulary;
  /** Whether text is lower-cased before it is split. */
  readonly lowercase: boolean;
  /** Id of the end-of-line token: '</s>' for words, '\n' for characters. */
  readonly eos: number;
  /** text → tokens (word level: '</s>' at each line end). Tokens not in the vocabulary stay as they are. */
  tokenize(text: string): string[];
  /** text → ids (tokens not in the vocabulary → unkId). */
  encode(text: string): Int32Array;
  /** ids → text. Word level: tokens joined by spaces, '</s>' → '\n'. Character level: concatenated. */
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJSON;
}

/** Options of WordTokenizer.fit. */
export interface WordFitOptions {
  /** Words seen fewer times become '<unk>' (default 1: keep every word). */
  minCount?: number;
  /** Lower-case the text before splitting (default false: case kept). */
  lowercase?: boolean;
  /** At most this many tokens, '<unk>' and '</s>' included (default: no limit). */
  maxVocab?: number;
}

/** Options of fromVocabulary. */
export interface FromVocabularyOptions {
  lowercase?: boolean;
  /** The unknown token; by default '<unk>' if it is among the tokens, else none. */
  unk?: string | null;
}

/** Word-level tokenizer (rule at the top of this file). */
export class WordTokenizer implements Tokenizer {
  readonly level = 'word' as const;
  readonly vocab: Vocabulary;
  readonly eos: number;
  readonly lowercase: boolean;

  private constructor(vocab: Vocabulary, lowercase: boolean) {
    if (!vocab.has(EOS_WORD)) throw new TokenizerError(`WordTokenizer: the vocabulary must contain the end-of-line token '${EOS_WORD}'`);
    // One regex pass over all tokens; the token-by-token search only to name a bad one.
    if (vocab.tokens.includes('') || WHITESPACE.test(vocab.tokens.join(''))) {
      const i = vocab.tokens.findIndex((t) => t === '' || WHITESPACE.test(t));
      throw new TokenizerError(`WordTokenizer: token ${i} (${describe(vocab.tokens[i])}) is empty or contains white space; a word never does`);
    }
    this.vocab = vocab;
    this.eos = vocab.idOf(EOS_WORD);
    this.lowercase = lowercase;
  }

  /** Builds the vocabulary from `text` (see the rule at the top of this file). */
  static fit(text: string, options: WordFitOptions = {}): WordTokenizer {
    const lowercase = optionalBoolean(options.lowercase, 'WordTokenizer.fit: lowercase');
    const minCount = countOption(options.minCount, 1, 'WordTokenizer.fit: minCount');
    const maxVocab = options.maxVocab === undefined ? Infinity : countOption(options.maxVocab, 2, 'WordTokenizer.fit: maxVocab');
    if (maxVocab < 2) throw new TokenizerError(`WordTokenizer.fit: maxVocab must be at least 2 ('${UNK}' and '${EOS_WORD}'), got ${maxVocab}`);
    const counts = new Map<string, number>();
    forEachWord(prepare(text, lowercase, 'WordTokenizer.fit'), (w) => counts.set(w, (counts.get(w) ?? 0) + 1));
    const ranked = limitVocabulary(counts, minCount, maxVocab, [UNK, EOS_WORD]);
    return new WordTokenizer(new Vocabulary(ranked.map((e) => e.token), UNK), lowercase);
  }

  /** A tokenizer over a given vocabulary (its tokens in id order, or a Vocabulary); it must contain '</s>'. */
  static fromVocabulary(tokens: readonly string[] | Vocabulary, options: FromVocabularyOptions = {}): WordTokenizer {
    return new WordTokenizer(asVocabulary(tokens, options, 'WordTokenizer'), optionalBoolean(options.lowercase, 'WordTokenizer: lowercase'));
  }

  tokenize(text: string): string[] {
    const out: string[] = [];
    forEachWord(prepare(text, this.lowercase, 'WordTokenizer.tokenize'), (w) => out.push(w));
    return out;
  }

  encode(text: string): Int32Array {
    const ids: number[] = [];
    const vocab = this.vocab;
    forEachWord(prepare(text, this.lowercase, 'WordTokenizer.encode'), (w) => ids.push(vocab.idOf(w)));
    return Int32Array.from(ids);
  }

  decode(ids: ArrayLike<number>): string {
    checkIds(ids, 'WordTokenizer.decode');
    const parts: string[] = [];
    let lineStart = true;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === this.eos) {
        parts.push('\n');
        lineStart = true;
      } else {
        const t = this.vocab.tokenOf(id);
        parts.push(lineStart ? t : ' ' + t);
        lineStart = false;
      }
    }
    return parts.join('');
  }

  toJSON(): TokenizerJSON {
    const unk = this.vocab.unkId >= 0 ? this.vocab.tokens[this.vocab.unkId]! : null;
    return { level: 'word', lowercase: this.lowercase, vocab: { tokens: this.vocab.tokens.join(' '), unk } };
  }
}

/** Options of CharTokenizer.fit. */
export interface CharFitOptions {
  /** Characters seen fewer times become '<unk>' (default 1: keep every character). */
  minCount?: number;
  /** Lower-case the text first (default false). */
  lowercase?: boolean;
}

/** Character-level tokenizer: one token per code point, '\n' is the end of line. */
export class CharTokenizer implements Tokenizer {
  readonly level = 'char' as const;
  readonly vocab: Vocabulary;
  readonly eos: number;
  readonly lowercase: boolean;
  /** id of each UTF-16 code unit that is a whole BMP character (−1: not in the vocabulary); a fast path for encode. */
  private readonly bmpIds: Int32Array;

  private constructor(vocab: Vocabulary, lowercase: boolean) {
    if (!vocab.has(EOS_CHAR)) throw new TokenizerError(`CharTokenizer: the vocabulary must contain the end-of-line character '\\n'`);
    this.bmpIds = new Int32Array(0x10000).fill(-1);
    vocab.tokens.forEach((t, i) => {
      if (i === vocab.unkId) return;
      const cp = t.codePointAt(0);
      if (cp === undefined || String.fromCodePoint(cp).length !== t.length) {
        throw new TokenizerError(`CharTokenizer: token ${i} (${describe(t)}) is not a single character`);
      }
      // Not a lone surrogate: in text, a high surrogate may start a pair, which the slow path reads whole.
      if (t.length === 1 && (cp < 0xd800 || cp > 0xdfff)) this.bmpIds[cp] = i;
    });
    this.vocab = vocab;
    this.eos = vocab.idOf(EOS_CHAR);
    this.lowercase = lowercase;
  }

  /** Builds the vocabulary from the characters of `text`; '<unk>' and '\n' are always in it. */
  static fit(text: string, options: CharFitOptions = {}): CharTokenizer {
    const lowercase = optionalBoolean(options.lowercase, 'CharTokenizer.fit: lowercase');
    const minCount = countOption(options.minCount, 1, 'CharTokenizer.fit: minCount');
    const counts = new Map<string, number>();
    for (const ch of prepare(text, lowercase, 'CharTokenizer.fit')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    const ranked = limitVocabulary(counts, minCount, Infinity, [UNK, EOS_CHAR]);
    return new CharTokenizer(new Vocabulary(ranked.map((e) => e.token), UNK), lowercase);
  }

  /** A tokenizer over a given vocabulary (tokens in id order, or a Vocabulary): single characters, '\n' among them, plus the unknown token. */
  static fromVocabulary(tokens: readonly string[] | Vocabulary, options: FromVocabularyOptions = {}): CharTokenizer {
    return new CharTokenizer(asVocabulary(tokens, options, 'CharTokenizer'), optionalBoolean(options.lowercase, 'CharTokenizer: lowercase'));
  }

  tokenize(text: string): string[] {
    return Array.from(prepare(text, this.lowercase, 'CharTokenizer.tokenize'));
  }

  encode(text: string): Int32Array {
    const s = prepare(text, this.lowercase, 'CharTokenizer.encode');
    const out = new Int32Array(s.length);   // at least one unit per character
    const bmp = this.bmpIds;
    let n = 0;
    for (let i = 0; i < s.length; i++) {
      const u = s.charCodeAt(i);
      const id = bmp[u]!;
      if (id >= 0) {
        out[n++] = id;
      } else if (u >= 0xd800 && u <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        out[n++] = this.vocab.idOf(s.slice(i, i + 2));   // a character outside the BMP: two units
        i++;
      } else {
        out[n++] = this.vocab.idOf(s[i]!);
      }
    }
    return out.slice(0, n);
  }

  decode(ids: ArrayLike<number>): string {
    checkIds(ids, 'CharTokenizer.decode');
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      parts.push(id === this.vocab.unkId ? REPLACEMENT_CHAR : this.vocab.tokenOf(id));
    }
    return parts.join('');
  }

  toJSON(): TokenizerJSON {
    return { level: 'char', lowercase: this.lowercase, vocab: this.vocab.toJSON() };
  }
}

/** A tokenizer from its toJSON() form (the object or its JSON text). Throws FileFormatError naming the bad field. */
export function tokenizerFromJSON(json: unknown, /** @internal */ index?: Int32Array): Tokenizer {
  const o = parseJSON(json, 'tokenizer');
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new FileFormatError(`tokenizer: expected an object { level, lowercase, vocab }, got ${describe(o)}`);
  }
  const { level, lowercase, vocab } = o as Record<string, unknown>;
  if (level !== 'word' && level !== 'char') throw new FileFormatError(`tokenizer.level must be 'word' or 'char', got ${describe(level)}`);
  if (typeof lowercase !== 'boolean') throw new FileFormatError(`tokenizer.lowercase must be a boolean, got ${describe(lowercase)}`);
  const v = vocabularyFromJSON(vocab, 'tokenizer.vocab', level === 'word', index);
  try {
    return level === 'word' ? WordTokenizer.fromVocabulary(v, { lowercase }) : CharTokenizer.fromVocabulary(v, { lowercase });
  } catch (e) {
    if (e instanceof TokenizerError) throw new FileFormatError(`tokenizer: ${e.message}`);
    throw e;
  }
}

/**
 * The ids of `text` as the context of a next-token prediction (Predictor, NgramLM):
 * as encode(), except that at word level the '</s>' a line gets is kept only
 * when a '\n' follows its last word, and with `partial` an unfinished last word
 * (no white space after it) is returned apart, case-folded as the tokenizer does.
 */
export function encodeContext(tok: Tokenizer, text: string, partial: boolean): { ids: Int32Array; partial?: string } {
  if (tok.level !== 'word') return { ids: tok.encode(text) };
  let word: string | undefined;
  let body = text;
  if (partial && /\S$/.test(text)) {
    const m = /\S+$/.exec(text)!;
    word = tok.lowercase ? m[0].toLowerCase() : m[0];
    body = text.slice(0, m.index);
  }
  let ids = tok.encode(body);
  if (ids.length > 0 && ids[ids.length - 1] === tok.eos && !/\s*$/.exec(body)![0].includes('\n')) ids = ids.subarray(0, ids.length - 1);
  return word === undefined ? { ids } : { ids, partial: word };
}

/** A token and how often it occurs. */
export interface TokenCount {
  token: string;
  count: number;
}

/**
 * Sorts by count descending, ties by code point (the vocabulary order). Used
 * by fit() and by the Brown preparation.
 */
export function rankByCount(entries: TokenCount[]): TokenCount[] {
  return entries.sort((a, b) => b.count - a.count || compareCodePoints(a.token, b.token));
}

/** Compares two strings by Unicode code points (JS `<` compares UTF-16 units, which differs for U+E000–U+FFFF vs. astral characters). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff, ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;   // a surrogate (a code point ≥ U+10000) sorts after any BMP unit
      return x - y;
    }
  }
  return a.length - b.length;
}

// ---------------------------------------------------------------------------

/**
 * counts → ranked vocabulary: `specials` ('<unk>' first, then the end-of-line
 * token) are always kept; other tokens need count ≥ minCount, and only the top
 * maxVocab − specials.length of them by rank are kept. Dropped counts go to '<unk>'.
 */
function limitVocabulary(counts: Map<string, number>, minCount: number, maxVocab: number, specials: string[]): TokenCount[] {
  let unkCount = counts.get(UNK) ?? 0;
  const kept: TokenCount[] = [];
  const out: TokenCount[] = [];
  for (const [token, count] of counts) {
    if (specials.includes(token)) continue;
    if (count >= minCount) kept.push({ token, count });
    else unkCount += count;
  }
  rankByCount(kept);
  const room = maxVocab - specials.length;
  if (kept.length > room) for (const e of kept.splice(room)) unkCount += e.count;
  out.push({ token: UNK, count: unkCount });
  for (const s of specials) if (s !== UNK) out.push({ token: s, count: counts.get(s) ?? 0 });
  return rankByCount(out.concat(kept));
}

/** Calls `f` for each word of `text` and '</s>' after each non-empty line. */
function forEachWord(text: string, f: (word: string) => void): void {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const words = text.slice(start, end).split(WHITESPACE);
    let any = false;
    for (const w of words) {
      if (w !== '') {
        f(w);
        any = true;
      }
    }
    if (any) f(EOS_WORD);
    start = end + 1;
  }
}

/** Throws TokenizerError unless `ids` is an array-like of numbers (an array, a typed array). */
function checkIds(ids: unknown, what: string): void {
  const length = typeof ids === 'object' && ids !== null ? (ids as { length?: unknown }).length : undefined;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new TokenizerError(`${what}: ids must be an array of token ids, got ${describe(ids)}`);
  }
}

function prepare(text: unknown, lowercase: boolean, what: string): string {
  if (typeof text !== 'string') throw new TokenizerError(`${what}: text must be a string, got ${describe(text)}`);
  return lowercase ? text.toLowerCase() : text;
}

function countOption(value: unknown, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TokenizerError(`${what} must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

function optionalBoolean(value: unknown, what: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TokenizerError(`${what} must be a boolean, got ${describe(value)}`);
  return value;
}

function parseJSON(json: unknown, what: string): unknown {
  if (typeof json !== 'string') return json;
  try {
    return JSON.parse(json) as unknown;
  } catch (e) {
    throw new FileFormatError(`${what}: invalid JSON (${(e as Error).message})`);
  }
}

/** A Vocabulary given as one (its own unknown token; `options.unk` must then be absent) or as its tokens. */
function asVocabulary(tokens: readonly string[] | Vocabulary, options: FromVocabularyOptions, what: string): Vocabulary {
  if (!(tokens instanceof Vocabulary)) return new Vocabulary(tokens, options.unk);
  if (options.unk !== undefined) {
    throw new TokenizerError(`${what}.fromVocabulary: 'unk' comes from the Vocabulary given; pass its tokens to choose another`);
  }
  return tokens;
}

/** `{ tokens, unk }` → a Vocabulary; `words`: tokens may also be one string of words separated by single spaces. */
function vocabularyFromJSON(o: unknown, what: string, words = false, index?: Int32Array): Vocabulary {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    throw new FileFormatError(`${what}: expected an object { tokens, unk }, got ${describe(o)}`);
  }
  const { unk } = o as Record<string, unknown>;
  let { tokens } = o as Record<string, unknown>;
  if (words && typeof tokens === 'string') tokens = tokens.split(' '); // an empty word (two spaces) is refused by WordTokenizer
  if (!Array.isArray(tokens)) {
    throw new FileFormatError(`${what}.tokens must be an array of strings${words ? ' or one string of words separated by spaces' : ''}, got ${describe(tokens)}`);
  }
  const bad = tokens.findIndex((t) => typeof t !== 'string');
  if (bad >= 0) throw new FileFormatError(`${what}.tokens[${bad}] must be a string, got ${describe(tokens[bad])}`);
  if (unk !== undefined && unk !== null && typeof unk !== 'string') {
    throw new FileFormatError(`${what}.unk must be a string or null, got ${describe(unk)}`);
  }
  try {
    return new Vocabulary(tokens as string[], unk, index);
  } catch (e) {
    if (e instanceof TokenizerError) throw new FileFormatError(`${what}: ${e.message}`);
    throw e;
  }
}

/** Slots of a Vocabulary's hash table for n tokens: a power of two ≥ 2n + 1, at least 16. */
export function vocabularySlots(n: number): number {
  return 2 ** Math.max(4, Math.ceil(Math.log2(2 * n + 1)));
}

/**
 * The Vocabulary's hash of `s`: h = h·33 + c over its UTF-16 code units (djb2),
 * kept below 2^24 before each multiplication, so that every intermediate stays
 * a small integer (< 2^30), which V8's interpreter and baseline code keep
 * unboxed (a 32-bit hash such as FNV-1a would allocate a heap number per
 * character there: about 1 MB of garbage for a 10,000-word vocabulary at cold
 * start). Then one 32-bit finalizer (xor-shift-multiply twice, "lowbias32"),
 * so that tokens with nearby hashes ('w1', 'w2', … or numbers) land in distant
 * slots: with djb2's value alone, linear probing made long clusters of them.
 */
function hashToken(s: string): number {
  let h = 5381;
  for (let i = 0; i < s.length; i++) h = (h & 0xffffff) * 33 + s.charCodeAt(i);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return h ^ (h >>> 16);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
