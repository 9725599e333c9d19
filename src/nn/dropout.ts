// Dropout, as torch.nn.Dropout: in training, zero each element with
// probability p and scale the rest by 1/(1 − p); identity in eval mode.

import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Shape, Tensor } from '../tensor.js';
import { expectShape, requireForward } from './checks.js';
import { nextDefaultSeed } from './init.js';
import { Module } from './module.js';

/** Options of Dropout. */
export interface DropoutOptions {
  /** Probability of zeroing an element, 0 ≤ p ≤ 1 (default 0.5). */
  p?: number;
  /** Seed of the masks (default: the next seed of a fixed sequence). */
  seed?: number;
}

/**
 * y = x·mask, mask[i] = keep ? 1/(1 − p) : 0. The mask of a forward pass is a
 * pure function of (seed, counter, i) (see assembly/dropout.ts); each training
 * forward uses `counter` and then increments it, so setting `counter` back
 * replays a mask, and saving it with a checkpoint resumes the same masks.
 *
 * In eval mode or with p = 0, forward returns x itself and backward returns
 * gradOut itself. Otherwise both return buffers owned by the layer.
 */
export class Dropout extends Module {
  readonly p: number;
  readonly seed: number;
  /** The counter the next training forward uses (a u32). */
  counter = 0;
  private shape: Shape | null = null;
  private identity = true;
  private mask: Tensor | null = null;

  constructor(runtime: Runtime, options: DropoutOptions = {}) {
    super(runtime);
    const p = options.p ?? 0.5;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
      throw new ShapeError(`Dropout: p must be a probability between 0 and 1, got ${p}`);
    }
    this.p = p;
    this.seed = (options.seed ?? nextDefaultSeed()) >>> 0;
  }

  /** y = x·mask in training (a layer buffer); x itself in eval mode or when p = 0. */
  forward(x: Tensor): Tensor {
    const rt = this.runtime;
    rt.check(x, 'Dropout input');
    this.shape = null;
    if (!this.training || this.p === 0) {
      this.identity = true;
      this.shape = x.shape;
      return x;
    }
    const y = this.buffer('output', x.shape);
    const mask = this.buffer('mask', x.shape);
    rt.kernels.dropout_forward(x.offset, y.offset, mask.offset, x.size, this.p, this.seed, this.counter);
    this.counter = (this.counter + 1) >>> 0;
    this.identity = false;
    this.mask = mask;
    this.shape = x.shape;
    return y;
  }

  /** dx = gradOut·mask (a layer buffer); gradOut itself if the forward was the identity. */
  backward(gradOut: Tensor): Tensor {
    const rt = this.runtime;
    const shape = requireForward(this.shape, 'Dropout');
    rt.check(gradOut, 'Dropout gradOut');
    expectShape(gradOut, shape, 'Dropout: gradOut');
    if (this.identity) return gradOut;
    const dx = this.buffer('gradInput', shape);
    rt.kernels.dropout_backward(gradOut.offset, dx.offset, this.mask!.offset, gradOut.size);
    return dx;
  }
}
