// Linear: y = x·Wᵀ + b, as torch.nn.Linear. weight (out, in), bias (out).

import { ShapeError } from '../errors.js';
import { Random } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import { expectInt, expectShape, fmt, overlaps, requireForward } from './checks.js';
import { fillUniform, nextDefaultSeed } from './init.js';
import { Module, type Parameter } from './module.js';

/** Options of Linear (PyTorch's in_features, out_features, bias). */
export interface LinearOptions {
  inFeatures: number;
  outFeatures: number;
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** Seed of the initialisation (default: the next seed of a fixed sequence). */
  seed?: number;
  /**
   * Weight tying: use this existing (outFeatures, inFeatures) Parameter as the weight
   * (e.g. an Embedding's). It is not registered as this layer's parameter (its owner
   * lists and frees it); backward adds into its grad, so both uses accumulate.
   */
  weight?: Parameter;
}

/**
 * y (..., out) = x (..., in) · weightᵀ + bias. Initialised as PyTorch:
 * weight and bias ~ U(±1/√inFeatures), drawn in that order from Random(seed).
 *
 * forward() returns a buffer owned by the layer (valid until its next forward)
 * and keeps a reference to x for backward: x must stay unchanged until then.
 */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** (outFeatures, inFeatures). */
  readonly weight: Parameter;
  /** (outFeatures), or null when built with bias: false. */
  readonly bias: Parameter | null;
  private input: Tensor | null = null;

  constructor(runtime: Runtime, options: LinearOptions) {
    super(runtime);
    const inF = expectInt(options.inFeatures, 'Linear: inFeatures');
    const outF = expectInt(options.outFeatures, 'Linear: outFeatures');
    this.inFeatures = inF;
    this.outFeatures = outF;
    const rng = new Random(options.seed ?? nextDefaultSeed());
    const bound = inF > 0 ? 1 / Math.sqrt(inF) : 0;
    if (options.weight) {
      const w = options.weight.value.shape;
      if (w.length !== 2 || w[0] !== outF || w[1] !== inF) {
        throw new ShapeError(`Linear: a shared weight must have shape [${outF}, ${inF}], got ${fmt(w)}`);
      }
      this.weight = options.weight;
    } else {
      this.weight = this.addParameter('weight', [outF, inF], (v) => fillUniform(rng, v, bound));
    }
    this.bias = options.bias === false ? null : this.addParameter('bias', [outF], (v) => fillUniform(rng, v, bound));
  }

  /** y (..., out) = x (..., in)·weightᵀ + bias. */
  forward(x: Tensor): Tensor {
    const rt = this.runtime, k = rt.kernels;
    rt.check(x, 'Linear input');
    this.input = null;
    const inF = this.inFeatures, outF = this.outFeatures;
    if (x.shape.length < 1 || x.shape[x.shape.length - 1] !== inF) {
      throw new ShapeError(`Linear: input must have shape [..., ${inF}] (inFeatures = ${inF}), got ${fmt(x.shape)}`);
    }
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    const y = this.buffer('output', [...lead, outF]);
    if (overlaps(x, y)) throw new ShapeError('Linear: the input must not be this layer\'s own output buffer');
    k.gemm_nt(rows, outF, inF, 1, x.offset, inF, this.weight.value.offset, inF, 0, y.offset, outF, rt.gemmWork);
    if (this.bias) k.bias_add_rows(y.offset, outF, this.bias.value.offset, rows, outF);
    this.input = x;
    return y;
  }

  /**
   * Given dL/dy (..., out), accumulates weight.grad += gradOutᵀ·x and
   * bias.grad += Σ_rows gradOut, and returns dL/dx (..., in) (a layer buffer).
   */
  backward(gradOut: Tensor): Tensor {
    const rt = this.runtime, k = rt.kernels;
    const x = requireForward(this.input, 'Linear');
    rt.check(x, 'Linear input kept from forward()');
    rt.check(gradOut, 'Linear gradOut');
    const inF = this.inFeatures, outF = this.outFeatures;
    const lead = x.shape.slice(0, -1);
    const rows = lead.reduce((a, b) => a * b, 1);
    expectShape(gradOut, [...lead, outF], 'Linear: gradOut');
    const dx = this.buffer('gradInput', x.shape);
    if (overlaps(gradOut, dx)) throw new ShapeError('Linear: gradOut must not be this layer\'s own gradient buffer');
    const g = gradOut.offset;
    // dx (rows, in) = gradOut (rows, out) · W (out, in)
    k.gemm_nn(rows, inF, outF, 1, g, outF, this.weight.value.offset, inF, 0, dx.offset, inF, rt.gemmWork);
    // dW (out, in) += gradOutᵀ (out, rows) · x (rows, in)
    k.gemm_tn(outF, inF, rows, 1, g, outF, x.offset, inF, 1, this.weight.grad.offset, inF, rt.gemmWork);
    if (this.bias) k.bias_grad_rows(g, outF, this.bias.grad.offset, rows, outF);
    return dx;
  }
}
