// Count-based n-gram language models: NgramLM (mle, add-δ, stupid backoff,
// Katz, interpolated modified Kneser–Ney), ARPA import/export, model files.

export {
  NgramLM, normalizeNgramConfig,
  type NgramOptions, type NgramTrainOptions, type NgramConfig, type NgramData, type NgramContext,
  type NgramPerplexityOptions, type NgramPerplexityResult,
} from './model.js';
export { SMOOTHINGS, KN_FALLBACK_DISCOUNTS, type Smoothing } from './smoothing.js';
export { NGRAM_FORMAT } from './file.js';
export { NgramTrie } from './trie.js';
