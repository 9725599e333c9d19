// Batches for truncated backpropagation through time (Zaremba et al. 2014).
//
// The token stream (n tokens) is cut into B contiguous streams of
// L = floor((n − 1) / B) tokens: stream b holds tokens [b·L, (b+1)·L), and the
// last n − 1 − B·L tokens are dropped. Each step of an epoch reads the next
// window of T tokens of every stream, side by side:
//
//   inputs  (T, B)  inputs[t·B + b]  = stream[b·L + p + t]
//   targets (T·B)   targets[t·B + b] = stream[b·L + p + t + 1]     (the next token)
//
// where p is the position in the streams (0, T, 2T, …). The last window of an
// epoch may be shorter (T' = L − p). Over an epoch every stream's L tokens are
// read once as inputs, and the targets are tokens 1 … B·L of the stream, each
// predicted once (the target of a stream's last position is the first token of
// the next stream). To score every token of a text, put the end-of-line token
// in front of it (the start context) and use B = 1.
//
// Truncation is the caller's part: keep the recurrent state (h, and c for an
// LSTM) at the end of a window and pass it as the initial state of the next
// window, since column b of the next window continues stream b; and never
// backpropagate into it: the gradient with respect to the initial state is
// dropped (a window's backward stops at its first step). Reset the state to
// zeros at the start of an epoch (after reset()).
//
// Jitter (Merity et al. 2017, AWD-LSTM): with probability 0.95 the base length
// is T, else T/2, and the window length is T' = max(5, round(N(base, 5))),
// drawn from the seeded generator. It varies where windows start, so that every
// token is trained with different amounts of history across epochs. The
// generator keeps running across epochs (each epoch gets new lengths) and is
// part of getState(). (The normal draw uses Math.log and Math.cos, which
// engines may round differently: the lengths repeat exactly in one runtime.)

import { ShapeError, MnemoError } from '../errors.js';
import { Random } from '../random.js';

/** Options of BpttBatcher. */
export interface BpttBatcherOptions {
  /** B: number of parallel streams (columns of a window). */
  batchSize: number;
  /** T: window length in tokens (the base length when jittering). */
  seqLen: number;
  /** Random window lengths, AWD-LSTM style (default false). */
  jitter?: boolean;
  /** Seed of the jitter's generator (default 0). */
  seed?: number;
}

/** One window. */
export interface BpttBatch {
  /** (T', B) row-major: inputs[t·B + b]. */
  inputs: Int32Array;
  /** (T'·B): the token after each input, same order. */
  targets: Int32Array;
  /** T': this window's length (≤ T without jitter; the last window of an epoch may be shorter). */
  seqLen: number;
}

/** Where a BpttBatcher stands, to save with a checkpoint (plain JSON). */
export interface BpttBatcherState {
  /** Position p in the streams: the next window starts there. */
  position: number;
  /** The jitter generator's state (null without jitter). */
  rng: [number, number, number, number] | null;
  /** Checked by setState: the batcher must have the same layout. */
  batchSize: number;
  seqLen: number;
  streamLength: number;
}

/** Windows of B parallel streams for truncated BPTT (layout in the comment at the top of this file). */
export class BpttBatcher {
  /** B. */
  readonly batchSize: number;
  /** T (the base length when jittering). */
  readonly seqLen: number;
  /** L = floor((n − 1) / B): tokens per stream. */
  readonly streamLength: number;
  readonly jitter: boolean;
  private readonly stream: Int32Array;
  private readonly rng: Random | null;
  private pos = 0;

  constructor(stream: Int32Array, options: BpttBatcherOptions) {
    if (!(stream instanceof Int32Array)) throw new ShapeError(`BpttBatcher: the token stream must be an Int32Array, got ${typeof stream}`);
    const B = positiveInt(options?.batchSize, 'batchSize');
    const T = positiveInt(options.seqLen, 'seqLen');
    const L = Math.floor((stream.length - 1) / B);
    if (L < 1) {
      throw new ShapeError(`BpttBatcher: a stream of ${stream.length} tokens is too short for batchSize ${B}: it needs at least ${B + 1} tokens`);
    }
    if (options.jitter !== undefined && typeof options.jitter !== 'boolean') {
      throw new ShapeError(`BpttBatcher: jitter must be a boolean, got ${String(options.jitter)}`);
    }
    if (options.seed !== undefined && !Number.isInteger(options.seed)) {
      throw new ShapeError(`BpttBatcher: seed must be an integer, got ${String(options.seed)}`);
    }
    this.stream = stream;
    this.batchSize = B;
    this.seqLen = T;
    this.streamLength = L;
    this.jitter = options.jitter ?? false;
    this.rng = this.jitter ? new Random(options.seed ?? 0) : null;
  }

  /** Position p in the streams (0 … streamLength): tokens of each stream already read this epoch. */
  get position(): number {
    return this.pos;
  }

  /** The next window, or null at the end of the epoch (then call reset() for the next epoch). */
  next(): BpttBatch | null {
    const L = this.streamLength, B = this.batchSize, p = this.pos;
    if (p >= L) return null;
    const T = Math.min(this.windowLength(), L - p);
    const inputs = new Int32Array(T * B), targets = new Int32Array(T * B);
    const s = this.stream;
    for (let b = 0; b < B; b++) {
      const start = b * L + p;
      for (let t = 0; t < T; t++) {
        inputs[t * B + b] = s[start + t]!;
        targets[t * B + b] = s[start + t + 1]!;
      }
    }
    this.pos = p + T;
    return { inputs, targets, seqLen: T };
  }

  /** Back to the start of the streams (the next epoch). The jitter generator is not reset. */
  reset(): void {
    this.pos = 0;
  }

  /** Windows per epoch without jitter: ceil(L / T). With jitter the count varies; this is the estimate. */
  epochSize(): number {
    return Math.ceil(this.streamLength / this.seqLen);
  }

  getState(): BpttBatcherState {
    return {
      position: this.pos, rng: this.rng ? this.rng.getState() : null,
      batchSize: this.batchSize, seqLen: this.seqLen, streamLength: this.streamLength,
    };
  }

  /** Restores getState() (for example from a checkpoint); the batcher must have the same B, T, L and jitter. */
  setState(state: BpttBatcherState): void {
    const s = state as Partial<BpttBatcherState> | null;
    if (typeof s !== 'object' || s === null) throw new MnemoError(`BpttBatcher.setState: expected an object from getState(), got ${String(s)}`);
    for (const k of ['batchSize', 'seqLen', 'streamLength'] as const) {
      if (s[k] !== this[k]) {
        throw new MnemoError(`BpttBatcher.setState: the state is for ${k} ${String(s[k])}, this batcher has ${this[k]}`);
      }
    }
    if (!Number.isInteger(s.position) || s.position! < 0 || s.position! > this.streamLength) {
      throw new MnemoError(`BpttBatcher.setState: position must be an integer in [0, ${this.streamLength}], got ${String(s.position)}`);
    }
    const rng = s.rng ?? null;
    if ((rng === null) !== (this.rng === null)) {
      throw new MnemoError(`BpttBatcher.setState: the state is from a batcher ${rng ? 'with' : 'without'} jitter, this one is ${this.rng ? 'with' : 'without'}`);
    }
    if (rng !== null && (!Array.isArray(rng) || rng.length !== 4 || !rng.every((v) => Number.isInteger(v)))) {
      throw new MnemoError('BpttBatcher.setState: rng must be 4 integers');
    }
    this.pos = s.position!;
    if (rng !== null) this.rng!.setState(rng);
  }

  /** The length of the next window before clipping to the end of the streams. */
  private windowLength(): number {
    const rng = this.rng;
    if (rng === null) return this.seqLen;
    const base = rng.next() < 0.95 ? this.seqLen : this.seqLen / 2;
    // N(base, 5) by Box–Muller. Every window takes exactly three uniforms.
    const u1 = 1 - rng.next(), u2 = rng.next();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    return Math.max(5, Math.round(base + 5 * z));
  }
}

function positiveInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ShapeError(`BpttBatcher: ${name} must be a positive integer, got ${String(v)}`);
  return v;
}
