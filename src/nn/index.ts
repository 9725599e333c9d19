// Layers with PyTorch's names and semantics.

export { Module, Parameter } from './module.js';
export { Linear, type LinearOptions } from './linear.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { Dropout, type DropoutOptions } from './dropout.js';
export { CrossEntropyLoss, logSoftmax, type CrossEntropyLossOptions } from './loss.js';
export {
  RNN, LSTM, GRU, RecurrentBase,
  type RecurrentOptions, type RNNOptions, type RecurrentState, type RecurrentOutput, type RecurrentGrad,
} from './recurrent.js';
