// Matrix products on tensors: shape checks once here, then one kernel call.

import { MnemoError, ShapeError } from './errors.js';
import { Tensor } from './tensor.js';

/** Options of gemm() and matmul(). */
export interface GemmOptions {
  /** Use Aᵀ: A is stored (K, M). */
  transA?: boolean;
  /** Use Bᵀ: B is stored (N, K) — PyTorch's Linear weight layout. */
  transB?: boolean;
  /** Scale of the product (default 1). */
  alpha?: number;
  /** Scale of C's old value (default 0: C is overwritten and never read). */
  beta?: number;
}

function dims2(t: Tensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(`${what} must be 2-D, got shape [${t.shape.join(', ')}]`);
  return [t.shape[0]!, t.shape[1]!];
}

function overlaps(x: Tensor, y: Tensor): boolean {
  return x.offset < y.offset + y.byteLength && y.offset < x.offset + x.byteLength && x.size > 0 && y.size > 0;
}

/** C = alpha·op(A)·op(B) + beta·C in place; op(A) is (M, K), op(B) is (K, N), C is (M, N). Returns C. */
export function gemm(a: Tensor, b: Tensor, c: Tensor, options: GemmOptions = {}): Tensor {
  const rt = c.runtime;
  rt.check(a, 'gemm: A'); rt.check(b, 'gemm: B'); rt.check(c, 'gemm: C');
  const transA = options.transA === true, transB = options.transB === true;
  const alpha = options.alpha ?? 1, beta = options.beta ?? 0;
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) {
    throw new MnemoError(`gemm: alpha and beta must be finite numbers, got alpha=${alpha}, beta=${beta}`);
  }
  const [ar, ac] = dims2(a, 'gemm: A'), [br, bc] = dims2(b, 'gemm: B'), [m, n] = dims2(c, 'gemm: C');
  const [am, k] = transA ? [ac, ar] : [ar, ac];
  const [bk, bn] = transB ? [bc, br] : [br, bc];
  if (k !== bk) {
    throw new ShapeError(`gemm: inner sizes differ: op(A) is [${am}, ${k}], op(B) is [${bk}, ${bn}]` +
      ` (A [${a.shape.join(', ')}]${transA ? 'ᵀ' : ''}, B [${b.shape.join(', ')}]${transB ? 'ᵀ' : ''})`);
  }
  if (am !== m || bn !== n) {
    throw new ShapeError(`gemm: C must be [${am}, ${bn}] for op(A) [${am}, ${k}] · op(B) [${bk}, ${bn}], got [${m}, ${n}]`);
  }
  if (overlaps(c, a) || overlaps(c, b)) throw new MnemoError('gemm: C must not overlap A or B');
  const kern = rt.kernels;
  const fn = transA ? (transB ? kern.gemm_tt : kern.gemm_tn) : (transB ? kern.gemm_nt : kern.gemm_nn);
  fn(m, n, k, alpha, a.offset, ac, b.offset, bc, beta, c.offset, n, rt.gemmWork);
  return c;
}

/** A new tensor op(A)·op(B). */
export function matmul(a: Tensor, b: Tensor, options: Omit<GemmOptions, 'beta'> = {}): Tensor {
  const rt = a.runtime;
  rt.check(a, 'matmul: A');
  const [ar, ac] = dims2(a, 'matmul: A'), [br, bc] = dims2(b, 'matmul: B');
  const m = options.transA ? ac : ar, n = options.transB ? br : bc;
  const c = rt.tensor([m, n]);
  try {
    return gemm(a, b, c, options);
  } catch (e) {
    c.dispose();
    throw e;
  }
}
