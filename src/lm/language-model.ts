// What the Trainer, perplexity() and the Predictor need of a neural language
// model: RNNLanguageModel (recurrent) and WindowLanguageModel (fixed window,
// Bengio et al. 2003) both provide it.
//
// The contract, in the recurrent vocabulary:
//   ids (T, B) → forwardHidden → features (T, B, F) → decode → logits (T·B, V)
// with a state carried from one window to the next (truncated BPTT: no
// gradient crosses windows). The state is `{ h, c? }` of float32 tensors whose
// second dimension is the batch: the recurrent state for RNNLanguageModel, the
// previous token ids for WindowLanguageModel (see window-model.ts). All zeros
// is the empty history, which the start context (the end-of-line token) then
// follows. The Trainer checkpoints the state as it is.

import type { Parameter } from '../nn/module.js';
import type { Runtime } from '../runtime.js';
import type { Tensor } from '../tensor.js';
import type { LMState } from './model.js';

/** A neural language model that the Trainer, perplexity() and Predictor can use (see the file comment). */
export interface LanguageModel {
  readonly runtime: Runtime;
  /** Plain JSON, enough to rebuild the model (stored in model files and checkpoints). */
  readonly config: Readonly<{ vocabSize: number }>;
  /** Training mode (dropout on) or evaluation mode. */
  readonly training: boolean;
  train(mode?: boolean): unknown;
  eval(): unknown;
  /** Trainable parameters, each once (a tied weight is listed once). */
  parameters(): Parameter[];
  /** The parameters with PyTorch state_dict names, in state_dict order. */
  namedParameters(): [string, Parameter][];
  /** Number of trainable scalars. */
  readonly numParameters: number;
  /** ids (T, B) → logits (T·B, V) (a model buffer) and the state after the window. */
  forward(ids: Tensor<'int32'>, state?: LMState): { logits: Tensor; state: LMState };
  /** ids (T, B) → the decoder's input (T, B, F) (a model buffer) and the state; decode() turns it into logits. */
  forwardHidden(ids: Tensor<'int32'>, state?: LMState): { output: Tensor; state: LMState };
  /** The decoder: features (N, F) from forwardHidden → logits (N, V) (a model buffer). */
  decode(hidden: Tensor): Tensor;
  /** Backpropagation of dL/dlogits (T·B, V) through the last forward(): gradients accumulated. */
  backward(dlogits: Tensor): void;
  /** Mean cross-entropy of targets (T·B) under forward(ids, state), gradients accumulated; the loss and the next state. */
  lossAndBackward(ids: Tensor<'int32'>, targets: Tensor<'int32'>, state?: LMState): { loss: number; state: LMState };
  /** The empty history for `batch` streams: new tensors the caller owns. */
  initState(batch: number): LMState;
  /** A copy of `state` the caller owns (into `into` when given). */
  detachState(state: LMState, into?: LMState): LMState;
  /** The dropout masks' positions (plain JSON), for an exact resume. */
  getDropoutState(): object;
  /** Restores getDropoutState(). */
  setDropoutState(state: object): void;
  /** Frees the parameters and buffers. */
  dispose(): void;
}
