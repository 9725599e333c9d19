// Shape and state checks shared by the layers, with messages that name sizes.

import { MnemoError, ShapeError } from '../errors.js';
import type { DType, Shape, Tensor } from '../tensor.js';

/** `[3, 5, 7]`. */
export function fmt(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** True if two shapes are equal. */
export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Throws ShapeError unless `t` has exactly `shape`. */
export function expectShape(t: Tensor<DType>, shape: Shape, what: string): void {
  if (!sameShape(t.shape, shape)) throw new ShapeError(`${what} must have shape ${fmt(shape)}, got ${fmt(t.shape)}`);
}

/** True if the memory of two tensors overlaps. */
export function overlaps(x: Tensor<DType>, y: Tensor<DType>): boolean {
  return x.size > 0 && y.size > 0 && x.offset < y.offset + y.byteLength && y.offset < x.offset + x.byteLength;
}

/** Throws unless forward() ran: backward needs what forward kept. */
export function requireForward<T>(kept: T | null, layer: string): T {
  if (kept === null) throw new MnemoError(`${layer}.backward() needs a preceding forward()`);
  return kept;
}

/** Throws ShapeError unless `v` is an integer in [min, max]. */
export function expectInt(v: number, what: string, min = 0, max = 2 ** 31 - 1): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ShapeError(`${what} must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}
