// The word vocabulary's token → id hash table, built from the model file's
// space-separated words (ASCII bytes) in one pass: the same table, hash and
// probing as the TypeScript Vocabulary (src/lm/tokenizer.ts, hashToken), which
// would otherwise build it in JavaScript on a cold start, when the engine still
// interprets that code.

/**
 * Builds the table for the `len` bytes at `text`: words separated by single
 * spaces (an empty word between two spaces is a word too). `slots` holds
 * `nslots` i32 (a power of two, at least twice the word count), zeroed by the
 * caller; slot = id + 1. `starts` receives each word's first byte and, after
 * the last, len + 1 (room for count + 1 i32). Returns the word count, or
 * −(id + 1) for the first word whose id is a duplicate of an earlier word's.
 */
export function vocab_index(text: usize, len: i32, slots: usize, nslots: i32, starts: usize): i32 {
  const mask = <u32>nslots - 1;
  let id = 0, begin = 0;
  let h: u32 = 5381;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? <u32>load<u8>(text + <usize>i) : 0x20;
    // The word [begin, i): hashed as hashToken does (djb2 kept below 2^24 before each multiply, then lowbias32).
    if (c != 0x20) { h = (h & 0xffffff) * 33 + c; continue; }
    h = (h ^ (h >>> 16)) * 0x7feb352d;
    h = (h ^ (h >>> 15)) * 0x846ca68b;
    let s = (h ^ (h >>> 16)) & mask;
    h = 5381;
    store<i32>(starts + (<usize>id << 2), begin);
    for (let e = load<i32>(slots + (<usize>s << 2)); e != 0; e = load<i32>(slots + (<usize>s << 2))) {
      const o = load<i32>(starts + (<usize>(e - 1) << 2));
      const olen = load<i32>(starts + (<usize>e << 2)) - 1 - o;
      if (olen == i - begin && memory.compare(text + <usize>o, text + <usize>begin, <usize>olen) == 0) return -(id + 1);
      s = (s + 1) & mask;
    }
    store<i32>(slots + (<usize>s << 2), id + 1);
    id++;
    store<i32>(starts + (<usize>id << 2), i + 1); // the next word's start, and this one's end + 1
    begin = i + 1;
  }
  return id;
}
