// GRU over a window, one layer and one direction, PyTorch's formulation
// (gates r, z, n; b_hn inside the reset product):
//   r = σ(W_ir x + b_ir + W_hr h + b_hr)
//   z = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//   h' = (1 − z) ⊙ n + z ⊙ h
//
// The caller computes gx = x·W_ihᵀ + b_ih for all T steps with one GEMM into
// `gx` (T, B, 3H). gru_forward runs the time loop: gh = h·W_hhᵀ (W_hh packed
// once) into the scratch `gh` (B, 3H), then one fused pass adds b_hh, writes h,
// overwrites gx with the activations [r, z, n] and keeps W_hn h + b_hn in
// `hn` (T, B, H) for the backward pass. gru_backward turns gx into the
// gradients of the input-side pre-activations and fills dgh (T, B, 3H) with
// those of the hidden side; the caller forms the weight and bias gradients with
// one GEMM each. Layout conventions (out/ldo, reverse, packed) as in lstm.ts.

import { gemm_nn, gemm_nt, gemm_prepacked } from "./gemm";
import { step_time, prev_time } from "./window";
import { sigmoid_s, sigmoid_v, tanh_s, tanh_v } from "./math";

/**
 * One fused GRU step over B rows. gx (B, 3H): in, input projection + b_ih; out,
 * [r, z, n]. gh (B, 3H): h_prev·W_hhᵀ (without bias). hn (B, H) out: W_hn h + b_hn.
 * hPrev row stride ldp; hOut row stride ldh.
 */
export function gru_cell_forward(b: i32, h: i32, gx: usize, gh: usize, bhh: usize, hn: usize,
                                 hPrev: usize, ldp: i32, hOut: usize, ldh: i32): void {
  const H = <usize>h << 2;
  for (let row = 0; row < b; row++) {
    const x = gx + <usize>row * 3 * H, y = gh + <usize>row * 3 * H;
    const hnr = hn + <usize>row * H, hp = hPrev + (<usize>row * <usize>ldp << 2), ho = hOut + (<usize>row * <usize>ldh << 2);
    let j = 0;
    for (; j + 4 <= h; j += 4) {
      const o = <usize>j << 2;
      const r = sigmoid_v(f32x4.add(v128.load(x + o), f32x4.add(v128.load(y + o), v128.load(bhh + o))));
      const z = sigmoid_v(f32x4.add(v128.load(x + H + o), f32x4.add(v128.load(y + H + o), v128.load(bhh + H + o))));
      const hv = f32x4.add(v128.load(y + 2 * H + o), v128.load(bhh + 2 * H + o));
      const n = tanh_v(f32x4.add(v128.load(x + 2 * H + o), f32x4.mul(r, hv)));
      const hpv = v128.load(hp + o);
      v128.store(x + o, r); v128.store(x + H + o, z); v128.store(x + 2 * H + o, n);
      v128.store(hnr + o, hv);
      v128.store(ho + o, f32x4.add(n, f32x4.mul(z, f32x4.sub(hpv, n))));
    }
    for (; j < h; j++) {
      const o = <usize>j << 2;
      const r = sigmoid_s(load<f32>(x + o) + (load<f32>(y + o) + load<f32>(bhh + o)));
      const z = sigmoid_s(load<f32>(x + H + o) + (load<f32>(y + H + o) + load<f32>(bhh + H + o)));
      const hv = load<f32>(y + 2 * H + o) + load<f32>(bhh + 2 * H + o);
      const n = tanh_s(load<f32>(x + 2 * H + o) + r * hv);
      const hpv = load<f32>(hp + o);
      store<f32>(x + o, r); store<f32>(x + H + o, z); store<f32>(x + 2 * H + o, n);
      store<f32>(hnr + o, hv);
      store<f32>(ho + o, n + z * (hpv - n));
    }
  }
}

/**
 * Backward of one step. In: gx = [r, z, n] (B, 3H), hn (B, H), hPrev (stride
 * ldp), dh = dout (stride lddo) + dhRec (B, H). Out: gx ← [dr, dz, dn]
 * pre-activation gradients of the input side, dgh (B, 3H) ← those of the
 * hidden side [dr, dz, dn ⊙ r], dhRec ← dh ⊙ z (the direct part of dh_prev).
 */
export function gru_cell_backward(b: i32, h: i32, gx: usize, hn: usize, hPrev: usize, ldp: i32,
                                  dout: usize, lddo: i32, dhRec: usize, dgh: usize): void {
  const H = <usize>h << 2;
  const one = f32x4.splat(1);
  for (let row = 0; row < b; row++) {
    const x = gx + <usize>row * 3 * H, dy = dgh + <usize>row * 3 * H;
    const hnr = hn + <usize>row * H, hp = hPrev + (<usize>row * <usize>ldp << 2);
    const d = dout + (<usize>row * <usize>lddo << 2), dr = dhRec + <usize>row * H;
    let j = 0;
    for (; j + 4 <= h; j += 4) {
      const o = <usize>j << 2;
      const r = v128.load(x + o), z = v128.load(x + H + o), n = v128.load(x + 2 * H + o);
      const dh = f32x4.add(v128.load(d + o), v128.load(dr + o));
      const dan = f32x4.mul(f32x4.mul(dh, f32x4.sub(one, z)), f32x4.sub(one, f32x4.mul(n, n)));
      const daz = f32x4.mul(f32x4.mul(dh, f32x4.sub(v128.load(hp + o), n)), f32x4.mul(z, f32x4.sub(one, z)));
      const dar = f32x4.mul(f32x4.mul(dan, v128.load(hnr + o)), f32x4.mul(r, f32x4.sub(one, r)));
      v128.store(x + o, dar); v128.store(x + H + o, daz); v128.store(x + 2 * H + o, dan);
      v128.store(dy + o, dar); v128.store(dy + H + o, daz); v128.store(dy + 2 * H + o, f32x4.mul(dan, r));
      v128.store(dr + o, f32x4.mul(dh, z));
    }
    for (; j < h; j++) {
      const o = <usize>j << 2;
      const r = load<f32>(x + o), z = load<f32>(x + H + o), n = load<f32>(x + 2 * H + o);
      const dh = load<f32>(d + o) + load<f32>(dr + o);
      const dan = dh * (1 - z) * (1 - n * n);
      const daz = dh * (load<f32>(hp + o) - n) * (z * (1 - z));
      const dar = dan * load<f32>(hnr + o) * (r * (1 - r));
      store<f32>(x + o, dar); store<f32>(x + H + o, daz); store<f32>(x + 2 * H + o, dan);
      store<f32>(dy + o, dar); store<f32>(dy + H + o, daz); store<f32>(dy + 2 * H + o, dan * r);
      store<f32>(dr + o, dh * z);
    }
  }
}

/**
 * The forward time loop. gx (T, B, 3H) in: x·W_ihᵀ + b_ih; out: [r, z, n].
 * whh (3H, H), bhh (3H); packed: W_hhᵀ packed by gemm_pack_b(1, H, 3H, whh, H,
 * packed), or 0. gh: scratch (B, 3H). hn (T, B, H) out. h0 (B, H); out row stride ldo.
 */
export function gru_forward(t: i32, b: i32, h: i32, gx: usize, whh: usize, packed: usize, bhh: usize,
                            gh: usize, hn: usize, h0: usize, out: usize, ldo: i32,
                            reverse: i32, work: usize): void {
  const step = <usize>b * <usize>h << 2;
  const ostep = <usize>b * <usize>ldo << 2;
  for (let s = 0; s < t; s++) {
    const ti = step_time(s, t, reverse), tp = prev_time(ti, reverse);
    const hPrev = s == 0 ? h0 : out + <usize>tp * ostep;
    const ldPrev = s == 0 ? h : ldo;
    if (packed != 0) gemm_prepacked(0, b, 3 * h, h, 1, hPrev, ldPrev, packed, 0, gh, 3 * h, work);
    else gemm_nt(b, 3 * h, h, 1, hPrev, ldPrev, whh, h, 0, gh, 3 * h, work);
    gru_cell_forward(b, h, gx + <usize>ti * step * 3, gh, bhh, hn + <usize>ti * step,
      hPrev, ldPrev, out + <usize>ti * ostep, ldo);
  }
}

/**
 * The backward time loop. gx: [r, z, n] from gru_forward, out: input-side
 * pre-activation gradients. hn, h0, out, ldo as in the forward pass. dout
 * (T, B, ·) row stride lddo. dgh (T, B, 3H) out. dh0 (B, H): in, the gradient
 * w.r.t. the final h; out, w.r.t. h0. packedT: W_hh packed by
 * gemm_pack_b(0, 3H, H, whh, H, packedT), or 0.
 */
export function gru_backward(t: i32, b: i32, h: i32, gx: usize, hn: usize, h0: usize, out: usize, ldo: i32,
                             dout: usize, lddo: i32, whh: usize, packedT: usize, dgh: usize, dh0: usize,
                             reverse: i32, work: usize): void {
  const step = <usize>b * <usize>h << 2;
  const ostep = <usize>b * <usize>ldo << 2;
  const dstep = <usize>b * <usize>lddo << 2;
  for (let s = t - 1; s >= 0; s--) {
    const ti = step_time(s, t, reverse), tp = prev_time(ti, reverse);
    const hPrev = s == 0 ? h0 : out + <usize>tp * ostep;
    const ldPrev = s == 0 ? h : ldo;
    const dg = dgh + <usize>ti * step * 3;
    gru_cell_backward(b, h, gx + <usize>ti * step * 3, hn + <usize>ti * step, hPrev, ldPrev,
      dout + <usize>ti * dstep, lddo, dh0, dg);
    // dh_prev = dh ⊙ z + dgh_t · W_hh   (B, 3H)·(3H, H)
    if (packedT != 0) gemm_prepacked(0, b, h, 3 * h, 1, dg, 3 * h, packedT, 1, dh0, h, work);
    else gemm_nn(b, h, 3 * h, 1, dg, 3 * h, whh, h, 1, dh0, h, work);
  }
}
