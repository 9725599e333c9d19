// Cross-entropy over logits, as torch.nn.CrossEntropyLoss (class-index
// targets, ignore_index, reduction 'mean' or 'sum'), and log-softmax.

import { ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectShape, fmt, overlaps, requireForward } from './checks.js';
import { Module } from './module.js';

/** Options of CrossEntropyLoss. */
export interface CrossEntropyLossOptions {
  /** Targets equal to this contribute nothing and get zero gradient (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** 'mean' (default): the sum divided by the number of non-ignored targets; 'sum': the sum. */
  reduction?: 'mean' | 'sum';
}

/**
 * loss = reduce over rows n with targets[n] ≠ ignoreIndex of −log softmax(logits[n])[targets[n]].
 * With 'mean' and every target ignored the loss is NaN, as in PyTorch.
 *
 * The softmax is fused with the loss: forward keeps per-row (max, log-sum-exp)
 * and a reference to the logits, which must stay unchanged until backward.
 */
export class CrossEntropyLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: 'mean' | 'sum';
  private logits: Tensor | null = null;
  private count = 0;

  constructor(runtime: Runtime, options: CrossEntropyLossOptions = {}) {
    super(runtime);
    const ignoreIndex = options.ignoreIndex ?? -100;
    if (!Number.isInteger(ignoreIndex) || ignoreIndex < -(2 ** 31) || ignoreIndex >= 2 ** 31) {
      throw new ShapeError(`CrossEntropyLoss: ignoreIndex must be a 32-bit integer, got ${ignoreIndex}`);
    }
    const reduction = options.reduction ?? 'mean';
    if (reduction !== 'mean' && reduction !== 'sum') {
      throw new ShapeError(`CrossEntropyLoss: reduction must be 'mean' or 'sum', got ${String(reduction)}`);
    }
    this.ignoreIndex = ignoreIndex;
    this.reduction = reduction;
  }

  /** logits (N, V) float32, targets (N) int32 with 0 ≤ t < V or t = ignoreIndex → the loss. */
  forward(logits: Tensor, targets: Tensor<'int32'>): number {
    const rt = this.runtime;
    rt.check(logits, 'CrossEntropyLoss logits');
    rt.check(targets, 'CrossEntropyLoss targets', 'int32');
    this.logits = null;
    if (logits.shape.length !== 2) {
      throw new ShapeError(`CrossEntropyLoss: logits must be 2-D (N, V), got ${fmt(logits.shape)}`);
    }
    const [n, v] = logits.shape as [number, number];
    if (targets.shape.length !== 1 || targets.shape[0] !== n) {
      throw new ShapeError(`CrossEntropyLoss: targets must have shape [${n}] for logits ${fmt(logits.shape)}, got ${fmt(targets.shape)}`);
    }
    const saved = this.buffer('targets', [n], 'int32');
    const stats = this.buffer('rowStats', [n, 4]);
    const src = targets.data, ignore = this.ignoreIndex;
    let count = 0;
    for (let i = 0; i < n; i++) {
      const t = src[i]!;
      if (t === ignore) continue;
      if (t < 0 || t >= v) {
        throw new ShapeError(`CrossEntropyLoss: target ${t} at index ${i} is out of range [0, ${v}) (V = ${v}, ignoreIndex = ${ignore})`);
      }
      count++;
    }
    saved.data.set(src);
    const sum = rt.kernels.softmax_xent_forward(logits.offset, saved.offset, n, v, ignore, stats.offset);
    this.logits = logits;
    this.count = count;
    return this.reduction === 'mean' ? sum / count : sum;
  }

  /**
   * −ln p(target) of each row under the last forward() (NaN for an ignored
   * row), into `out` (length N) or a new array: the terms of the summed loss.
   */
  rowLosses(out?: Float64Array): Float64Array {
    const rt = this.runtime;
    const logits = requireForward(this.logits, 'CrossEntropyLoss');
    const n = logits.shape[0]!;
    if (out !== undefined && out.length !== n) throw new ShapeError(`CrossEntropyLoss.rowLosses: out must have length ${n}, got ${out.length}`);
    const res = out ?? new Float64Array(n);
    const targets = this.buffer('targets', [n], 'int32').data;
    const stats = new Float64Array(rt.memory.buffer, this.buffer('rowStats', [n, 4]).offset, 2 * n); // per row: f32 max, f32 log-sum, f64 loss
    for (let i = 0; i < n; i++) res[i] = targets[i] === this.ignoreIndex ? NaN : stats[2 * i + 1]!;
    return res;
  }

  /**
   * dL/dlogits (N, V) = gradLoss·(softmax − onehot)/divisor (divisor: the count of
   * non-ignored targets for 'mean', 1 for 'sum'); ignored rows are zero. Written
   * to a layer buffer, or over the logits themselves with `inPlace` (saves a
   * (N, V) buffer when the logits are not needed again).
   */
  backward(gradLoss = 1, options: { inPlace?: boolean } = {}): Tensor {
    const rt = this.runtime;
    const logits = requireForward(this.logits, 'CrossEntropyLoss');
    rt.check(logits, 'CrossEntropyLoss logits kept from forward()');
    const [n, v] = logits.shape as [number, number];
    const divisor = this.reduction === 'mean' ? this.count : 1;
    const scale = divisor > 0 ? gradLoss / divisor : 0;
    const out = options.inPlace ? logits : this.buffer('gradInput', [n, v]);
    rt.kernels.softmax_xent_backward(logits.offset, this.buffer('targets', [n], 'int32').offset, n, v,
      this.ignoreIndex, this.buffer('rowStats', [n, 4]).offset, scale, out.offset);
    if (options.inPlace) this.logits = null; // the logits are gone: a second backward would be wrong
    return out;
  }
}

/** log softmax over the last dimension of x (N, V), into `out` (same shape, may be x) or a new tensor. */
export function logSoftmax(x: Tensor, out?: Tensor): Tensor {
  const rt = x.runtime;
  rt.check(x, 'logSoftmax input');
  if (x.shape.length !== 2) throw new ShapeError(`logSoftmax: input must be 2-D (N, V), got ${fmt(x.shape)}`);
  const [n, v] = x.shape as [number, number];
  if (out !== undefined) {
    rt.check(out, 'logSoftmax out');
    expectShape(out, x.shape, 'logSoftmax: out');
    if (out.offset !== x.offset && overlaps(out, x)) throw new ShapeError('logSoftmax: out must be x itself or not overlap it');
  }
  const y = out ?? rt.tensor(x.shape);
  rt.kernels.log_softmax_rows(x.offset, n, v, y.offset);
  return y;
}
