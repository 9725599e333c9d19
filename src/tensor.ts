// Tensors are views into the runtime's one memory: a byte offset and a shape
// (row-major, float32). A tensor never caches a typed array: `data` is derived
// from the current buffer on every access, so `memory.grow` cannot leave a
// stale view behind. Hold `data` only until the next allocation.

import { DisposedError, ShapeError } from './errors.js';
import type { Runtime } from './runtime.js';

/** A shape: non-negative integer sizes, row-major. */
export type Shape = readonly number[];

/** Element types: float32 for values, int32 for token ids and targets. */
export type DType = 'float32' | 'int32';

/** The typed array of a dtype. */
export type ArrayOf<D extends DType> = D extends 'int32' ? Int32Array : Float32Array;

/** Number of elements of a shape; throws ShapeError on a bad size. */
export function shapeSize(shape: Shape): number {
  if (!Array.isArray(shape)) throw new ShapeError(`shape must be an array of sizes, got ${String(shape)}`);
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`shape sizes must be non-negative integers, got [${shape.join(', ')}]`);
    n *= d;
  }
  if (n > 2 ** 31) throw new ShapeError(`shape [${shape.join(', ')}] has ${n} elements, more than a wasm32 memory can hold`);
  return n;
}

/** A tensor living in a Runtime's memory: float32 (default) or int32. */
export class Tensor<D extends DType = 'float32'> {
  /** Number of elements. */
  readonly size: number;
  private live = true;

  /** Use runtime.tensor / runtime.zeros / runtime.intTensor to create tensors. */
  constructor(readonly runtime: Runtime, readonly offset: number, readonly shape: Shape,
              readonly dtype: D = 'float32' as D) {
    this.size = shapeSize(shape);
  }

  /** Size in bytes. */
  get byteLength(): number {
    return this.size * 4;
  }

  /** The tensor whose memory a view shares (undefined for a tensor that owns its memory). */
  private base?: Tensor<D>;

  /** False once disposed (directly, by the end of its scope, or, for a view, with its base). */
  get isLive(): boolean {
    return this.live && (this.base === undefined || this.base.isLive);
  }

  /**
   * The same memory seen with another shape of the same size, like PyTorch's
   * view(): (T, B, V) logits as (T·B, V), say. Disposing a view frees nothing;
   * it is dead once its base is disposed.
   */
  view(shape: Shape): Tensor<D> {
    const size = shapeSize(shape);
    if (size !== this.size) {
      throw new ShapeError(`view: [${this.shape.join(', ')}] has ${this.size} elements, [${shape.join(', ')}] has ${size}`);
    }
    if (!this.isLive) throw new DisposedError(`view of tensor [${this.shape.join(', ')}] after dispose()`);
    const v = new Tensor<D>(this.runtime, this.offset, [...shape], this.dtype);
    v.base = this.base ?? this;
    return v;
  }

  /** A typed view over the current memory buffer. Valid until the next allocation may grow memory. */
  get data(): ArrayOf<D> {
    if (!this.isLive) throw new DisposedError(`tensor [${this.shape.join(', ')}] was used after dispose()`);
    const buffer = this.runtime.memory.buffer;
    return (this.dtype === 'int32'
      ? new Int32Array(buffer, this.offset, this.size)
      : new Float32Array(buffer, this.offset, this.size)) as ArrayOf<D>;
  }

  /** A copy of the elements, safe to keep. */
  toArray(): ArrayOf<D> {
    return this.data.slice() as ArrayOf<D>;
  }

  /** Copies `values` (exactly `size` numbers) into the tensor; returns this. */
  set(values: ArrayLike<number>): this {
    if (values.length !== this.size) {
      throw new ShapeError(`set: tensor [${this.shape.join(', ')}] has ${this.size} elements, got ${values.length} values`);
    }
    this.data.set(values);
    return this;
  }

  /** Frees the tensor's memory. Using it afterwards throws DisposedError; disposing twice does nothing. */
  dispose(): void {
    if (!this.live) return;
    this.live = false;
    if (this.base === undefined) this.runtime.release(this);
  }

  /** Marks the tensor dead without freeing (the runtime did the freeing). */
  /** @internal */
  markDisposed(): void {
    this.live = false;
  }
}
