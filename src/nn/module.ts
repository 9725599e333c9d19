// Module and Parameter: the PyTorch vocabulary (parameters(), zeroGrad(),
// train()/eval()) over tensors in a Runtime's memory. A module owns its
// parameters, their gradients, and the buffers its forward pass keeps for the
// backward pass; buffers are reused while shapes stay the same, so a training
// loop allocates nothing after its first step.

import { initSkipped } from './init.js';
import { DisposedError, ShapeError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import type { DType, Shape, Tensor } from '../tensor.js';

/**
 * A trainable tensor and its gradient (same shape, accumulated by backward).
 * The gradient is allocated on first use (a backward pass, or an optimizer
 * built over the parameter), so a model that only predicts holds its weights
 * once, not twice.
 */
export class Parameter {
  private g: Tensor | undefined;

  constructor(readonly value: Tensor) {}

  /** Gradient, zeroed by zeroGrad(), accumulated by backward(); zeros when first read. */
  get grad(): Tensor {
    if (this.g === undefined) {
      if (!this.value.isLive) throw new DisposedError(`the gradient of a disposed parameter [${this.value.shape.join(', ')}] was used`);
      this.g = this.value.runtime.zeros(this.value.shape);
    }
    return this.g;
  }

  /** True once the gradient has been allocated (see grad). */
  get hasGrad(): boolean {
    return this.g !== undefined;
  }

  /** Frees the value and the gradient. */
  dispose(): void {
    this.value.dispose();
    this.g?.dispose();
    this.g = undefined;
  }
}

/** Base of every layer. */
export abstract class Module {
  /** True in training mode (dropout active); see train() / eval(). */
  training = true;
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();
  private readonly buffers = new Map<string, Tensor<DType>>();

  constructor(readonly runtime: Runtime) {}

  /** Creates and registers a parameter (zeros unless `init` fills it) under `name`. */
  protected addParameter(name: string, shape: Shape, init?: (values: Float32Array) => void): Parameter {
    if (this.ownParameters.has(name)) throw new ShapeError(`parameter ${name} is already registered`);
    const p = new Parameter(this.runtime.zeros(shape));
    if (init && !initSkipped()) init(p.value.data);
    this.ownParameters.set(name, p);
    return p;
  }

  /** Registers a child module whose parameters are named `name.<param>`. */
  protected addModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /**
   * A float32 (or int32) buffer kept between forward and backward, reused while
   * its shape is unchanged; its contents are not cleared.
   */
  protected buffer(name: string, shape: Shape): Tensor;
  protected buffer(name: string, shape: Shape, dtype: 'int32'): Tensor<'int32'>;
  protected buffer(name: string, shape: Shape, dtype: DType = 'float32'): Tensor<DType> {
    const old = this.buffers.get(name);
    if (old && old.isLive && old.dtype === dtype && old.shape.length === shape.length
      && old.shape.every((d, i) => d === shape[i])) return old;
    old?.dispose();
    const t = dtype === 'int32' ? this.runtime.intTensor(shape) : this.runtime.zeros(shape);
    this.buffers.set(name, t);
    return t;
  }

  /** Parameters with PyTorch state-dict names (`weight_ih_l0`, `decoder.bias`, …), in registration order. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [name, p] of this.ownParameters) out.push([prefix + name, p]);
    for (const [name, m] of this.children) out.push(...m.namedParameters(`${prefix}${name}.`));
    return out;
  }

  /** All parameters, this module's and its children's. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Sets every gradient to zero. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad.data.fill(0);
  }

  /** Training mode (true) or evaluation mode (false), for this module and its children. */
  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  /** Evaluation mode: dropout off. */
  eval(): this {
    return this.train(false);
  }

  /** Frees parameters, gradients and buffers of this module and its children. */
  dispose(): void {
    for (const m of this.children.values()) m.dispose();
    for (const p of this.ownParameters.values()) p.dispose();
    for (const b of this.buffers.values()) b.dispose();
    this.ownParameters.clear();
    this.buffers.clear();
  }
}
