// Fused softmax + cross-entropy, row-major logits (N, V), targets int32 (N).
//
// Forward, per row r with target t ≠ ignoreIndex:
//   m  = max_j x[j]
//   ls = log Σ_j e^(x[j] − m)            (the log-sum-exp of the shifted row)
//   loss_r = ls − (x[t] − m)             (= −log softmax(x)[t])
// rowStats (N, 2) keeps (m, ls) per row for the backward pass, so the
// probabilities are never stored. The shifted exponentials are summed in f32
// lanes over chunks of SUM_CHUNK floats and the chunk sums in f64, the log and
// the loss are taken in f64; ls is stored as f32 (it is O(log V), so f32 keeps
// it to ~1e-7 absolute). Storing m and ls apart (not m + ls) keeps backward
// exact when the logits are large: x − m is formed first, then ls subtracted.
//
// Backward: dlogits = scale·(softmax(x) − onehot(t)), softmax(x)[j] =
// e^((x[j] − m) − ls); rows with an ignored target are zero. dlogits may be
// logits itself (each element is read before it is written).
//
// Rows with an ignored target are skipped by the forward pass (their rowStats
// are set to 0 and not used). Targets are not checked: the TypeScript side
// validates 0 ≤ t < V or t = ignoreIndex.

import { exp_s, exp_v } from "./math";

// Floats of a row summed in f32 lanes before the partial sum moves to f64.
// @ts-ignore: decorator
@inline const SUM_CHUNK: i32 = 128;

// max_j x[j] over v floats (−Inf when v = 0). The vector loop uses pmax (one
// maxps; NaN-propagating f32x4.max costs several instructions in V8), which
// may skip a NaN; a NaN logit still makes the row's sum of exponentials, and
// so the loss, NaN.
function row_max(x: usize, v: i32): f32 {
  let m: f32 = -Infinity;
  let j = 0;
  if (v >= 4) {
    let mv = v128.load(x), mw = mv;
    for (j = 4; j + 8 <= v; j += 8) {
      const p = x + (<usize>j << 2);
      mv = f32x4.pmax(mv, v128.load(p));
      mw = f32x4.pmax(mw, v128.load(p, 16));
    }
    for (; j + 4 <= v; j += 4) mv = f32x4.pmax(mv, v128.load(x + (<usize>j << 2)));
    mv = f32x4.pmax(mv, mw);
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)),
      max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; j < v; j++) m = max(m, load<f32>(x + (<usize>j << 2)));
  return m;
}

// Σ_j e^(x[j] − m) over v floats, f32 lanes within a chunk, f64 across chunks.
function row_sum_exp(x: usize, v: i32, m: f32): f64 {
  const mv = f32x4.splat(m);
  let total: f64 = 0;
  let j = 0;
  while (j + 4 <= v) {
    const end = min(v, j + SUM_CHUNK);
    let acc = f32x4.splat(0), acc2 = f32x4.splat(0);
    // Two vectors per iteration share exp_v's constants (see vec_exp in math.ts).
    for (; j + 8 <= end; j += 8) {
      const p = x + (<usize>j << 2);
      acc = f32x4.add(acc, exp_v(f32x4.sub(v128.load(p), mv)));
      acc2 = f32x4.add(acc2, exp_v(f32x4.sub(v128.load(p, 16), mv)));
    }
    for (; j + 4 <= end; j += 4) acc = f32x4.add(acc, exp_v(f32x4.sub(v128.load(x + (<usize>j << 2)), mv)));
    acc = f32x4.add(acc, acc2);
    total += (<f64>f32x4.extract_lane(acc, 0) + <f64>f32x4.extract_lane(acc, 1))
      + (<f64>f32x4.extract_lane(acc, 2) + <f64>f32x4.extract_lane(acc, 3));
  }
  for (; j < v; j++) total += <f64>exp_s(load<f32>(x + (<usize>j << 2)) - m);
  return total;
}

/**
 * Σ over rows with targets[r] ≠ ignoreIndex of −log softmax(logits[r])[targets[r]];
 * logits (N, V), targets int32 (N), rowStats (N, 2) receives (max, log Σ e^(x − max)).
 */
export function softmax_xent_forward(logits: usize, targets: usize, n: i32, v: i32, ignoreIndex: i32,
                                     rowStats: usize): f64 {
  let loss: f64 = 0;
  for (let r = 0; r < n; r++) {
    const x = logits + (<usize>r * <usize>v << 2);
    const st = rowStats + (<usize>r << 3);
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) {
      store<f32>(st, 0); store<f32>(st, 0, 4);
      continue;
    }
    const m = row_max(x, v);
    const ls = Math.log(row_sum_exp(x, v, m));
    store<f32>(st, m);
    store<f32>(st, <f32>ls, 4);
    loss += ls - (<f64>load<f32>(x + (<usize>t << 2)) - <f64>m);
  }
  return loss;
}

/**
 * dlogits (N, V) = scale·(softmax(logits) − onehot(targets)), zero rows where
 * targets[r] = ignoreIndex; rowStats from softmax_xent_forward. dlogits may alias logits.
 */
export function softmax_xent_backward(logits: usize, targets: usize, n: i32, v: i32, ignoreIndex: i32,
                                      rowStats: usize, scale: f32, dlogits: usize): void {
  const sv = f32x4.splat(scale);
  for (let r = 0; r < n; r++) {
    const x = logits + (<usize>r * <usize>v << 2);
    const d = dlogits + (<usize>r * <usize>v << 2);
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) {
      memory.fill(d, 0, <usize>v << 2);
      continue;
    }
    const st = rowStats + (<usize>r << 3);
    const m = load<f32>(st), ls = load<f32>(st, 4);
    const mv = f32x4.splat(m), lv = f32x4.splat(ls);
    let j = 0;
    for (; j + 8 <= v; j += 8) {
      const o = <usize>j << 2;
      const p = exp_v(f32x4.sub(f32x4.sub(v128.load(x + o), mv), lv));
      const q = exp_v(f32x4.sub(f32x4.sub(v128.load(x + o, 16), mv), lv));
      v128.store(d + o, f32x4.mul(p, sv));
      v128.store(d + o, f32x4.mul(q, sv), 16);
    }
    for (; j + 4 <= v; j += 4) {
      const o = <usize>j << 2;
      const p = exp_v(f32x4.sub(f32x4.sub(v128.load(x + o), mv), lv));
      v128.store(d + o, f32x4.mul(p, sv));
    }
    for (; j < v; j++) {
      const o = <usize>j << 2;
      store<f32>(d + o, exp_s((load<f32>(x + o) - m) - ls) * scale);
    }
    const dt = d + (<usize>t << 2);
    store<f32>(dt, load<f32>(dt) - scale);
  }
}

/** out (N, V) = log softmax(logits) row by row: (x − max) − log Σ e^(x − max). out may alias logits. */
export function log_softmax_rows(logits: usize, n: i32, v: i32, out: usize): void {
  for (let r = 0; r < n; r++) {
    const x = logits + (<usize>r * <usize>v << 2);
    const y = out + (<usize>r * <usize>v << 2);
    const m = row_max(x, v);
    const ls = <f32>Math.log(row_sum_exp(x, v, m));
    const mv = f32x4.splat(m), lv = f32x4.splat(ls);
    let j = 0;
    for (; j + 4 <= v; j += 4) {
      const o = <usize>j << 2;
      v128.store(y + o, f32x4.sub(f32x4.sub(v128.load(x + o), mv), lv));
    }
    for (; j < v; j++) {
      const o = <usize>j << 2;
      store<f32>(y + o, (load<f32>(x + o) - m) - ls);
    }
  }
}
