// mnemo: recurrent language models on WebAssembly SIMD.
// This is the portable entry (browsers, workers, workerd, Deno, Bun). Node
// resolves 'mnemo' to ./node.js, which adds reading the wasm from disk.

export { init, Runtime, type InitOptions } from './runtime.js';
export { Tensor, shapeSize, type Shape, type DType, type ArrayOf } from './tensor.js';
export { gemm, matmul, type GemmOptions } from './gemm.js';
export * from './nn/index.js';
export * from './optim/index.js';
export * from './lm/index.js';
export * from './ngram/index.js';
export { Random } from './random.js';
export { Arena, ALIGN } from './arena.js';
export {
  MnemoError, ShapeError, OutOfMemoryError, WasmLoadError, UnsupportedRuntimeError, DisposedError, FileFormatError,
  NonFiniteError, NonFiniteOutputError, HeaderError, TensorLayoutError, MetadataError, TensorMismatchError, WeightValueError,
  ZeroProbabilityError, NotADistributionError,
} from './errors.js';
export {
  readSafetensors, writeSafetensors,
  type SafetensorsDType, type SafetensorsTensor, type SafetensorsTensorInput, type SafetensorsFile,
} from './io/safetensors.js';
export { saveModel, loadModel, MODEL_FORMAT, EXTRA_TENSOR_PREFIX, type LoadedModel } from './io/model-file.js';
export {
  loadKernels, chooseBuild, defaultWasmUrl, hasSimd, hasRelaxedSimd,
  type BuildName, type KernelExports, type LoadOptions, type LoadedKernels, type WasmSource, type WasmSources,
} from '../bindings/loader.js';
