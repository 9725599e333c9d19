// What the Trainer uses to catch NaNs and infinities at the step where they
// appear, cheaply: one pass over the gradients (the global norm, which
// clipping computes anyway) and one over the weights after the update; only
// when a sum is not finite is each tensor looked at, to name it. And the copy
// of the weights and optimizer state that lets onNonFinite: 'skip' take back
// an update that made a weight non-finite.

import type { NonFiniteError } from '../errors.js';
import type { Parameter } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor.js';

/** Where a step met a non-finite value (see NonFiniteError). */
export interface Fault { phase: NonFiniteError['phase']; tensor: string; detail: string }

/** Σ x² over the tensors, in f64 (NaN or ∞ when one of them holds a non-finite value). */
export function sumSquaresOf(tensors: Tensor[]): number {
  let s = 0;
  for (const t of tensors) s += t.runtime.kernels.sum_squares(t.offset, t.size);
  return s;
}

/** Names of the parameters whose value (or grad) holds a NaN or an infinity, in the given order. */
export function nonFiniteNames(named: [string, Parameter][], which: 'value' | 'grad'): string[] {
  return named.filter(([, q]) => !Number.isFinite(sumSquaresOf([q[which]]))).map(([n]) => n);
}

/** 'a', 'a and b', 'a, b and 3 more'. */
export function list(names: string[]): string {
  if (names.length <= 1) return names[0] ?? '(none found)';
  if (names.length === 2) return `${names[0]} and ${names[1]}`;
  return `${names[0]}, ${names[1]} and ${names.length - 2} more`;
}

/**
 * A copy of the weights and of the optimizer's state (and step count) before a
 * step, in JS arrays allocated once: restore() takes back an update that made a
 * weight non-finite. Costs one copy of weights and state per step.
 */
export class StepBackup {
  private readonly weights: Float32Array[];
  private readonly state: Record<string, Float32Array>[];
  private names: string[][] = [];
  private step = 0;

  constructor(private readonly optimizer: Optimizer) {
    this.weights = optimizer.params.map((q) => new Float32Array(q.value.size));
    this.state = optimizer.params.map(() => ({}));
  }

  save(): void {
    const o = this.optimizer;
    this.names = o.params.map((q, i) => {
      this.weights[i]!.set(q.value.data);
      const names: string[] = [];
      for (const [name, t] of Object.entries(o.stateTensors(i))) {
        if (!t) continue;
        (this.state[i]![name] ??= new Float32Array(t.size)).set(t.data);
        names.push(name);
      }
      return names;
    });
    this.step = o.stepCount;
  }

  restore(): void {
    const o = this.optimizer;
    o.params.forEach((q, i) => q.value.data.set(this.weights[i]!));
    o.loadStateDict({
      ...o.stateDict(), step: this.step,
      state: this.names.map((names, i) => Object.fromEntries(names.map((n) => [n, this.state[i]![n]!]))),
    });
  }
}
