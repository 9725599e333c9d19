// Named errors. Every failure mnemo reports is one of these, with a message
// that names what was wrong, so callers can catch by class.

/** Base class of every error mnemo throws on purpose. */
export class MnemoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor's shape, a size or an argument does not fit the operation. */
export class ShapeError extends MnemoError {}

/** An allocation would exceed the runtime's configured memory maximum (or the engine refused to grow). */
export class OutOfMemoryError extends MnemoError {
  constructor(message: string, readonly requestedBytes: number, readonly limitBytes: number) {
    super(message);
  }
}

/** The wasm kernels could not be fetched, compiled or instantiated. */
export class WasmLoadError extends MnemoError {}

/** The runtime lacks a WebAssembly feature mnemo needs (SIMD), or one that was forced (relaxed SIMD). */
export class UnsupportedRuntimeError extends MnemoError {}

/** A tensor (or runtime) was used after dispose(). */
export class DisposedError extends MnemoError {}

/** A file (safetensors) is malformed or uses something mnemo cannot read; the message names the offending field. */
export class FileFormatError extends MnemoError {}

/** A language model gave probability zero (or none: an unseen context under maximum likelihood) to a token it had to score; the message names the token and its context. */
export class ZeroProbabilityError extends MnemoError {}

/** A model whose scores are not probabilities (stupid backoff) was asked for something that needs a distribution (perplexity). */
export class NotADistributionError extends MnemoError {}

/**
 * Training met a NaN or an infinity. Names the step (epoch, window of that
 * epoch, both from 1) and the first tensor that held the value: 'loss', a
 * gradient ('<parameter>.grad'), or a weight ('<parameter>': non-finite before
 * the step, phase 'weights', or made so by the optimizer update, phase 'update').
 */
export class NonFiniteError extends MnemoError {
  constructor(message: string, readonly epoch: number, readonly step: number, readonly tensor: string,
              readonly phase: 'weights' | 'loss' | 'gradient' | 'update') {
    super(message);
  }
}

/**
 * A model's output holds NaN or an infinity: its weights overflow float32 on
 * this input (a corrupt or hostile model file can hold such weights, and a
 * ReLU network can grow without bound). The message names the output and where.
 */
export class NonFiniteOutputError extends MnemoError {}

// The kinds of FileFormatError the model loader reports (catch FileFormatError for all of them).

/** The safetensors header itself is malformed: its length, UTF-8, JSON, a duplicate key, `__metadata__` not an object of strings. */
export class HeaderError extends FileFormatError {}

/** A tensor's header entry is malformed (dtype, shape, data_offsets), or the tensors do not tile the data section exactly. */
export class TensorLayoutError extends FileFormatError {}

/** A model file's `__metadata__` (format, config, tokenizer) is missing, malformed or out of range; the message names the field. */
export class MetadataError extends FileFormatError {}

/** A model file's tensors do not match its config: one is missing, unexpected, or of another dtype or shape; or the vocabulary size differs. */
export class TensorMismatchError extends FileFormatError {}

/** A weight in a model file is NaN or infinite, or a tied copy differs from the tensor it must equal; the message names the tensor and element. */
export class WeightValueError extends FileFormatError {}
