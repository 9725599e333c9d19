// torch.nn.utils.clip_grad_norm_: one L2 norm over all gradients; if it
// exceeds maxNorm, every gradient is scaled by maxNorm / (norm + 1e-6).

import { MnemoError } from '../errors.js';
import type { Parameter } from '../nn/module.js';
import { NonFiniteNormError, OptimizerOptionError } from './optimizer.js';

/** Options of clipGradNorm. */
export interface ClipGradNormOptions {
  /**
   * Throw NonFiniteNormError when the total norm is NaN or infinite (default
   * true). With false the non-finite norm is returned; in both cases the
   * gradients are left untouched (PyTorch with error_if_nonfinite=False would
   * scale them by NaN or 0), so a training loop can check the returned norm
   * and skip the step.
   */
  errorIfNonfinite?: boolean;
}

const f32 = Math.fround;

/**
 * Scales the gradients of `params` in place so that their global L2 norm is at
 * most `maxNorm`, as torch.nn.utils.clip_grad_norm_ does; returns the total norm
 * before clipping.
 *
 * The sum of squares is accumulated in f64 (sum_squares kernel), so the norm is
 * the f64 value, more exact than PyTorch's f32 one. The clip coefficient follows
 * PyTorch's f32 arithmetic from the f32-rounded norm:
 * coef = min(1, f32(1 / f32(norm + 1e-6)) · maxNorm); gradients are multiplied
 * by it only when it is below 1 (PyTorch multiplies by 1, which changes nothing).
 * Only normType 2 is supported. A parameter listed twice counts once.
 */
export function clipGradNorm(params: readonly Parameter[], maxNorm: number, normType = 2,
  options: ClipGradNormOptions = {}): number {
  if (!Array.isArray(params)) throw new OptimizerOptionError('clipGradNorm: params must be an array of Parameters');
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0) || maxNorm === Infinity) {
    throw new OptimizerOptionError(`clipGradNorm: maxNorm must be a finite number ≥ 0, got ${String(maxNorm)}`);
  }
  if (normType !== 2) throw new OptimizerOptionError(`clipGradNorm: only normType 2 (L2) is supported, got ${String(normType)}`);
  const unique = [...new Set(params)];
  if (unique.length === 0) return 0;
  const rt = unique[0]!.grad.runtime;
  for (const [i, p] of unique.entries()) {
    if (p.grad.runtime !== rt) throw new MnemoError(`clipGradNorm: params[${i}] belongs to another runtime`);
    rt.check(p.grad, `clipGradNorm: params[${i}].grad`);
  }
  let sumSq = 0;
  for (const p of unique) sumSq += rt.kernels.sum_squares(p.grad.offset, p.grad.size);
  const norm = Math.sqrt(sumSq);
  if (!Number.isFinite(norm)) {
    if (options.errorIfNonfinite ?? true) {
      throw new NonFiniteNormError(`clipGradNorm: the total gradient norm is ${norm}, so it cannot be clipped; `
        + 'the gradients were left as they are (pass { errorIfNonfinite: false } to get the norm back instead)', norm);
    }
    return norm;
  }
  // PyTorch: clip_coef = max_norm / (total_norm + 1e-6), an f32 tensor computed as reciprocal() * max_norm.
  // (A norm beyond f32's range, where PyTorch's own norm is already inf, is divided in f64.)
  const norm32 = f32(norm);
  const coef = norm32 === Infinity ? f32(maxNorm / norm) : f32(f32(1 / f32(norm32 + f32(1e-6))) * f32(maxNorm));
  if (coef < 1) for (const p of unique) rt.kernels.scale_inplace(p.grad.offset, p.grad.size, coef);
  return norm;
}
