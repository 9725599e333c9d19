// Learning-rate schedules. Like PyTorch's schedulers, a schedule sets the
// optimizer's lr for index 0 when it is created, and each step() moves to the
// next index (call it once per epoch, or once per optimizer step, as suits the
// schedule) and sets that index's lr. lrAt(t) is the closed form, for plotting
// or for resuming.

import { checkNumber, OptimizerOptionError } from './optimizer.js';

/** Anything with a mutable learning rate (SGD, Adam, AdamW). */
export interface HasLearningRate {
  lr: number;
}

/** What stateDict() of a schedule returns. */
export interface ScheduleStateDict {
  t: number;
  baseLr: number;
}

/** Base of the schedules: the counter, step() and the state dict. */
export abstract class Schedule {
  /** The optimizer's lr when the schedule was created; lrAt() scales it. */
  baseLr: number;
  /** Index (epoch or step) whose lr is set in the optimizer: 0 after construction, +1 per step(). */
  t = 0;

  constructor(readonly optimizer: HasLearningRate) {
    this.baseLr = optimizer.lr;
  }

  /** The learning rate at index t (an integer ≥ 0). */
  abstract lrAt(t: number): number;

  /** Advances to the next index, sets the optimizer's lr and returns it. */
  step(): number {
    this.t++;
    const lr = this.lrAt(this.t);
    this.optimizer.lr = lr;
    return lr;
  }

  /** The position and base lr, for a checkpoint. */
  stateDict(): ScheduleStateDict {
    return { t: this.t, baseLr: this.baseLr };
  }

  /** Restores stateDict()'s result and sets the optimizer's lr for that index. */
  loadStateDict(dict: ScheduleStateDict): void {
    const name = this.constructor.name;
    checkIndex(name, dict?.t);
    const baseLr = checkNumber(name, 'baseLr', dict.baseLr, 0);
    this.t = dict.t;
    this.baseLr = baseLr;
    this.optimizer.lr = this.lrAt(this.t);
  }

  /** Sets the optimizer's lr for index 0 (called by subclasses once their options are in place). */
  protected start(): void {
    this.optimizer.lr = this.lrAt(0);
  }
}

/** Options of StepDecay. */
export interface StepDecayOptions {
  /** Number of epochs trained at the base lr before the decay starts (an integer ≥ 0). */
  startEpoch: number;
  /** Multiplier applied once per epoch after that (e.g. 0.5, or 1 / 1.15 for Zaremba et al.'s large model); > 0. */
  factor: number;
}

/**
 * Zaremba et al. (2014): the base lr for the first `startEpoch` epochs, then
 * multiplied by `factor` each epoch: lrAt(e) = baseLr · factor^max(0, e + 1 − startEpoch),
 * e counting epochs from 0 (their `lr_decay ** max(i + 1 - max_epoch, 0)`).
 * Call step() at the end of each epoch.
 */
export class StepDecay extends Schedule {
  readonly startEpoch: number;
  readonly factor: number;

  constructor(optimizer: HasLearningRate, options: StepDecayOptions) {
    super(optimizer);
    if (!Number.isInteger(options?.startEpoch) || options.startEpoch < 0) {
      throw new OptimizerOptionError(`StepDecay: startEpoch must be an integer ≥ 0, got ${String(options?.startEpoch)}`);
    }
    if (!(typeof options.factor === 'number' && options.factor > 0 && Number.isFinite(options.factor))) {
      throw new OptimizerOptionError(`StepDecay: factor must be a finite number > 0, got ${String(options.factor)}`);
    }
    this.startEpoch = options.startEpoch;
    this.factor = options.factor;
    this.start();
  }

  lrAt(epoch: number): number {
    checkIndex('StepDecay', epoch);
    return this.baseLr * this.factor ** Math.max(0, epoch + 1 - this.startEpoch);
  }
}

/** Options of CosineAnnealing. */
export interface CosineAnnealingOptions {
  /** Length of the cosine (steps or epochs after the warmup), PyTorch's T_max; an integer ≥ 1. */
  tMax: number;
  /** The lr at the end of the cosine and after it (default 0), PyTorch's eta_min. */
  etaMin?: number;
  /** Steps of linear warmup before the cosine (default 0). */
  warmup?: number;
}

/**
 * Optional linear warmup, then half a cosine from the base lr down to etaMin:
 *   t < warmup:                 baseLr · (t + 1) / warmup
 *   k = t − warmup < tMax:      etaMin + (baseLr − etaMin) · (1 + cos(π·k / tMax)) / 2
 *   later:                      etaMin
 * Without warmup and for t ≤ tMax this is torch.optim.lr_scheduler.CosineAnnealingLR's
 * closed form; after tMax PyTorch's cosine rises again, this one stays at etaMin.
 */
export class CosineAnnealing extends Schedule {
  readonly tMax: number;
  readonly etaMin: number;
  readonly warmup: number;

  constructor(optimizer: HasLearningRate, options: CosineAnnealingOptions) {
    super(optimizer);
    if (!Number.isInteger(options?.tMax) || options.tMax < 1) {
      throw new OptimizerOptionError(`CosineAnnealing: tMax must be an integer ≥ 1, got ${String(options?.tMax)}`);
    }
    const warmup = options.warmup ?? 0;
    if (!Number.isInteger(warmup) || warmup < 0) {
      throw new OptimizerOptionError(`CosineAnnealing: warmup must be an integer ≥ 0, got ${String(warmup)}`);
    }
    this.tMax = options.tMax;
    this.etaMin = checkNumber('CosineAnnealing', 'etaMin', options.etaMin ?? 0, 0);
    this.warmup = warmup;
    this.start();
  }

  lrAt(t: number): number {
    checkIndex('CosineAnnealing', t);
    if (t < this.warmup) return this.baseLr * (t + 1) / this.warmup;
    const k = t - this.warmup;
    if (k >= this.tMax) return this.etaMin;
    return this.etaMin + (this.baseLr - this.etaMin) * (1 + Math.cos(Math.PI * k / this.tMax)) / 2;
  }
}

function checkIndex(owner: string, t: unknown): void {
  if (!Number.isInteger(t) || (t as number) < 0) {
    throw new OptimizerOptionError(`${owner}: the epoch or step index must be an integer ≥ 0, got ${String(t)}`);
  }
}
