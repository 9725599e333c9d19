// The arena: a first-fit allocator over the one WebAssembly.Memory, owned by
// TypeScript. Blocks are 64-byte aligned (a cache line, so every block is also
// 16-byte aligned for SIMD loads). Freed blocks are coalesced with their
// neighbours and the top is lowered when the last block is freed. The memory
// grows on demand, never past `maxBytes`.

import { MnemoError, OutOfMemoryError } from './errors.js';

/** Alignment of every block, in bytes. */
export const ALIGN = 64;
const PAGE = 65536;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** First-fit allocator over a WebAssembly.Memory, from `base` up to `maxBytes`. */
export class Arena {
  /** Free blocks, sorted by offset, never adjacent (coalesced). */
  private readonly free: { offset: number; size: number }[] = [];
  /** Live blocks: offset → size. */
  private readonly live = new Map<number, number>();
  private top: number;
  /** Every byte at or above this offset is still zero: never handed out since the memory was made (grow adds zero pages). */
  private zeroFrom: number;
  private used = 0;
  private peak = 0;

  constructor(readonly memory: WebAssembly.Memory, readonly base: number, readonly maxBytes: number) {
    this.top = alignUp(base, ALIGN);
    this.zeroFrom = this.top;
    if (this.top > maxBytes) {
      throw new OutOfMemoryError(`the kernels' static data (${base} bytes) exceeds the memory maximum ${maxBytes}`, base, maxBytes);
    }
  }

  /** Allocates `bytes` (rounded up to the alignment); returns the byte offset. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new MnemoError(`allocation size must be a non-negative integer number of bytes, got ${bytes}`);
    }
    const size = Math.max(ALIGN, alignUp(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block.size >= size) {
        const offset = block.offset;
        if (block.size === size) this.free.splice(i, 1);
        else { block.offset += size; block.size -= size; }
        return this.take(offset, size);
      }
    }
    // Extend the top; a free block touching the top is reused as the start.
    const last = this.free[this.free.length - 1];
    const start = last !== undefined && last.offset + last.size === this.top ? last.offset : this.top;
    const end = start + size;
    this.ensure(end, bytes);
    if (start !== this.top) this.free.pop();
    this.top = end;
    return this.take(start, size);
  }

  /**
   * As alloc, with the block's bytes zero. Only the part below the high-water
   * mark of allocations is cleared: memory above it has never been written, and
   * a fresh wasm page is zero. Loading a 5 MB model so skips a 5 MB fill whose
   * first touch of fresh pages cost about 13 ms in Chromium.
   */
  allocZeroed(bytes: number): number {
    const mark = this.zeroFrom;
    const offset = this.alloc(bytes);
    const end = Math.min(offset + bytes, mark);
    if (end > offset) new Uint8Array(this.memory.buffer, offset, end - offset).fill(0);
    return offset;
  }

  /** Frees a block returned by alloc. Freeing twice or a foreign offset is an error. */
  release(offset: number): void {
    const size = this.live.get(offset);
    if (size === undefined) throw new MnemoError(`release of offset ${offset}, which is not a live allocation (double free?)`);
    this.live.delete(offset);
    this.used -= size;
    if (offset + size === this.top) {
      this.top = offset;
      const last = this.free[this.free.length - 1];
      if (last !== undefined && last.offset + last.size === this.top) { this.top = last.offset; this.free.pop(); }
      return;
    }
    // Insert sorted, then merge with neighbours.
    let lo = 0, hi = this.free.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.free[mid]!.offset < offset) lo = mid + 1; else hi = mid; }
    this.free.splice(lo, 0, { offset, size });
    const next = this.free[lo + 1];
    if (next !== undefined && offset + size === next.offset) { this.free[lo]!.size += next.size; this.free.splice(lo + 1, 1); }
    const prev = this.free[lo - 1];
    if (prev !== undefined && prev.offset + prev.size === offset) { prev.size += this.free[lo]!.size; this.free.splice(lo, 1); }
  }

  /** Size in bytes of a live block, or undefined. */
  sizeOf(offset: number): number | undefined {
    return this.live.get(offset);
  }

  /** Bytes in live blocks, their high-water mark, blocks live, and the memory's size. */
  stats(): { usedBytes: number; peakBytes: number; liveBlocks: number; memoryBytes: number; maxBytes: number } {
    return { usedBytes: this.used, peakBytes: this.peak, liveBlocks: this.live.size,
      memoryBytes: this.memory.buffer.byteLength, maxBytes: this.maxBytes };
  }

  private take(offset: number, size: number): number {
    if (offset + size > this.zeroFrom) this.zeroFrom = offset + size;
    this.live.set(offset, size);
    this.used += size;
    if (this.used > this.peak) this.peak = this.used;
    return offset;
  }

  /** Grows the memory so that bytes [0, end) exist, doubling to amortise, within maxBytes. */
  private ensure(end: number, requested: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    if (end > this.maxBytes) {
      throw new OutOfMemoryError(
        `allocating ${requested} bytes would need ${end} bytes of memory, over the maximum of ${this.maxBytes} ` +
        `(${this.used} bytes live); raise maxMemory or free tensors`, requested, this.maxBytes);
    }
    const want = Math.min(Math.max(end, have * 2), this.maxBytes);
    const pages = Math.ceil((want - have) / PAGE);
    const minPages = Math.ceil((end - have) / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(minPages);
      } catch (e) {
        throw new OutOfMemoryError(`the engine refused to grow memory to ${end} bytes for an allocation of ${requested} bytes: ` +
          `${(e as Error).message}`, requested, this.maxBytes);
      }
    }
  }
}
