// The typed surface of the wasm exports. Pointers are byte offsets into the
// shared memory; sizes are element counts. Kernels check nothing: the
// TypeScript layer validates shapes before calling them.

/** Exports of mnemo-simd.wasm and mnemo-relaxed.wasm (both builds have the same exports). */
export interface KernelExports {
  abi_version(): number;
  heap_base(): number;
  build_relaxed(): number;
  gemm_workspace_floats(): number;
  gemm_nn(m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  gemm_nt(m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  gemm_tn(m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  gemm_tt(m: number, n: number, k: number, alpha: number, a: number, lda: number,
    b: number, ldb: number, beta: number, c: number, ldc: number, work: number): void;
  gemm_packed_b_floats(k: number, n: number): number;
  gemm_pack_b(transB: number, k: number, n: number, b: number, ldb: number, dst: number): void;
  gemm_prepacked(transA: number, m: number, n: number, k: number, alpha: number, a: number, lda: number,
    bpacked: number, beta: number, c: number, ldc: number, work: number): void;
  bias_add_rows(y: number, ldy: number, bias: number, rows: number, cols: number): void;
  bias_grad_rows(g: number, ldg: number, grad: number, rows: number, cols: number): void;
  rnn_forward(t: number, b: number, h: number, a: number, whh: number, packed: number, h0: number,
    out: number, ldo: number, relu: number, reverse: number, work: number): void;
  rnn_backward(t: number, b: number, h: number, a: number, out: number, ldo: number, dout: number, lddo: number,
    whh: number, packedT: number, dh0: number, relu: number, reverse: number, work: number): void;
  lstm_forward(t: number, b: number, h: number, gates: number, whh: number, packed: number,
    h0: number, c0: number, out: number, ldo: number, cs: number, reverse: number, work: number): void;
  lstm_backward(t: number, b: number, h: number, gates: number, cs: number, c0: number,
    dout: number, lddo: number, whh: number, packedT: number, dh0: number, dc0: number, reverse: number, work: number): void;
  gru_forward(t: number, b: number, h: number, gx: number, whh: number, packed: number, bhh: number,
    gh: number, hn: number, h0: number, out: number, ldo: number, reverse: number, work: number): void;
  gru_backward(t: number, b: number, h: number, gx: number, hn: number, h0: number, out: number, ldo: number,
    dout: number, lddo: number, whh: number, packedT: number, dgh: number, dh0: number, reverse: number, work: number): void;
  vec_exp(x: number, y: number, n: number): void;
  vec_sigmoid(x: number, y: number, n: number): void;
  vec_tanh(x: number, y: number, n: number): void;
  tanh_backward(y: number, dy: number, dx: number, n: number): void;
  softmax_xent_forward(logits: number, targets: number, n: number, v: number, ignoreIndex: number,
    rowStats: number): number;
  softmax_xent_backward(logits: number, targets: number, n: number, v: number, ignoreIndex: number,
    rowStats: number, scale: number, dlogits: number): void;
  log_softmax_rows(logits: number, n: number, v: number, out: number): void;
  embedding_gather(weight: number, dim: number, ids: number, n: number, out: number): void;
  embedding_scatter_add(dout: number, dim: number, ids: number, n: number, grad: number, paddingIdx: number): void;
  dropout_forward(x: number, y: number, mask: number, n: number, p: number, seed: number, counter: number): void;
  dropout_backward(dy: number, dx: number, mask: number, n: number): void;
  gemm_ref(transA: number, transB: number, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number): void;
  sgd_update(param: number, grad: number, momentumBuf: number, n: number, lr: number, momentum: number,
    dampening: number, weightDecay: number, nesterov: number, first: number): void;
  adam_update(param: number, grad: number, m: number, v: number, n: number, lr: number, beta1: number,
    beta2: number, eps: number, weightDecay: number, decoupled: number, bc1: number, bc2: number): void;
  sum_squares(ptr: number, n: number): number;
  first_nonfinite(ptr: number, n: number): number;
  vocab_index(text: number, len: number, slots: number, nslots: number, starts: number): number;
  scale_inplace(ptr: number, n: number, s: number): void;
  threads_control_bytes(): number;
  threads_supported(): number;
  threads_configure(ctrl: number, n: number): void;
  threads_count(): number;
  threads_active(): number;
  threads_shutdown(ctrl: number): void;
  worker_start(ctrl: number, tid: number): void;
  worker_loop(ctrl: number, tid: number): void;
}

/** The two SIMD flavours compiled from assembly/ (each also comes as a threads build on shared memory). */
export type BuildName = 'simd' | 'relaxed';

/** Key of one compiled file: a flavour, or a flavour's threads build. */
export type WasmFileName = BuildName | 'simd-threads' | 'relaxed-threads';

/** The kernels' interface version these bindings call (assembly/index.ts abi_version). */
export const KERNEL_ABI = 2;

/** Names of the kernel exports every build must provide. */
export const REQUIRED_EXPORTS: readonly (keyof KernelExports)[] = [
  'abi_version', 'heap_base', 'build_relaxed', 'gemm_workspace_floats',
  'gemm_nn', 'gemm_nt', 'gemm_tn', 'gemm_tt', 'gemm_ref', 'gemm_packed_b_floats', 'gemm_pack_b', 'gemm_prepacked',
  'sgd_update', 'adam_update', 'sum_squares', 'first_nonfinite', 'scale_inplace', 'vocab_index',
  'vec_exp', 'vec_sigmoid', 'vec_tanh', 'tanh_backward', 'bias_add_rows', 'bias_grad_rows',
  'softmax_xent_forward', 'softmax_xent_backward', 'log_softmax_rows',
  'embedding_gather', 'embedding_scatter_add', 'dropout_forward', 'dropout_backward',
  'rnn_forward', 'rnn_backward', 'lstm_forward', 'lstm_backward', 'gru_forward', 'gru_backward',
  'threads_control_bytes', 'threads_supported', 'threads_configure', 'threads_count', 'threads_active',
  'threads_shutdown', 'worker_start', 'worker_loop',
];
