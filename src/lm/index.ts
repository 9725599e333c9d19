// Language models: tokenizers, batching for truncated BPTT (portable parts;
// the Node-only Brown loader is exported from src/node.ts).

export {
  Vocabulary, WordTokenizer, CharTokenizer, TokenizerError, tokenizerFromJSON, UNK, EOS_WORD, EOS_CHAR,
  type Tokenizer, type TokenizerJSON, type WordFitOptions, type CharFitOptions, type FromVocabularyOptions, type TokenCount,
} from './tokenizer.js';
export { BpttBatcher, type BpttBatcherOptions, type BpttBatch, type BpttBatcherState } from './batching.js';
export {
  RNNLanguageModel, normalizeConfig, parameterShapes, LM_CELLS, INIT_RANGE,
  type LMCell, type LMOptions, type LMConfig, type LMState, type LMOutput, type LMDropoutState,
} from './model.js';
export {
  WindowLanguageModel, normalizeWindowConfig, windowParameterShapes, isWindowConfig,
  type WindowLMOptions, type WindowLMConfig, type WindowLMDropoutState,
} from './window-model.js';
export type { LanguageModel } from './language-model.js';
export { perplexity, cutStream, type PerplexityOptions, type PerplexityResult } from './evaluate.js';
export {
  Predictor, type Prediction, type PredictOptions, type PredictTextOptions, type GenerateOptions,
} from './predictor.js';
export { Trainer, NonFiniteLossError, type TrainerOptions, type TrainProgress, type EpochReport, type TrainResult, type ScheduleOption } from './trainer.js';
