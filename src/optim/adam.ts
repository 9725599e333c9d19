// torch.optim.Adam and torch.optim.AdamW (no amsgrad, no maximize). One
// adam_update kernel call per parameter; exp_avg and exp_avg_sq are allocated
// (zeros) on the first step. The step count feeds the bias corrections, which
// the kernel forms in f64 exactly as PyTorch's Python code does.

import type { Parameter } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { checkKnownOptions, checkNumber, Optimizer, OptimizerOptionError } from './optimizer.js';

/** Options of Adam and AdamW, PyTorch's names in camelCase. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the running averages of the gradient and its square, each in [0, 1) (default [0.9, 0.999]). */
  betas?: readonly [number, number];
  /** Added to the denominator (default 1e-8). */
  eps?: number;
  /** Adam: L2 penalty added to the gradient (default 0). AdamW: decoupled decay, p ← p·(1 − lr·weightDecay) (default 1e-2). */
  weightDecay?: number;
}

type Hyper = { lr: number; betas: readonly [number, number]; eps: number; weightDecay: number };

const KNOWN = ['lr', 'betas', 'eps', 'weightDecay'] as const;

function checkAdamOptions(name: string, options: AdamOptions, defaultWeightDecay: number): Hyper {
  checkKnownOptions(name, options, KNOWN);
  const lr = checkNumber(name, 'lr', options.lr ?? 1e-3, 0);
  const betas = options.betas ?? [0.9, 0.999];
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new OptimizerOptionError(`${name}: betas must be a pair [beta1, beta2], got ${String(betas)}`);
  }
  const b1 = checkNumber(name, 'betas[0]', betas[0], 0, 1);
  const b2 = checkNumber(name, 'betas[1]', betas[1], 0, 1);
  const eps = checkNumber(name, 'eps', options.eps ?? 1e-8, 0);
  const weightDecay = checkNumber(name, 'weightDecay', options.weightDecay ?? defaultWeightDecay, 0);
  return { lr, betas: [b1, b2], eps, weightDecay };
}

/**
 * Adam, exactly torch.optim.Adam's single-tensor update (weight decay added to
 * the gradient; see assembly/optim.ts for the operation order).
 */
export class Adam extends Optimizer {
  private hp: Omit<Hyper, 'lr'>;
  private readonly decoupled: boolean;
  private readonly expAvg: (Tensor | null)[];
  private readonly expAvgSq: (Tensor | null)[];

  constructor(params: readonly Parameter[], options: AdamOptions = {}) {
    const decoupled = new.target === AdamW || new.target.prototype instanceof AdamW;
    const name = decoupled ? 'AdamW' : 'Adam';
    const { lr, ...hp } = checkAdamOptions(name, options, decoupled ? 1e-2 : 0);
    super(params, lr, name);
    this.decoupled = decoupled;
    this.hp = hp;
    this.expAvg = this.params.map(() => null);
    this.expAvgSq = this.params.map(() => null);
  }

  /** [beta1, beta2]. */
  get betas(): readonly [number, number] { return this.hp.betas; }
  /** Added to the denominator. */
  get eps(): number { return this.hp.eps; }
  /** Weight decay: L2 in the gradient (Adam) or decoupled (AdamW). */
  get weightDecay(): number { return this.hp.weightDecay; }

  step(): void {
    this.checkLive();
    for (const [i, p] of this.params.entries()) {
      if (!this.expAvg[i]) this.expAvg[i] = this.allocState(p.value.shape);
      if (!this.expAvgSq[i]) this.expAvgSq[i] = this.allocState(p.value.shape);
    }
    const step = this.steps + 1;
    const k = this.runtime.kernels;
    const decoupled = this.decoupled ? 1 : 0;
    const [beta1, beta2] = this.hp.betas;
    const bc1 = 1 - beta1 ** step, bc2 = 1 - beta2 ** step; // bias corrections, in f64 as PyTorch's Python floats
    for (const [i, p] of this.params.entries()) {
      k.adam_update(p.value.offset, p.grad.offset, this.expAvg[i]!.offset, this.expAvgSq[i]!.offset, p.value.size,
        this.lr, beta1, beta2, this.hp.eps, this.hp.weightDecay, decoupled, bc1, bc2);
    }
    this.steps = step;
  }

  protected options(): Record<string, number | readonly number[]> {
    return { lr: this.lr, betas: [...this.hp.betas], eps: this.hp.eps, weightDecay: this.hp.weightDecay };
  }

  protected checkOptions(options: Record<string, unknown>): () => void {
    const { lr, ...hp } = checkAdamOptions(this.typeName, { ...this.options(), ...options } as AdamOptions, 0);
    return () => {
      this.lr = lr;
      this.hp = hp;
    };
  }

  protected stateNames(): readonly string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }

  protected stateOf(i: number): Record<string, Tensor | null> {
    return { exp_avg: this.expAvg[i] ?? null, exp_avg_sq: this.expAvgSq[i] ?? null };
  }

  protected setState(i: number, name: string, t: Tensor | null): void {
    const list = name === 'exp_avg' ? this.expAvg : this.expAvgSq;
    list[i]?.dispose();
    list[i] = t;
  }

  protected checkStateEntry(i: number, entry: Record<string, Float32Array>, step: number): void {
    const has = ('exp_avg' in entry ? 1 : 0) + ('exp_avg_sq' in entry ? 1 : 0);
    if (has === 1 || (has === 0 && step > 0)) {
      throw new OptimizerOptionError(`${this.typeName}.loadStateDict: state[${i}] needs both exp_avg and exp_avg_sq${step > 0 ? ` at step ${step}` : ''}`);
    }
  }
}

/**
 * AdamW: Adam with decoupled weight decay, exactly torch.optim.AdamW's
 * single-tensor update (p ← p·(1 − lr·weightDecay) before the Adam step).
 * weightDecay defaults to 1e-2, as in PyTorch.
 */
export class AdamW extends Adam {
  constructor(params: readonly Parameter[], options: AdamOptions = {}) {
    super(params, options);
  }
}
