// Entry of the mnemo kernels. Both wasm builds (SIMD and relaxed SIMD) are
// compiled from this file; see asconfig.json.
//
// The module imports its memory (env.memory) and never allocates: the
// TypeScript side owns everything above heap_base() and passes pointers.

export {
  gemm_nn, gemm_nt, gemm_tn, gemm_tt, gemm_ref, gemm_workspace_floats,
  gemm_pack_b, gemm_packed_b_floats, gemm_prepacked,
} from "./gemm";
export { sgd_update, adam_update, sum_squares, first_nonfinite, scale_inplace } from "./optim";
export { vec_exp, vec_sigmoid, vec_tanh } from "./math";
export { tanh_backward } from "./activation";
export { bias_add_rows, bias_grad_rows } from "./linear";
export { softmax_xent_forward, softmax_xent_backward, log_softmax_rows } from "./loss";
export { embedding_gather, embedding_scatter_add } from "./embed";
export { dropout_forward, dropout_backward } from "./dropout";
export { vocab_index } from "./vocab";
export { rnn_forward, rnn_backward } from "./rnn";
export { lstm_forward, lstm_backward } from "./lstm";
export { gru_forward, gru_backward } from "./gru";
export { threads_control_bytes, threads_supported, threads_configure, threads_count, threads_active, threads_shutdown } from "./threads";
export { worker_start, worker_loop } from "./worker";

/** First byte the kernels' static data does not use; the TypeScript arena starts here. */
export function heap_base(): usize {
  return __heap_base;
}

/**
 * The kernels' interface version, which bindings/kernels.ts (KERNEL_ABI) must equal: raise
 * both when a kernel's arguments or meaning change (2: adam_update takes the bias
 * corrections), so that a stale .wasm (a cache, a copy) is refused instead of misread.
 */
export function abi_version(): i32 {
  return 2;
}

/** 1 in the relaxed-SIMD build, 0 in the plain SIMD build. */
export function build_relaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
