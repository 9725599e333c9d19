// torch.optim.SGD: momentum, dampening, Nesterov, L2 weight decay. One
// sgd_update kernel call per parameter; the momentum buffer is allocated on
// the first step and, as in PyTorch, starts as a copy of the gradient.

import type { Parameter } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { checkKnownOptions, checkNumber, Optimizer, OptimizerOptionError } from './optimizer.js';

/** Options of SGD, PyTorch's names in camelCase. */
export interface SGDOptions {
  /** Learning rate (required, as in PyTorch 1.13). */
  lr: number;
  /** Momentum factor (default 0: plain SGD, no buffer). */
  momentum?: number;
  /** Dampening of the gradient in the momentum update (default 0). */
  dampening?: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay?: number;
  /** Nesterov momentum (default false); needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
}

const KNOWN = ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov'] as const;

function checkSgdOptions(options: SGDOptions): Required<SGDOptions> {
  checkKnownOptions('SGD', options, KNOWN);
  if (options.lr === undefined) throw new OptimizerOptionError('SGD: lr is required (there is no default, as in PyTorch)');
  const lr = checkNumber('SGD', 'lr', options.lr, 0);
  const momentum = checkNumber('SGD', 'momentum', options.momentum ?? 0, 0);
  const dampening = checkNumber('SGD', 'dampening', options.dampening ?? 0, -Infinity);
  const weightDecay = checkNumber('SGD', 'weightDecay', options.weightDecay ?? 0, 0);
  const nesterov = options.nesterov ?? false;
  if (typeof nesterov !== 'boolean') throw new OptimizerOptionError(`SGD: nesterov must be true or false, got ${String(nesterov)}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new OptimizerOptionError(`SGD: Nesterov momentum requires a momentum > 0 and zero dampening (got momentum ${momentum}, dampening ${dampening})`);
  }
  return { lr, momentum, dampening, weightDecay, nesterov };
}

/** Stochastic gradient descent, exactly torch.optim.SGD's update (see assembly/optim.ts). */
export class SGD extends Optimizer {
  private hp: Omit<Required<SGDOptions>, 'lr'>;
  private readonly buffers: (Tensor | null)[];

  constructor(params: readonly Parameter[], options: SGDOptions) {
    const { lr, ...hp } = checkSgdOptions(options);
    super(params, lr, 'SGD');
    this.hp = hp;
    this.buffers = this.params.map(() => null);
  }

  /** Momentum factor. */
  get momentum(): number { return this.hp.momentum; }
  /** Dampening of the gradient in the momentum update. */
  get dampening(): number { return this.hp.dampening; }
  /** L2 penalty added to the gradient. */
  get weightDecay(): number { return this.hp.weightDecay; }
  /** Nesterov momentum. */
  get nesterov(): boolean { return this.hp.nesterov; }

  step(): void {
    this.checkLive();
    const useMomentum = this.momentum !== 0;
    const first = this.buffers.map((b) => useMomentum && b === null);
    for (const [i, isFirst] of first.entries()) {
      if (isFirst) this.buffers[i] = this.allocState(this.params[i]!.value.shape);
    }
    const k = this.runtime.kernels;
    for (const [i, p] of this.params.entries()) {
      k.sgd_update(p.value.offset, p.grad.offset, useMomentum ? this.buffers[i]!.offset : 0, p.value.size,
        this.lr, this.momentum, this.dampening, this.weightDecay, this.nesterov ? 1 : 0, first[i] ? 1 : 0);
    }
    this.steps++;
  }

  protected options(): Record<string, number | boolean> {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }

  protected checkOptions(options: Record<string, unknown>): () => void {
    const { lr, ...hp } = checkSgdOptions({ ...this.options(), ...options } as unknown as SGDOptions);
    return () => {
      this.lr = lr;
      this.hp = hp;
    };
  }

  protected stateNames(): readonly string[] {
    return ['momentum_buffer'];
  }

  protected stateOf(i: number): Record<string, Tensor | null> {
    return { momentum_buffer: this.buffers[i] ?? null };
  }

  protected setState(i: number, _name: string, t: Tensor | null): void {
    this.buffers[i]?.dispose();
    this.buffers[i] = t;
  }

  protected checkStateEntry(): void {
    // Any entry is valid: without a buffer, the next step starts one from the gradient, as PyTorch does.
  }
}
