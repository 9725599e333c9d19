// LSTM over a window, one layer and one direction, PyTorch's formulation
// (gates i, f, g, o):
//   gates = x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh          (B, 4H)
//   i = σ(gates_i)  f = σ(gates_f)  g = tanh(gates_g)  o = σ(gates_o)
//   c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')
//
// The caller computes the input projection for all T steps with one GEMM
// (plus both biases) into `gates` (T, B, 4H). lstm_forward then runs the time
// loop: the recurrent GEMM with W_hh packed once (gemm_pack_b, transB = 1) and
// one fused pass per step. `gates` is overwritten with the activated gates and
// `cs` (T, B, H) keeps every cell state, for the backward pass.
//
// lstm_backward runs the steps in reverse, turning `gates` into the gradients
// of the pre-activation gates (T, B, 4H); the caller then forms dW_ih, dW_hh and
// the bias gradients with one GEMM each, and dx with one GEMM.
//
// Layout: h_t of row b is written at out + ((t·B + b)·ldo)·4 — ldo lets a
// bidirectional layer write both directions into one (T, B, 2H) output. With
// reverse = 1 the steps run from t = T−1 down to 0 (the backward direction of a
// bidirectional layer). `packed` = 0 means "use W_hh as stored" (B = 1 inference
// goes through the gemv path instead of packing).

import { gemm_nn, gemm_nt, gemm_prepacked } from "./gemm";
import { step_time, prev_time } from "./window";
import { sigmoid_s, sigmoid_v, tanh_s, tanh_v } from "./math";

/**
 * One fused LSTM step over B rows: activates `gates` (B, 4H) in place, writes
 * c (B, H) and h (B, H, row stride ldh). cPrev is (B, H).
 */
export function lstm_cell_forward(b: i32, h: i32, gates: usize, cPrev: usize, c: usize,
                                  hOut: usize, ldh: i32): void {
  const H = <usize>h << 2;
  for (let r = 0; r < b; r++) {
    const g = gates + <usize>r * 4 * H;
    const cp = cPrev + <usize>r * H, cn = c + <usize>r * H, ho = hOut + (<usize>r * <usize>ldh << 2);
    let j = 0;
    for (; j + 4 <= h; j += 4) {
      const o = <usize>j << 2;
      const ig = sigmoid_v(v128.load(g + o));
      const fg = sigmoid_v(v128.load(g + H + o));
      const gg = tanh_v(v128.load(g + 2 * H + o));
      const og = sigmoid_v(v128.load(g + 3 * H + o));
      const cv = f32x4.add(f32x4.mul(fg, v128.load(cp + o)), f32x4.mul(ig, gg));
      v128.store(g + o, ig); v128.store(g + H + o, fg); v128.store(g + 2 * H + o, gg); v128.store(g + 3 * H + o, og);
      v128.store(cn + o, cv);
      v128.store(ho + o, f32x4.mul(og, tanh_v(cv)));
    }
    for (; j < h; j++) {
      const o = <usize>j << 2;
      const ig = sigmoid_s(load<f32>(g + o));
      const fg = sigmoid_s(load<f32>(g + H + o));
      const gg = tanh_s(load<f32>(g + 2 * H + o));
      const og = sigmoid_s(load<f32>(g + 3 * H + o));
      const cv = fg * load<f32>(cp + o) + ig * gg;
      store<f32>(g + o, ig); store<f32>(g + H + o, fg); store<f32>(g + 2 * H + o, gg); store<f32>(g + 3 * H + o, og);
      store<f32>(cn + o, cv);
      store<f32>(ho + o, og * tanh_s(cv));
    }
  }
}

/**
 * Backward of one step. In: activated gates (B, 4H), c and cPrev (B, H), dh
 * = dout + dhRec (dout row stride lddo, dhRec (B, H)), dc (B, H) carried from
 * the step after. Out: gates ← pre-activation gradients, dc ← dc ⊙ f (the
 * gradient for cPrev).
 */
export function lstm_cell_backward(b: i32, h: i32, gates: usize, cPrev: usize, c: usize,
                                   dout: usize, lddo: i32, dhRec: usize, dc: usize): void {
  const H = <usize>h << 2;
  const one = f32x4.splat(1);
  for (let r = 0; r < b; r++) {
    const g = gates + <usize>r * 4 * H;
    const cp = cPrev + <usize>r * H, cn = c + <usize>r * H;
    const d = dout + (<usize>r * <usize>lddo << 2), dr = dhRec + <usize>r * H, dcr = dc + <usize>r * H;
    let j = 0;
    for (; j + 4 <= h; j += 4) {
      const o = <usize>j << 2;
      const ig = v128.load(g + o), fg = v128.load(g + H + o), gg = v128.load(g + 2 * H + o), og = v128.load(g + 3 * H + o);
      const dh = f32x4.add(v128.load(d + o), v128.load(dr + o));
      const tc = tanh_v(v128.load(cn + o));
      // dc_t = dc + dh ⊙ o ⊙ (1 − tanh²c)
      const dct = f32x4.add(v128.load(dcr + o), f32x4.mul(f32x4.mul(dh, og), f32x4.sub(one, f32x4.mul(tc, tc))));
      const di = f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(ig, f32x4.sub(one, ig)));
      const df = f32x4.mul(f32x4.mul(dct, v128.load(cp + o)), f32x4.mul(fg, f32x4.sub(one, fg)));
      const dg = f32x4.mul(f32x4.mul(dct, ig), f32x4.sub(one, f32x4.mul(gg, gg)));
      const dO = f32x4.mul(f32x4.mul(dh, tc), f32x4.mul(og, f32x4.sub(one, og)));
      v128.store(g + o, di); v128.store(g + H + o, df); v128.store(g + 2 * H + o, dg); v128.store(g + 3 * H + o, dO);
      v128.store(dcr + o, f32x4.mul(dct, fg));
    }
    for (; j < h; j++) {
      const o = <usize>j << 2;
      const ig = load<f32>(g + o), fg = load<f32>(g + H + o), gg = load<f32>(g + 2 * H + o), og = load<f32>(g + 3 * H + o);
      const dh = load<f32>(d + o) + load<f32>(dr + o);
      const tc = tanh_s(load<f32>(cn + o));
      const dct = load<f32>(dcr + o) + dh * og * (1 - tc * tc);
      store<f32>(g + o, dct * gg * (ig * (1 - ig)));
      store<f32>(g + H + o, dct * load<f32>(cp + o) * (fg * (1 - fg)));
      store<f32>(g + 2 * H + o, dct * ig * (1 - gg * gg));
      store<f32>(g + 3 * H + o, dh * tc * (og * (1 - og)));
      store<f32>(dcr + o, dct * fg);
    }
  }
}

/**
 * The forward time loop (see the file comment). gates (T, B, 4H) in: input
 * projection + biases, out: activated gates. whh (4H, H); packed: W_hhᵀ packed
 * by gemm_pack_b(1, H, 4H, whh, H, packed), or 0. h0, c0 (B, H). out: h_t with
 * row stride ldo. cs (T, B, H). work: GEMM scratch.
 */
export function lstm_forward(t: i32, b: i32, h: i32, gates: usize, whh: usize, packed: usize,
                             h0: usize, c0: usize, out: usize, ldo: i32, cs: usize,
                             reverse: i32, work: usize): void {
  const step = <usize>b * <usize>h << 2;          // bytes of one (B, H) block
  const gstep = step * 4;                          // bytes of one (B, 4H) block
  const ostep = <usize>b * <usize>ldo << 2;        // bytes of one step of out
  for (let s = 0; s < t; s++) {
    const ti = step_time(s, t, reverse), tp = prev_time(ti, reverse);          // previous step in processing order
    const hPrev = s == 0 ? h0 : out + <usize>tp * ostep;
    const ldPrev = s == 0 ? h : ldo;
    const cPrev = s == 0 ? c0 : cs + <usize>tp * step;
    const g = gates + <usize>ti * gstep;
    // gates_t += h_{t−1}·W_hhᵀ
    if (packed != 0) gemm_prepacked(0, b, 4 * h, h, 1, hPrev, ldPrev, packed, 1, g, 4 * h, work);
    else gemm_nt(b, 4 * h, h, 1, hPrev, ldPrev, whh, h, 1, g, 4 * h, work);
    lstm_cell_forward(b, h, g, cPrev, cs + <usize>ti * step, out + <usize>ti * ostep, ldo);
  }
}

/**
 * The backward time loop. gates: activated gates from lstm_forward, out:
 * pre-activation gradients. cs, h0, c0, out, ldo as in the forward pass (out is
 * not read: h enters only through the weight gradients, formed by the caller).
 * dout (T, B, ·) row stride lddo: gradient of the loss w.r.t. out. dh0 and dc0
 * (B, H): in, the gradients w.r.t. the final h and c (zeros if none); out, the
 * gradients w.r.t. h0 and c0. packedT: W_hh packed by gemm_pack_b(0, 4H, H, whh,
 * H, packedT), or 0.
 */
export function lstm_backward(t: i32, b: i32, h: i32, gates: usize, cs: usize, c0: usize,
                              dout: usize, lddo: i32, whh: usize, packedT: usize,
                              dh0: usize, dc0: usize, reverse: i32, work: usize): void {
  const step = <usize>b * <usize>h << 2;
  const gstep = step * 4;
  const dstep = <usize>b * <usize>lddo << 2;
  // dh0 holds the recurrent gradient dh_rec, dc0 the carried dc, across steps.
  for (let s = t - 1; s >= 0; s--) {
    const ti = step_time(s, t, reverse), tp = prev_time(ti, reverse);
    const cPrev = s == 0 ? c0 : cs + <usize>tp * step;
    const g = gates + <usize>ti * gstep;
    lstm_cell_backward(b, h, g, cPrev, cs + <usize>ti * step, dout + <usize>ti * dstep, lddo, dh0, dc0);
    // dh_rec = dgates_t · W_hh   (B, 4H)·(4H, H)
    if (packedT != 0) gemm_prepacked(0, b, h, 4 * h, 1, g, 4 * h, packedT, 0, dh0, h, work);
    else gemm_nn(b, h, 4 * h, 1, g, 4 * h, whh, h, 0, dh0, h, work);
  }
}
