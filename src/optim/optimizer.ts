// What SGD, Adam and AdamW share: the parameter list, a mutable learning rate,
// zeroGrad, optimizer state allocated lazily in the runtime's memory, and the
// checks of options and state dicts. The update math is in assembly/optim.ts.

import { DisposedError, MnemoError, ShapeError } from '../errors.js';
import type { Parameter } from '../nn/module.js';
import type { Runtime } from '../runtime.js';
import { Tensor, shapeSize, type Shape } from '../tensor.js';

/** An option of an optimizer, a learning-rate schedule or clipGradNorm is invalid; the message names it. */
export class OptimizerOptionError extends MnemoError {}

/** The gradients' total norm is NaN or infinite (clipGradNorm); the gradients were left untouched. */
export class NonFiniteNormError extends MnemoError {
  constructor(message: string, readonly norm: number) {
    super(message);
  }
}

/**
 * An optimizer's state as plain data, for checkpoints. Buffers are copies.
 * `state[i]` belongs to the i-th parameter and uses PyTorch's names
 * (`momentum_buffer` for SGD, `exp_avg` and `exp_avg_sq` for Adam/AdamW); it is
 * empty until that state exists (before the first step, or SGD without momentum).
 */
export interface OptimizerStateDict {
  /** 'SGD', 'Adam' or 'AdamW'. */
  type: string;
  /** Number of step() calls so far (Adam's bias corrections use it). */
  step: number;
  /** The hyperparameters, lr included, with the option names of the constructor. */
  options: Record<string, number | boolean | readonly number[]>;
  /** Per-parameter buffers, in the order of `params`. */
  state: Record<string, Float32Array>[];
}

/** Base of SGD, Adam and AdamW. */
export abstract class Optimizer {
  /** The parameters updated by step(), in order; a parameter listed twice (tied weights) appears once. */
  readonly params: readonly Parameter[];
  /** The runtime all parameters live in. */
  readonly runtime: Runtime;
  /** Number of step() calls so far (set back by loadStateDict). */
  protected steps = 0;
  private currentLr: number;
  private disposed = false;

  constructor(params: readonly Parameter[], lr: number, protected readonly typeName: string) {
    if (!Array.isArray(params) || params.length === 0) {
      throw new OptimizerOptionError(`${typeName}: params must be a non-empty array of Parameters (e.g. model.parameters())`);
    }
    const unique = [...new Set(params)];
    for (const [i, p] of unique.entries()) {
      if (!p || !(p.value instanceof Tensor) || !(p.grad instanceof Tensor)) {
        throw new OptimizerOptionError(`${typeName}: params[${i}] is not a Parameter (a {value, grad} pair)`);
      }
    }
    const runtime = unique[0]!.value.runtime;
    for (const [i, p] of unique.entries()) {
      if (p.value.runtime !== runtime) throw new MnemoError(`${typeName}: params[${i}] belongs to another runtime`);
      checkSameShape(p, `${typeName}: params[${i}]`);
    }
    this.params = unique;
    this.runtime = runtime;
    this.currentLr = checkNumber(typeName, 'lr', lr, 0);
  }

  /** Number of step() calls so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** The learning rate of the next step; schedules set it. Must be finite and ≥ 0. */
  get lr(): number {
    return this.currentLr;
  }

  set lr(value: number) {
    this.currentLr = checkNumber(this.typeName, 'lr', value, 0);
  }

  /** Applies one update to every parameter from its gradient. */
  abstract step(): void;

  /** Sets every parameter's gradient to zero. */
  zeroGrad(): void {
    for (const p of this.params) p.grad.data.fill(0);
  }

  /**
   * @internal The live state buffers of the i-th parameter (not copies; null
   * where not allocated yet): the Trainer copies them before a step so that it
   * can take back an update that made a weight non-finite.
   */
  stateTensors(i: number): Record<string, Tensor | null> {
    return this.stateOf(i);
  }

  /** The step count, hyperparameters and state buffers (copies), for a checkpoint. */
  stateDict(): OptimizerStateDict {
    this.checkLive();
    const state = this.params.map((_, i) => {
      const entry: Record<string, Float32Array> = {};
      for (const [name, t] of Object.entries(this.stateOf(i))) if (t) entry[name] = t.toArray();
      return entry;
    });
    return { type: this.typeName, step: this.steps, options: this.options(), state };
  }

  /**
   * Restores what stateDict() returned (from this optimizer or another one over
   * parameters of the same sizes): step count, hyperparameters (lr included, as
   * PyTorch does) and buffers. Checks everything before changing anything.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    this.checkLive();
    const t = this.typeName;
    if (dict === null || typeof dict !== 'object') throw new OptimizerOptionError(`${t}.loadStateDict: expected a state dict object`);
    if (dict.type !== t) throw new OptimizerOptionError(`${t}.loadStateDict: the state dict is for ${String(dict.type)}, not ${t}`);
    if (!Number.isInteger(dict.step) || dict.step < 0) {
      throw new OptimizerOptionError(`${t}.loadStateDict: step must be a non-negative integer, got ${String(dict.step)}`);
    }
    if (!Array.isArray(dict.state) || dict.state.length !== this.params.length) {
      throw new ShapeError(`${t}.loadStateDict: the state dict has state for ${dict.state?.length} parameters, this optimizer has ${this.params.length}`);
    }
    const apply = this.checkOptions(dict.options ?? {});
    const names = this.stateNames();
    for (const [i, entry] of dict.state.entries()) {
      if (entry === null || typeof entry !== 'object') throw new OptimizerOptionError(`${t}.loadStateDict: state[${i}] must be an object`);
      const size = this.params[i]!.value.size;
      for (const [name, data] of Object.entries(entry)) {
        if (!names.includes(name)) throw new OptimizerOptionError(`${t}.loadStateDict: state[${i}] has an unknown buffer '${name}' (expected ${names.join(', ')})`);
        if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
          throw new OptimizerOptionError(`${t}.loadStateDict: state[${i}].${name} must be a Float32Array`);
        }
        if (data.length !== size) {
          throw new ShapeError(`${t}.loadStateDict: state[${i}].${name} has ${data.length} values, the parameter has ${size}`);
        }
      }
      this.checkStateEntry(i, entry, dict.step);
    }
    apply();
    this.steps = dict.step;
    for (const [i, entry] of dict.state.entries()) {
      for (const name of names) {
        const data = entry[name];
        this.setState(i, name, data === undefined ? null : this.allocState(this.params[i]!.value.shape, data));
      }
    }
  }

  /** Frees the optimizer state; the optimizer cannot be used afterwards. Parameters are not freed. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let i = 0; i < this.params.length; i++) {
      for (const name of this.stateNames()) this.setState(i, name, null);
    }
  }

  /** The hyperparameters with the constructor's option names, lr included. */
  protected abstract options(): Record<string, number | boolean | readonly number[]>;
  /** Validates options from a state dict; returns a function that applies them. */
  protected abstract checkOptions(options: Record<string, unknown>): () => void;
  /** Names of the per-parameter buffers (PyTorch's). */
  protected abstract stateNames(): readonly string[];
  /** The i-th parameter's buffers (null where not allocated yet). */
  protected abstract stateOf(i: number): Record<string, Tensor | null>;
  /** Replaces (and frees the old) buffer `name` of the i-th parameter. */
  protected abstract setState(i: number, name: string, t: Tensor | null): void;
  /** Throws if a (size-checked) state entry cannot continue from `step`. */
  protected abstract checkStateEntry(i: number, entry: Record<string, Float32Array>, step: number): void;

  /** Throws unless the optimizer and every parameter are usable. */
  protected checkLive(): void {
    if (this.disposed) throw new DisposedError(`${this.typeName} was used after dispose()`);
    for (const [i, p] of this.params.entries()) {
      this.runtime.check(p.value, `${this.typeName}: params[${i}].value`);
      this.runtime.check(p.grad, `${this.typeName}: params[${i}].grad`);
    }
  }

  /**
   * A state buffer in the runtime's memory, zeros or a copy of `data`. It is
   * created outside any runtime.scope(), so a first step() taken inside a scope
   * does not free the optimizer's state when that scope ends.
   */
  protected allocState(shape: Shape, data?: ArrayLike<number>): Tensor {
    const t = new Tensor(this.runtime, this.runtime.arena.alloc(shapeSize(shape) * 4), shape);
    if (data) t.data.set(data);
    else t.data.fill(0);
    return t;
  }
}

/** Throws unless `value` is a finite number ≥ `min` (and < `below` if given); returns it. */
export function checkNumber(owner: string, name: string, value: unknown, min: number, below?: number): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (below === undefined || value < below);
  if (!ok) {
    const range = below === undefined ? `≥ ${min}` : `in [${min}, ${below})`;
    throw new OptimizerOptionError(`${owner}: ${name} must be a finite number ${range}, got ${String(value)}`);
  }
  return value as number;
}

/** Throws on option names the optimizer does not know (e.g. PyTorch's snake_case `weight_decay`). */
export function checkKnownOptions(owner: string, options: object, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new OptimizerOptionError(`${owner}: options must be an object`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = known.includes(camel) ? ` (did you mean ${camel}?)` : '';
      throw new OptimizerOptionError(`${owner}: unknown option '${key}'${hint}; known options: ${known.join(', ')}`);
    }
  }
}

function checkSameShape(p: Parameter, what: string): void {
  const a = p.value.shape, b = p.grad.shape;
  if (a.length !== b.length || a.some((d, i) => d !== b[i])) {
    throw new ShapeError(`${what}: value [${a.join(', ')}] and grad [${b.join(', ')}] differ in shape`);
  }
}
