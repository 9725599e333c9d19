// Trains a LanguageModel (RNNLanguageModel, WindowLanguageModel) with
// truncated BPTT (Zaremba et al. 2014):
// epochs over the training stream cut into B parallel streams and windows of
// T tokens, the hidden state carried from window to window (never
// backpropagated into), global-norm clipping, Adam / AdamW / SGD, a learning-
// rate schedule (Zaremba's step decay, decay on plateau, cosine), validation
// perplexity after each epoch, the best model kept, early stop.
//
// Repeatable: a seeded model (its initialisation and dropout masks) and a
// seeded batcher give the same weights bit for bit on the same build.
// Resumable: checkpoint() captures everything the next step depends on
// (weights, optimizer buffers, schedule, data position and RNG, dropout
// positions, the carried hidden state, running statistics); a Trainer built
// with `resume` continues exactly as if never stopped. Portable: the trainer
// produces checkpoint bytes (checkpoint(), and onCheckpoint at a cadence of
// windows or seconds), and the caller stores them (the CLI writes them atomically).
// Guarded: a NaN or an infinity in the loss, a gradient or a weight after the
// update is caught at its step and named (NonFiniteError; see nonfinite.ts),
// then training stops or the step is taken back and skipped (onNonFinite).

import { MnemoError, NonFiniteError } from '../errors.js';
import { writeSafetensors, readSafetensors, type SafetensorsTensorInput } from '../io/safetensors.js';
import { Adam, AdamW } from '../optim/adam.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer, OptimizerStateDict } from '../optim/optimizer.js';
import { CosineAnnealing, StepDecay, type Schedule } from '../optim/schedule.js';
import { SGD } from '../optim/sgd.js';
import { BpttBatcher, type BpttBatcherState } from './batching.js';
import { perplexity } from './evaluate.js';
import { list, nonFiniteNames, StepBackup, sumSquaresOf, type Fault } from './nonfinite.js';
import type { LanguageModel } from './language-model.js';
import type { LMState } from './model.js';

/** The learning-rate schedule: none, Zaremba's step decay, decay on plateau, or cosine. */
export type ScheduleOption =
  | { type: 'none' }
  | { type: 'step'; startEpoch: number; factor: number }
  | { type: 'plateau'; factor: number }
  | { type: 'cosine'; warmup?: number; minLr?: number };

/** Options of the Trainer. */
export interface TrainerOptions {
  /** Most epochs to train (early stop may end sooner). */
  epochs: number;
  /** B: parallel streams. */
  batchSize: number;
  /** T: window length (tokens per truncated-BPTT window). */
  seqLen: number;
  /** Random window lengths around seqLen (AWD-LSTM style). */
  jitter?: boolean;
  /** 'adam' (default), 'adamw' or 'sgd'. */
  optimizer?: 'adam' | 'adamw' | 'sgd';
  lr: number;
  weightDecay?: number;
  /** SGD momentum (default 0). */
  momentum?: number;
  /** Largest global gradient norm (default 5; 0 turns clipping off). */
  clip?: number;
  /** Default: none. Step decay and plateau act at epoch ends; cosine runs per step over all epochs. */
  schedule?: ScheduleOption;
  /** Stop after this many epochs without a better validation perplexity (default: never). */
  patience?: number;
  /** Seed of the data order (window jitter). The model has its own seed. */
  seed?: number;
  /** Batch size of validation (default 10; see perplexity()). */
  evalBatchSize?: number;
  /**
   * What to do when a step meets a NaN or an infinity (in the loss, a gradient,
   * or a weight after the update): 'stop' (default) throws NonFiniteError naming
   * the step and the tensor; 'skip' leaves the weights and the optimizer state
   * as they were before the step (an update is taken back), zeroes the carried
   * state, multiplies the lr by `skipLrFactor` and goes on. Weights that were
   * already non-finite before a step, and 10 skips in a row, throw in both modes.
   */
  onNonFinite?: 'stop' | 'skip';
  /** The lr factor of each skipped step (onNonFinite: 'skip'; default 0.5). */
  skipLrFactor?: number;
  /** Called for each skipped step, with the error 'stop' would have thrown. */
  onSkip?: (e: NonFiniteError) => void;
  /** Calls onCheckpoint(checkpoint()) after every this many windows (default: never). */
  checkpointEvery?: number;
  /** Calls onCheckpoint(checkpoint()) after the first window that ends this many seconds after the last one (default: never). */
  checkpointSeconds?: number;
  /** Receives checkpoint bytes at the cadence of checkpointEvery / checkpointSeconds; store them atomically. */
  onCheckpoint?: (bytes: Uint8Array) => void | Promise<void>;
  /** Called about every `progressMs` (default 500) during an epoch. */
  onProgress?: (p: TrainProgress) => void;
  progressMs?: number;
  /** Called after each epoch. */
  onEpoch?: (e: EpochReport) => void | Promise<void>;
  /** Checked after every window: true stops training there (checkpoint() then resumes exactly). */
  shouldStop?: () => boolean;
}

/** A progress report during an epoch. */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Windows done in this epoch, and in an epoch. */
  step: number;
  steps: number;
  /** Tokens trained on since this run (or resume) started, and their rate. */
  tokens: number;
  tokensPerSec: number;
  /** Mean training loss (nats per token) of this epoch so far, and its perplexity. */
  loss: number;
  ppl: number;
  lr: number;
  /** Estimated seconds to the end of training (all epochs, validation excluded). */
  etaSeconds: number;
}

/** The report of one epoch. */
export interface EpochReport {
  epoch: number;
  trainLoss: number;
  trainPpl: number;
  /** Validation perplexity and bits per token (when a validation stream is given). */
  validPpl?: number;
  validBitsPerToken?: number;
  /** True when this epoch's validation perplexity is the best so far (its weights are the best model). */
  improved: boolean;
  lr: number;
  seconds: number;
  /** Steps skipped because of a non-finite loss or gradient (onNonFinite: 'skip'). */
  skipped: number;
}

/** What train() returns. */
export interface TrainResult {
  epochs: EpochReport[];
  bestValidPpl?: number;
  bestEpoch?: number;
  stoppedEarly: boolean;
  /** True when shouldStop() ended the run before its last epoch. */
  interrupted: boolean;
  /** Loss of every step, in order (for a loss curve). */
  losses: number[];
}

/** The former name of NonFiniteError (a training step met a NaN or an infinity). */
export const NonFiniteLossError = NonFiniteError;
/** The former name of NonFiniteError. */
export type NonFiniteLossError = NonFiniteError;

/** Ten skipped steps in a row (onNonFinite: 'skip') stop training: the fault is not passing. */
const MAX_SKIPS_IN_A_ROW = 10;

const CHECKPOINT_FORMAT = 'mnemo-checkpoint/1';

interface Progress {
  epoch: number;
  batcher: BpttBatcherState;
  lossSum: number;
  lossCount: number;
  bestValidPpl: number | null;
  bestEpoch: number | null;
  sinceBest: number;
  reports: EpochReport[];
  losses: number[];
  skipped: number;
  /** Steps skipped in a row, up to now. */
  skipRun?: number;
  dropout: object;
  schedule: { t: number; baseLr: number } | null;
  lr: number;
  done: boolean;
}

/** Trains a language model; see the file comment. */
export class Trainer {
  readonly optimizer: Optimizer;
  private readonly schedule: Schedule | null;
  private readonly batcher: BpttBatcher;
  private state: LMState;
  private p: Progress;
  private best: Float32Array[] | null = null;
  /** Weights and optimizer state before the current step (onNonFinite: 'skip' only). */
  private readonly backup: StepBackup | null;

  /**
   * model: the model to train (its seed fixes initialisation and dropout).
   * data.train / data.valid: token streams; data.startToken: the eos id (the
   * context before the first token). resume: bytes from checkpoint().
   */
  constructor(readonly model: LanguageModel, readonly data: { train: Int32Array; valid?: Int32Array; startToken: number },
              readonly options: TrainerOptions, resume?: Uint8Array) {
    const o = options;
    for (const [k, v] of [['epochs', o.epochs], ['batchSize', o.batchSize], ['seqLen', o.seqLen]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new MnemoError(`Trainer: ${k} must be a positive integer, got ${v}`);
    }
    if (!(o.lr > 0)) throw new MnemoError(`Trainer: lr must be > 0, got ${o.lr}`);
    if (o.onNonFinite !== undefined && o.onNonFinite !== 'stop' && o.onNonFinite !== 'skip') {
      throw new MnemoError(`Trainer: onNonFinite must be 'stop' or 'skip', got ${JSON.stringify(o.onNonFinite)}`);
    }
    if (o.skipLrFactor !== undefined && !(o.skipLrFactor > 0 && o.skipLrFactor <= 1)) {
      throw new MnemoError(`Trainer: skipLrFactor must be in (0, 1], got ${o.skipLrFactor}`);
    }
    if (o.checkpointEvery !== undefined && !(Number.isInteger(o.checkpointEvery) && o.checkpointEvery >= 1)) {
      throw new MnemoError(`Trainer: checkpointEvery must be a positive integer (windows), got ${o.checkpointEvery}`);
    }
    if (o.checkpointSeconds !== undefined && !(o.checkpointSeconds > 0)) {
      throw new MnemoError(`Trainer: checkpointSeconds must be > 0, got ${o.checkpointSeconds}`);
    }
    if (data.train.length < o.batchSize * 2 + 1) {
      throw new MnemoError(`Trainer: the training stream (${data.train.length} tokens) is too short for batchSize ${o.batchSize}`);
    }
    const params = model.parameters();
    const kind = o.optimizer ?? 'adam';
    if (kind === 'sgd') this.optimizer = new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0, weightDecay: o.weightDecay ?? 0 });
    else if (kind === 'adamw') this.optimizer = new AdamW(params, { lr: o.lr, weightDecay: o.weightDecay ?? 0.01 });
    else if (kind === 'adam') this.optimizer = new Adam(params, { lr: o.lr, weightDecay: o.weightDecay ?? 0 });
    else throw new MnemoError(`Trainer: optimizer must be 'adam', 'adamw' or 'sgd', got ${JSON.stringify(kind)}`);
    this.batcher = new BpttBatcher(data.train, { batchSize: o.batchSize, seqLen: o.seqLen, jitter: o.jitter ?? false, seed: o.seed ?? 0 });
    const sched = o.schedule ?? { type: 'none' };
    if (sched.type === 'step') this.schedule = new StepDecay(this.optimizer, { startEpoch: sched.startEpoch, factor: sched.factor });
    else if (sched.type === 'cosine') {
      this.schedule = new CosineAnnealing(this.optimizer, {
        tMax: o.epochs * this.batcher.epochSize(), etaMin: sched.minLr ?? 0, warmup: sched.warmup ?? 0,
      });
    } else if (sched.type === 'plateau') {
      if (!(sched.factor > 0 && sched.factor < 1)) throw new MnemoError(`Trainer: plateau factor must be in (0, 1), got ${sched.factor}`);
      this.schedule = null;
    } else if (sched.type === 'none') this.schedule = null;
    else throw new MnemoError(`Trainer: unknown schedule ${JSON.stringify(sched)}`);
    // A construction that fails halfway (a bad checkpoint, OutOfMemoryError) frees what it allocated.
    const built = model.runtime.track();
    try {
      this.state = model.initState(o.batchSize);
      this.p = {
        epoch: 0, batcher: this.batcher.getState(), lossSum: 0, lossCount: 0, bestValidPpl: null, bestEpoch: null,
        sinceBest: 0, reports: [], losses: [], skipped: 0, dropout: model.getDropoutState(),
        schedule: this.schedule?.stateDict() ?? null, lr: this.optimizer.lr, done: false,
      };
      this.backup = o.onNonFinite === 'skip' ? new StepBackup(this.optimizer) : null;
      if (resume) this.restore(resume);
    } catch (e) {
      built.end(false);
      this.optimizer.dispose();
      throw e;
    }
    built.end(true);
  }

  /** The weights of the best epoch so far (by validation perplexity), or null. */
  get bestWeights(): readonly Float32Array[] | null {
    return this.best;
  }

  /** Runs the remaining epochs. Awaits between windows now and then, so progress can be drawn. */
  async train(): Promise<TrainResult> {
    const o = this.options, p = this.p, model = this.model, rt = model.runtime;
    const params = model.parameters();
    const steps = this.batcher.epochSize();
    const every = o.progressMs ?? 500;
    const started = now();
    let tokens = 0, lastReport = started, lastYield = started, interrupted = false;
    let sinceCheckpoint = 0, lastCheckpoint = started;
    const clip = o.clip ?? 5, skipFactor = o.skipLrFactor ?? 0.5;
    const ids = (t: number) => rt.intTensor([t, o.batchSize]);
    while (!p.done && p.epoch < o.epochs && !interrupted) {
      const epochStart = now();
      model.train();
      for (;;) {
        const w = this.batcher.next();
        if (!w) break;
        const input = ids(w.seqLen), targets = rt.intTensor([w.seqLen * o.batchSize]);
        input.data.set(w.inputs);
        targets.data.set(w.targets);
        this.optimizer.zeroGrad();
        const { loss, state } = model.lossAndBackward(input, targets, this.state);
        input.dispose(); targets.dispose();
        // The global gradient norm, one pass over the gradients (clipping needs it anyway): a
        // non-finite norm means a non-finite gradient, and only then is each one looked at.
        const norm = clip === 0 ? sumSquaresOf(params.map((q) => q.grad)) ** 0.5
          : clipGradNorm(params, clip, 2, { errorIfNonfinite: false });
        let fault = Number.isFinite(loss) && Number.isFinite(norm) ? null : this.diagnose(loss, norm);
        if (!fault) {
          this.backup?.save();
          this.optimizer.step();
          // One pass over the weights: the update itself can overflow (a huge lr, clipping off).
          if (!Number.isFinite(sumSquaresOf(params.map((q) => q.value)))) {
            const bad = nonFiniteNames(model.namedParameters(), 'value');
            this.backup?.restore();
            fault = { phase: 'update', tensor: bad[0] ?? 'weights', detail: `the optimizer update made weight ${list(bad)} non-finite` +
              (this.backup ? ' (the update was taken back)' : '; the weights are unusable now: resume from a checkpoint') };
          }
        }
        if (fault) {
          const skip = (o.onNonFinite ?? 'stop') === 'skip' && fault.phase !== 'weights';
          const run = (p.skipRun ?? 0) + 1;
          const error = new NonFiniteError(`training diverged at epoch ${p.epoch + 1}, window ${this.windowIndex()} of ${steps}: ${fault.detail}` +
            (fault.phase === 'weights' ? ' (set or loaded so: training never leaves non-finite weights)'
              : skip && run >= MAX_SKIPS_IN_A_ROW ? `; ${run} steps skipped in a row, so the fault is not passing: lower the learning rate`
                : skip ? '' : ' (lower the learning rate or the clip norm, or use onNonFinite: \'skip\')'),
          p.epoch + 1, this.windowIndex(), fault.tensor, fault.phase);
          if (!skip || run >= MAX_SKIPS_IN_A_ROW) throw error;
          // Skip: weights and optimizer state are as before the step; a fresh carried state, a lower lr.
          p.skipped++; p.skipRun = run;
          this.optimizer.lr *= skipFactor;
          if (this.schedule) this.schedule.baseLr *= skipFactor;
          this.state.h.data.fill(0); this.state.c?.data.fill(0);
          o.onSkip?.(error);
        } else {
          // Truncated BPTT: the final state starts the next window.
          this.state = model.detachState(state, this.state);
          p.skipRun = 0;
          p.lossSum += loss; p.lossCount++; p.losses.push(loss);
          tokens += w.seqLen * o.batchSize;
          if (this.schedule instanceof CosineAnnealing) this.schedule.step();
        }
        if (o.onCheckpoint && ((o.checkpointEvery !== undefined && ++sinceCheckpoint >= o.checkpointEvery)
          || (o.checkpointSeconds !== undefined && now() - lastCheckpoint >= o.checkpointSeconds * 1000))) {
          sinceCheckpoint = 0; lastCheckpoint = now();
          await o.onCheckpoint(this.checkpoint());
        }
        const t = now();
        if (o.onProgress && t - lastReport >= every) {
          lastReport = t;
          o.onProgress(this.progress(tokens, (t - started) / 1000, steps));
        }
        // Every 100 ms, a turn of the event loop (a macrotask: a resolved promise would not let it run), so a
        // signal handler (Ctrl-C, SIGTERM), a worker's 'stop' message or a timer can set what shouldStop reads.
        if (t - lastYield >= 100) { lastYield = t; await macrotask(); }
        if (o.shouldStop?.()) { interrupted = true; break; }
      }
      if (interrupted) break;
      // The epoch's last progress report, before endEpoch moves on to the next epoch.
      if (o.onProgress) o.onProgress(this.progress(tokens, (now() - started) / 1000, steps));
      const report = await this.endEpoch((now() - epochStart) / 1000);
      await o.onEpoch?.(report);
    }
    return {
      epochs: p.reports, stoppedEarly: p.done && p.epoch < o.epochs, interrupted, losses: p.losses,
      ...(p.bestValidPpl !== null ? { bestValidPpl: p.bestValidPpl, bestEpoch: p.bestEpoch! } : {}),
    };
  }

  /** Everything needed to continue exactly from here, as safetensors bytes. */
  checkpoint(): Uint8Array {
    const model = this.model;
    this.p.batcher = this.batcher.getState();
    this.p.dropout = model.getDropoutState();
    this.p.schedule = this.schedule?.stateDict() ?? null;
    this.p.lr = this.optimizer.lr;
    const tensors: [string, SafetensorsTensorInput][] = [];
    for (const [name, param] of model.namedParameters()) tensors.push([`model.${name}`, f32(param.value.toArray())]);
    const opt = this.optimizer.stateDict();
    opt.state.forEach((buffers, i) => {
      for (const [k, v] of Object.entries(buffers)) tensors.push([`optimizer.${i}.${k}`, f32(v)]);
    });
    tensors.push(['state.h', f32(this.state.h.toArray())]);
    if (this.state.c) tensors.push(['state.c', f32(this.state.c.toArray())]);
    this.best?.forEach((w, i) => tensors.push([`best.${i}`, f32(w)]));
    return writeSafetensors(tensors, {
      format: CHECKPOINT_FORMAT,
      config: JSON.stringify(model.config),
      optimizer: JSON.stringify({ type: opt.type, step: opt.step, options: opt.options, buffers: opt.state.map((s) => Object.keys(s)) }),
      progress: JSON.stringify(this.p),
      options: JSON.stringify({ batchSize: this.options.batchSize, seqLen: this.options.seqLen, optimizer: this.options.optimizer ?? 'adam' }),
    });
  }

  private restore(bytes: Uint8Array): void {
    const file = readSafetensors(bytes);
    const meta = file.metadata;
    if (meta.format !== CHECKPOINT_FORMAT) throw new MnemoError(`resume: not a mnemo checkpoint (format ${JSON.stringify(meta.format)})`);
    if (meta.config !== JSON.stringify(this.model.config)) {
      throw new MnemoError(`resume: the checkpoint's model config ${meta.config} differs from this model's ${JSON.stringify(this.model.config)}`);
    }
    const saved = JSON.parse(meta.options ?? '{}') as { batchSize?: number; seqLen?: number; optimizer?: string };
    if (saved.batchSize !== this.options.batchSize || saved.seqLen !== this.options.seqLen || saved.optimizer !== (this.options.optimizer ?? 'adam')) {
      throw new MnemoError(`resume: the checkpoint was made with ${meta.options}; resume with the same batchSize, seqLen and optimizer`);
    }
    const tensor = (name: string): Float32Array => {
      const t = file.tensors.get(name);
      if (!t || !(t.data instanceof Float32Array)) throw new MnemoError(`resume: the checkpoint lacks ${name}`);
      return t.data;
    };
    for (const [name, param] of this.model.namedParameters()) param.value.set(tensor(`model.${name}`));
    const opt = JSON.parse(meta.optimizer!) as { type: string; step: number; options: OptimizerStateDict['options']; buffers: string[][] };
    this.optimizer.loadStateDict({
      type: opt.type, step: opt.step, options: opt.options,
      state: opt.buffers.map((keys, i) => Object.fromEntries(keys.map((k) => [k, tensor(`optimizer.${i}.${k}`)]))),
    });
    this.state.h.set(tensor('state.h'));
    if (this.state.c) this.state.c.set(tensor('state.c'));
    this.p = JSON.parse(meta.progress!) as Progress;
    this.batcher.setState(this.p.batcher);
    this.model.setDropoutState(this.p.dropout);
    if (this.schedule && this.p.schedule) this.schedule.loadStateDict(this.p.schedule);
    this.optimizer.lr = this.p.lr;
    const n = this.model.parameters().length;
    this.best = file.tensors.has('best.0') ? Array.from({ length: n }, (_, i) => tensor(`best.${i}`).slice()) : null;
  }

  /** Frees the optimizer state and the carried state (not the model). The trainer cannot be used afterwards. */
  dispose(): void {
    this.optimizer.dispose();
    this.state.h.dispose();
    this.state.c?.dispose();
  }

  /** Which tensor held the NaN or infinity first, after a failed forward/backward (one pass per check, only then). */
  private diagnose(loss: number, norm: number): Fault {
    const named = this.model.namedParameters();
    const weights = nonFiniteNames(named, 'value');
    if (weights.length > 0) return { phase: 'weights', tensor: weights[0]!, detail: `weight ${list(weights)} held non-finite values before the step` };
    if (!Number.isFinite(loss)) return { phase: 'loss', tensor: 'loss', detail: `the loss is ${loss}` };
    // Backward runs from the decoder to the encoder: the first non-finite gradient in that order is where it began.
    const grads = nonFiniteNames([...named].reverse(), 'grad').map((n) => `${n}.grad`);
    return { phase: 'gradient', tensor: grads[0] ?? 'gradients', detail: `the gradient norm is ${norm}: non-finite gradient ${list(grads)}` };
  }

  private windowIndex(): number {
    return Math.ceil((this.batcher.getState() as { position: number }).position / this.options.seqLen);
  }

  private progress(tokens: number, seconds: number, steps: number): TrainProgress {
    const p = this.p, o = this.options;
    const step = Math.min(steps, this.windowIndex());
    const loss = p.lossCount > 0 ? p.lossSum / p.lossCount : NaN;
    const rate = seconds > 0 ? tokens / seconds : 0;
    const stepsLeft = (o.epochs - p.epoch - 1) * steps + (steps - step);
    const tokensLeft = stepsLeft * o.seqLen * o.batchSize;
    return {
      epoch: p.epoch + 1, epochs: o.epochs, step, steps, tokens, tokensPerSec: rate, loss, ppl: Math.exp(loss),
      lr: this.optimizer.lr, etaSeconds: rate > 0 ? tokensLeft / rate : NaN,
    };
  }

  private async endEpoch(seconds: number): Promise<EpochReport> {
    const p = this.p, o = this.options, model = this.model;
    const trainLoss = p.lossCount > 0 ? p.lossSum / p.lossCount : NaN;
    let validPpl: number | undefined, validBits: number | undefined, improved = false;
    if (this.data.valid) {
      const r = perplexity(model, this.data.valid, { startToken: this.data.startToken, batchSize: o.evalBatchSize ?? 10, seqLen: o.seqLen });
      validPpl = r.ppl; validBits = r.bitsPerToken;
      improved = p.bestValidPpl === null || r.ppl < p.bestValidPpl;
      if (improved) {
        p.bestValidPpl = r.ppl; p.bestEpoch = p.epoch + 1; p.sinceBest = 0;
        this.best = model.parameters().map((q) => q.value.toArray());
      } else {
        p.sinceBest++;
        if (o.schedule?.type === 'plateau') this.optimizer.lr *= o.schedule.factor;
      }
      // The state after validation belongs to another batch size: start the next epoch fresh.
      this.state.h.data.fill(0); this.state.c?.data.fill(0);
    }
    const report: EpochReport = {
      epoch: p.epoch + 1, trainLoss, trainPpl: Math.exp(trainLoss), improved, lr: this.optimizer.lr, seconds, skipped: p.skipped,
      ...(validPpl !== undefined ? { validPpl, validBitsPerToken: validBits! } : {}),
    };
    p.reports.push(report);
    p.epoch++;
    p.lossSum = 0; p.lossCount = 0; p.skipped = 0;
    this.batcher.reset();
    if (this.schedule instanceof StepDecay) this.schedule.step();
    if (o.patience !== undefined && p.sinceBest >= o.patience) p.done = true;
    return report;
  }
}

function f32(data: Float32Array): SafetensorsTensorInput {
  return { dtype: 'F32', shape: [data.length], data };
}

/** Resolves after the event loop has had a turn: setImmediate where there is one (Node, Bun), else a MessageChannel message. */
function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (g.setImmediate) return new Promise((resolve) => g.setImmediate!(resolve));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => { port1.close(); resolve(); };
    port2.postMessage(null);
  });
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
