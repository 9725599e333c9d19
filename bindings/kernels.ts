// The typed surface of the wasm exports. Pointers are byte offsets into the
// shared memory; sizes are element counts. Kernels check nothing: the
// TypeScript layer validates shapes before calling them.

/** Exports of mnemo-simd.wasm and mnemo-relaxed.wasm (both builds have the same exports). */
export interface KernelExports {
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
  vec_exp(x: number, y: number, n: number): void;
  vec_sigmoid(x: number, y: number, n: number): void;
  vec_tanh(x: number, y: number, n: number): void;
  gemm_ref(transA: number, transB: number, m: number, n: number, k: number, alpha: number,
    a: number, lda: number, b: number, ldb: number, beta: number, c: number, ldc: number): void;
}

/** Names of the two builds compiled from assembly/. */
export type BuildName = 'simd' | 'relaxed';

/** Names of the kernel exports every build must provide. */
export const REQUIRED_EXPORTS: readonly (keyof KernelExports)[] = [
  'heap_base', 'build_relaxed', 'gemm_workspace_floats',
  'gemm_nn', 'gemm_nt', 'gemm_tn', 'gemm_tt', 'gemm_ref', 'gemm_packed_b_floats', 'gemm_pack_b', 'gemm_prepacked',
  'vec_exp', 'vec_sigmoid', 'vec_tanh', 'bias_add_rows', 'bias_grad_rows',
];
