// Vanilla (Elman) RNN over a window, one layer and one direction, PyTorch's
// formulation: h' = act(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh), act = tanh or relu.
//
// The caller computes the input projection and both biases for all T steps
// into `a` (T, B, H). rnn_forward adds the recurrent GEMM per step (W_hh packed
// once) and applies the activation, writing h_t to out (row stride ldo).
// rnn_backward turns `a` into the pre-activation gradients, using h_t from out
// (tanh' = 1 − h², relu' = [h > 0]). Conventions as in lstm.ts.

import { gemm_nn, gemm_nt, gemm_prepacked } from "./gemm";
import { tanh_s, tanh_v } from "./math";
import { step_time, prev_time } from "./window";

/** h (row stride ldh) = act(a) over B rows of H; relu = 1 selects ReLU, else tanh. */
export function rnn_cell_forward(b: i32, h: i32, a: usize, hOut: usize, ldh: i32, relu: i32): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < b; r++) {
    const x = a + (<usize>r * <usize>h << 2), y = hOut + (<usize>r * <usize>ldh << 2);
    let j = 0;
    for (; j + 4 <= h; j += 4) {
      const o = <usize>j << 2;
      const v = v128.load(x + o);
      v128.store(y + o, relu ? f32x4.max(v, zero) : tanh_v(v));
    }
    for (; j < h; j++) {
      const o = <usize>j << 2;
      const v = load<f32>(x + o);
      store<f32>(y + o, relu ? (v > 0 ? v : 0) : tanh_s(v));
    }
  }
}

/** a ← (dout + dhRec) ⊙ act'(h) over B rows of H (h row stride ldh, dout row stride lddo). */
export function rnn_cell_backward(b: i32, h: i32, a: usize, hOut: usize, ldh: i32,
                                  dout: usize, lddo: i32, dhRec: usize, relu: i32): void {
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let r = 0; r < b; r++) {
    const x = a + (<usize>r * <usize>h << 2), y = hOut + (<usize>r * <usize>ldh << 2);
    const d = dout + (<usize>r * <usize>lddo << 2), dr = dhRec + (<usize>r * <usize>h << 2);
    let j = 0;
    for (; j + 4 <= h; j += 4) {
      const o = <usize>j << 2;
      const hv = v128.load(y + o);
      const dh = f32x4.add(v128.load(d + o), v128.load(dr + o));
      const deriv = relu ? v128.and(one, f32x4.gt(hv, zero)) : f32x4.sub(one, f32x4.mul(hv, hv));
      v128.store(x + o, f32x4.mul(dh, deriv));
    }
    for (; j < h; j++) {
      const o = <usize>j << 2;
      const hv = load<f32>(y + o);
      const dh = load<f32>(d + o) + load<f32>(dr + o);
      store<f32>(x + o, dh * (relu ? (hv > 0 ? <f32>1 : <f32>0) : 1 - hv * hv));
    }
  }
}

/** The forward time loop: a (T, B, H) in: projection + biases; h_t to out. packed: W_hhᵀ packed, or 0. */
export function rnn_forward(t: i32, b: i32, h: i32, a: usize, whh: usize, packed: usize, h0: usize,
                            out: usize, ldo: i32, relu: i32, reverse: i32, work: usize): void {
  const step = <usize>b * <usize>h << 2;
  const ostep = <usize>b * <usize>ldo << 2;
  for (let s = 0; s < t; s++) {
    const ti = step_time(s, t, reverse), tp = prev_time(ti, reverse);
    const hPrev = s == 0 ? h0 : out + <usize>tp * ostep;
    const ldPrev = s == 0 ? h : ldo;
    const at = a + <usize>ti * step;
    if (packed != 0) gemm_prepacked(0, b, h, h, 1, hPrev, ldPrev, packed, 1, at, h, work);
    else gemm_nt(b, h, h, 1, hPrev, ldPrev, whh, h, 1, at, h, work);
    rnn_cell_forward(b, h, at, out + <usize>ti * ostep, ldo, relu);
  }
}

/**
 * The backward time loop: a ← pre-activation gradients. dout (T, B, ·) row
 * stride lddo. dh0 (B, H): in, gradient w.r.t. the final h; out, w.r.t. h0.
 * packedT: W_hh packed by gemm_pack_b(0, H, H, whh, H, packedT), or 0.
 */
export function rnn_backward(t: i32, b: i32, h: i32, a: usize, out: usize, ldo: i32, dout: usize, lddo: i32,
                             whh: usize, packedT: usize, dh0: usize, relu: i32, reverse: i32, work: usize): void {
  const step = <usize>b * <usize>h << 2;
  const ostep = <usize>b * <usize>ldo << 2;
  const dstep = <usize>b * <usize>lddo << 2;
  for (let s = t - 1; s >= 0; s--) {
    const ti = step_time(s, t, reverse);
    const at = a + <usize>ti * step;
    rnn_cell_backward(b, h, at, out + <usize>ti * ostep, ldo, dout + <usize>ti * dstep, lddo, dh0, relu);
    if (packedT != 0) gemm_prepacked(0, b, h, h, 1, at, h, packedT, 0, dh0, h, work);
    else gemm_nn(b, h, h, 1, at, h, whh, h, 0, dh0, h, work);
  }
}
