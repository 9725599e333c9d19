// Optimizers (update math in assembly/optim.ts), gradient clipping and
// learning-rate schedules.

export { Optimizer, OptimizerOptionError, NonFiniteNormError, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { clipGradNorm, type ClipGradNormOptions } from './clip.js';
export {
  Schedule, StepDecay, CosineAnnealing,
  type HasLearningRate, type ScheduleStateDict, type StepDecayOptions, type CosineAnnealingOptions,
} from './schedule.js';
