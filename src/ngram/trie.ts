// N-gram storage: a trie in sorted typed arrays (no strings, no Map per n-gram).
//
// Token ids are 0..V−1 (the vocabulary); id V is the sentence start `<s>`,
// which is never predicted. An n-gram of order n ≥ 2 is stored as (its
// prefix's index at order n−1, its last word); order 1 is dense: the
// unigram of id w has index w (V + 1 entries, `<s>` last).
//
//   order n, entry i:   words[n][i]            the last word (n ≥ 2)
//                       counts[n][i]           how often it occurred (raw count)
//   children of i:      first[n][i] .. first[n][i+1] − 1   entries of order n+1
//                       whose prefix is i, sorted by word (binary search)
//
// Memory per n-gram: 4 bytes word + 4 bytes count + 4 bytes of `first` for
// every entry that can be a context (orders < N). Counting goes through an
// open-addressing hash table over Int32Arrays per order, then one pass of two
// stable counting sorts (by word, then by prefix) turns it into the sorted
// layout above and drops the table.

import { FileFormatError, MnemoError } from '../errors.js';

/** The trie of a model: sizes, words, child ranges and (for trained models) counts per order. */
export class NgramTrie {
  /** Highest order N. */
  readonly order: number;
  /** Vocabulary size V (`<s>` is id V). */
  readonly vocabSize: number;
  /** sizes[n]: entries of order n (index 0 unused); sizes[1] = V + 1. */
  readonly sizes: number[];
  /** words[n] for n ≥ 2 (words[0], words[1] are empty). */
  readonly words: Int32Array[];
  /** first[n] for 1 ≤ n < N: length sizes[n] + 1, children ranges in order n + 1. */
  readonly first: Int32Array[];
  /** counts[n] for 1 ≤ n ≤ N (raw), or null for a model read from ARPA. */
  readonly counts: Int32Array[] | null;

  constructor(order: number, vocabSize: number, words: Int32Array[], first: Int32Array[], counts: Int32Array[] | null) {
    this.order = order;
    this.vocabSize = vocabSize;
    this.words = words;
    this.first = first;
    this.counts = counts;
    this.sizes = [0, vocabSize + 1];
    for (let n = 2; n <= order; n++) this.sizes.push(words[n]!.length);
  }

  /** The sentence-start id (= V). */
  get bos(): number {
    return this.vocabSize;
  }

  /** Number of stored n-grams of every order (the unigram `<s>` included). */
  get numNgrams(): number {
    let s = 0;
    for (let n = 1; n <= this.order; n++) s += this.sizes[n]!;
    return s;
  }

  /** Bytes of the typed arrays that hold the trie (words, child ranges, counts). */
  get byteLength(): number {
    let b = 0;
    for (const a of this.words) b += a.byteLength;
    for (const a of this.first) b += a.byteLength;
    if (this.counts) for (const a of this.counts) b += a.byteLength;
    return b;
  }

  /**
   * The entry of order n whose prefix is `parent` (an entry of order n − 1) and
   * whose last word is `w`, or −1. For n = 1 the parent is ignored and the entry is w.
   */
  child(n: number, parent: number, w: number): number {
    if (n === 1) return w;
    const first = this.first[n - 1]!;
    let lo = first[parent]!, hi = first[parent + 1]! - 1;
    const words = this.words[n]!;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = words[mid]!;
      if (x < w) lo = mid + 1;
      else if (x > w) hi = mid - 1;
      else return mid;
    }
    return -1;
  }

  /**
   * Suffix links: suffix[n][i] is the entry of order n − 1 holding the last
   * n − 1 words of entry i of order n (n ≥ 2). Every suffix of a stored n-gram
   * is stored (counts and ARPA imports both guarantee it), so none is −1.
   */
  suffixLinks(): Int32Array[] {
    const N = this.order;
    const links: Int32Array[] = [new Int32Array(0), new Int32Array(0)];
    for (let n = 2; n <= N; n++) {
      const out = new Int32Array(this.sizes[n]!);
      const words = this.words[n]!, first = this.first[n - 1]!;
      const parentLinks = links[n - 1]!;
      const P = this.sizes[n - 1]!;
      for (let p = 0; p < P; p++) {
        const sp = n === 2 ? 0 : parentLinks[p]!;
        for (let e = first[p]!; e < first[p + 1]!; e++) {
          const s = this.child(n - 1, sp, words[e]!);
          if (s < 0) throw new FileFormatError(`n-gram trie: an n-gram of order ${n} has no stored suffix of order ${n - 1}`);
          out[e] = s;
        }
      }
      links.push(out);
    }
    return links;
  }

  /**
   * Calls f(n, i, ids) for every entry of order n, ids being its words (the
   * first may be `<s>` = V), in storage order. `ids` is reused: copy it to keep it.
   */
  forEachNgram(n: number, f: (i: number, ids: Int32Array) => void): void {
    const ids = new Int32Array(n);
    const walk = (level: number, entry: number): void => {
      if (level === n) { f(entry, ids); return; }
      const first = this.first[level]!, words = this.words[level + 1]!;
      for (let e = first[entry]!; e < first[entry + 1]!; e++) {
        ids[level] = words[e]!;
        walk(level + 1, e);
      }
    };
    for (let w = 0; w <= this.vocabSize; w++) {
      ids[0] = w;
      walk(1, w);
    }
  }
}

/** Counts n-grams of orders 1..N, then builds the sorted trie (see the file comment). */
export class NgramCounter {
  readonly order: number;
  readonly vocabSize: number;
  private readonly unigrams: Int32Array;
  private readonly tables: HashTable[];
  /** prev[n]: the entry of order n ending at the previous position (−1: none). */
  private readonly prev: Int32Array;
  private readonly cur: Int32Array;

  /** `capacity`: the expected number of n-grams per order (at most the number of tokens); the tables grow past it as needed. */
  constructor(order: number, vocabSize: number, capacity = 1024) {
    this.order = order;
    this.vocabSize = vocabSize;
    this.unigrams = new Int32Array(vocabSize + 1);
    this.tables = [];
    for (let n = 0; n <= order; n++) this.tables.push(new HashTable(n >= 2 ? capacity : 0));
    this.prev = new Int32Array(order + 1);
    this.cur = new Int32Array(order + 1);
  }

  /**
   * Counts one sentence: `<s>` then ids[start..end) (which the caller ends with
   * the end-of-sentence id). Every n-gram ending at a token is counted, those
   * that begin at `<s>` included; `<s>` alone is not (it is never predicted).
   */
  addSentence(ids: ArrayLike<number>, start: number, end: number): void {
    const N = this.order, prev = this.prev, cur = this.cur, V = this.vocabSize;
    prev[1] = V;
    let have = 1; // orders available at the previous position
    for (let i = start; i < end; i++) {
      const w = ids[i]!;
      this.unigrams[w]!++;
      cur[1] = w;
      const top = Math.min(N, have + 1);
      for (let n = 2; n <= top; n++) cur[n] = this.tables[n]!.increment(prev[n - 1]!, w);
      have = top;
      for (let n = 1; n <= top; n++) prev[n] = cur[n]!;
    }
  }

  /** The sorted trie of everything counted. The counter may not be used afterwards. */
  build(): NgramTrie {
    const N = this.order, V = this.vocabSize;
    const { words, first, sortOrder } = sortTables(N, V, this.tables);
    const counts: Int32Array[] = [new Int32Array(0), this.unigrams];
    for (let n = 2; n <= N; n++) counts.push(permute(this.tables[n]!.count, sortOrder[n]!));
    for (let n = 2; n <= N; n++) this.tables[n] = new HashTable(0); // free them
    return new NgramTrie(N, V, words, first, counts);
  }
}

/** out[j] = a[order[j]]. */
export function permute<T extends Int32Array | Float64Array>(a: T, order: Int32Array): T {
  const out = new (a.constructor as new (n: number) => T)(order.length);
  for (let j = 0; j < order.length; j++) out[j] = a[order[j]!]!;
  return out;
}

/**
 * Sorts the hash tables of orders 2..N (entries keyed by (prefix index, word),
 * prefix indices in the previous table's insertion numbering) into the trie
 * layout: words and child ranges per order, and sortOrder[n][j] = the
 * insertion index of the entry that lands at position j (to permute payloads).
 * The tables' `parent` arrays are overwritten.
 */
export function sortTables(N: number, V: number, tables: readonly HashTable[]):
    { words: Int32Array[]; first: Int32Array[]; sortOrder: Int32Array[] } {
  const words: Int32Array[] = [new Int32Array(0), new Int32Array(0)];
  const first: Int32Array[] = [new Int32Array(0)];
  const sortOrder: Int32Array[] = [new Int32Array(0), new Int32Array(0)];
  let perm: Int32Array | null = null; // insertion → sorted index of the previous order (null: identity)
  let parentCount = V + 1;
  for (let n = 2; n <= N; n++) {
    const t = tables[n]!;
    const size = t.size;
    const parent = t.parent.subarray(0, size), word = t.word.subarray(0, size);
    if (perm) for (let i = 0; i < size; i++) parent[i] = perm[parent[i]!]!;
    const order = sortByParentThenWord(parent, word, parentCount, V + 1);
    const w = new Int32Array(size), f = new Int32Array(parentCount + 1), next = new Int32Array(size);
    for (let j = 0; j < size; j++) {
      const i = order[j]!;
      w[j] = word[i]!;
      next[i] = j;
      f[parent[i]! + 1]!++;
    }
    for (let p = 0; p < parentCount; p++) f[p + 1]! += f[p]!;
    words.push(w);
    first.push(f);
    sortOrder.push(order);
    perm = next;
    parentCount = size;
  }
  return { words, first, sortOrder };
}

/**
 * Open addressing with linear probing over Int32Arrays: key (parent, word) →
 * entry index. Entries are appended; the slot array holds index + 1 (0 = empty)
 * and is doubled when half full.
 */
export class HashTable {
  parent: Int32Array;
  word: Int32Array;
  count: Int32Array;
  size = 0;
  private slots: Int32Array;
  private mask: number;

  constructor(capacity: number) {
    const cap = Math.max(capacity, 1);
    this.parent = new Int32Array(cap);
    this.word = new Int32Array(cap);
    this.count = new Int32Array(cap);
    let s = 16;
    while (s < cap * 2) s *= 2;
    this.slots = new Int32Array(s);
    this.mask = s - 1;
  }

  /** Adds 1 to the count of (parent, word), inserting it if new; returns its index. */
  increment(parent: number, word: number): number {
    const i = this.findOrInsert(parent, word);
    if (this.count[i] === 0x7fffffff) throw new MnemoError('NgramLM: an n-gram count exceeds 2^31 − 1');
    this.count[i]!++;
    return i;
  }

  /** The index of (parent, word), or −1. */
  find(parent: number, word: number): number {
    let s = hash(parent, word) & this.mask;
    for (;;) {
      const v = this.slots[s]!;
      if (v === 0) return -1;
      if (this.parent[v - 1] === parent && this.word[v - 1] === word) return v - 1;
      s = (s + 1) & this.mask;
    }
  }

  /** The index of (parent, word), inserted with count 0 if new. */
  findOrInsert(parent: number, word: number): number {
    let s = hash(parent, word) & this.mask;
    for (;;) {
      const v = this.slots[s]!;
      if (v === 0) break;
      if (this.parent[v - 1] === parent && this.word[v - 1] === word) return v - 1;
      s = (s + 1) & this.mask;
    }
    const i = this.size++;
    if (i === this.parent.length) this.growEntries();
    this.parent[i] = parent;
    this.word[i] = word;
    this.count[i] = 0;
    this.slots[s] = i + 1;
    if (this.size * 2 > this.slots.length) this.growSlots();
    return i;
  }

  private growEntries(): void {
    const cap = Math.ceil(this.parent.length * 1.5) + 16;
    const grow = (a: Int32Array) => { const b = new Int32Array(cap); b.set(a); return b; };
    this.parent = grow(this.parent);
    this.word = grow(this.word);
    this.count = grow(this.count);
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let i = 0; i < this.size; i++) {
      let s = hash(this.parent[i]!, this.word[i]!) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = i + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

function hash(parent: number, word: number): number {
  let h = Math.imul(parent, 0x9e3779b1) ^ Math.imul(word + 0x632be5ab, 0x85ebca77);
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d);
  h ^= h >>> 12;
  return h >>> 0;
}

/**
 * The permutation that sorts entries by (parent, word): an LSD radix sort, two
 * stable counting sorts (by word, then by parent). O(size + P + W).
 */
export function sortByParentThenWord(parent: Int32Array, word: Int32Array, P: number, W: number): Int32Array {
  const n = parent.length;
  const byWord = new Int32Array(n);
  const start = new Int32Array(Math.max(P, W) + 1);
  for (let i = 0; i < n; i++) start[word[i]! + 1]!++;
  for (let k = 0; k < W; k++) start[k + 1]! += start[k]!;
  for (let i = 0; i < n; i++) byWord[start[word[i]!]!++] = i;
  start.fill(0);
  for (let i = 0; i < n; i++) start[parent[i]! + 1]!++;
  for (let k = 0; k < P; k++) start[k + 1]! += start[k]!;
  const out = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const i = byWord[j]!;
    out[start[parent[i]!]!++] = i;
  }
  return out;
}
