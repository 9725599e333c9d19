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
