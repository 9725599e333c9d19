// Fused softmax + cross-entropy, row-major logits (N, V), targets int32 (N).
//
// Forward, per row r with target t ≠ ignoreIndex:
//   m  = max_j x[j]
//   ls = log Σ_j e^(x[j] − m)            (the log-sum-exp of the shifted row)
//   loss_r = ls − (x[t] − m)             (= −log softmax(x)[t])
// rowStats (N, 4) keeps (m, ls) per row for the backward pass, so the
// probabilities are never stored, and the row's loss as f64 (summed in row
// order after the rows, which may run in parallel: same sum at any thread count). The shifted exponentials are summed in f32
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
import { job_args, pool_active, pool_chunk_done, pool_ctrl, pool_generation, pool_size, pool_start, pool_take, pool_wait, ARGS, JOB_ROWS } from "./threads";

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

// Rows [r0, r1) of the forward pass: rowStats[r] = (max, log Σ e^(x − max), and
// the row's loss as an f64 at byte 8).
function xent_forward_rows(r0: i32, r1: i32, logits: usize, targets: usize, v: i32, ignoreIndex: i32,
                           rowStats: usize): void {
  for (let r = r0; r < r1; r++) {
    const x = logits + (<usize>r * <usize>v << 2);
    const st = rowStats + (<usize>r << 4);
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) {
      store<f32>(st, 0); store<f32>(st, 0, 4); store<f64>(st, 0, 8);
      continue;
    }
    const m = row_max(x, v);
    const ls = Math.log(row_sum_exp(x, v, m));
    store<f32>(st, m);
    store<f32>(st, <f32>ls, 4);
    store<f64>(st, ls - (<f64>load<f32>(x + (<usize>t << 2)) - <f64>m), 8);
  }
}

/**
 * Σ over rows with targets[r] ≠ ignoreIndex of −log softmax(logits[r])[targets[r]];
 * logits (N, V), targets int32 (N), rowStats (N, 4) receives (max, log Σ e^(x − max),
 * the row's loss as f64). Rows run in parallel on a pool; the sum is in row order.
 */
export function softmax_xent_forward(logits: usize, targets: usize, n: i32, v: i32, ignoreIndex: i32,
                                     rowStats: usize): f64 {
  run_rows(OP_XENT_FORWARD, n, v, logits, targets, ignoreIndex, rowStats, 0, 0);
  let loss: f64 = 0;
  for (let r = 0; r < n; r++) {
    if (load<i32>(targets + (<usize>r << 2)) != ignoreIndex) loss += load<f64>(rowStats + (<usize>r << 4), 8);
  }
  return loss;
}

// Rows [r0, r1) of the backward pass.
function xent_backward_rows(r0: i32, r1: i32, logits: usize, targets: usize, v: i32, ignoreIndex: i32,
                            rowStats: usize, scale: f32, dlogits: usize): void {
  const sv = f32x4.splat(scale);
  for (let r = r0; r < r1; r++) {
    const x = logits + (<usize>r * <usize>v << 2);
    const d = dlogits + (<usize>r * <usize>v << 2);
    const t = load<i32>(targets + (<usize>r << 2));
    if (t == ignoreIndex) {
      memory.fill(d, 0, <usize>v << 2);
      continue;
    }
    const st = rowStats + (<usize>r << 4);
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

/**
 * dlogits (N, V) = scale·(softmax(logits) − onehot(targets)), zero rows where
 * targets[r] = ignoreIndex; rowStats from softmax_xent_forward. dlogits may alias logits.
 */
export function softmax_xent_backward(logits: usize, targets: usize, n: i32, v: i32, ignoreIndex: i32,
                                      rowStats: usize, scale: f32, dlogits: usize): void {
  run_rows(OP_XENT_BACKWARD, n, v, logits, targets, ignoreIndex, rowStats, scale, dlogits);
}

// Rows [r0, r1) of log_softmax_rows.
function log_softmax_part(r0: i32, r1: i32, logits: usize, v: i32, out: usize): void {
  for (let r = r0; r < r1; r++) {
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

/** out (N, V) = log softmax(logits) row by row: (x − max) − log Σ e^(x − max). out may alias logits. */
export function log_softmax_rows(logits: usize, n: i32, v: i32, out: usize): void {
  run_rows(OP_LOG_SOFTMAX, n, v, logits, 0, 0, 0, 0, out);
}

// ---------------------------------------------------------------------------
// Rows over the thread pool (threads.ts): chunks of whole rows, so each row is
// computed as on one thread.

// @ts-ignore: decorator
@inline const OP_XENT_FORWARD: i32 = 1;
// @ts-ignore: decorator
@inline const OP_XENT_BACKWARD: i32 = 2;
// @ts-ignore: decorator
@inline const OP_LOG_SOFTMAX: i32 = 3;
// Smallest N·V worth splitting.
// @ts-ignore: decorator
@inline const PAR_MIN_ELEMENTS: i64 = 1 << 16;

function rows_part(op: i32, r0: i32, r1: i32, v: i32, logits: usize, targets: usize, ignoreIndex: i32,
                   rowStats: usize, scale: f32, out: usize): void {
  if (op == OP_XENT_FORWARD) xent_forward_rows(r0, r1, logits, targets, v, ignoreIndex, rowStats);
  else if (op == OP_XENT_BACKWARD) xent_backward_rows(r0, r1, logits, targets, v, ignoreIndex, rowStats, scale, out);
  else log_softmax_part(r0, r1, logits, v, out);
}

function run_rows(op: i32, n: i32, v: i32, logits: usize, targets: usize, ignoreIndex: i32,
                  rowStats: usize, scale: f32, out: usize): void {
  if (!pool_active() || <i64>n * <i64>v < PAR_MIN_ELEMENTS || n < 2) {
    rows_part(op, 0, n, v, logits, targets, ignoreIndex, rowStats, scale, out);
    return;
  }
  const chunks = min(n, pool_size() * 4);
  const per = (n + chunks - 1) / chunks;
  const count = (n + per - 1) / per;
  const args = job_args();
  store<i32>(args, op); store<i32>(args, n, 4); store<i32>(args, v, 8); store<usize>(args, logits, 12);
  store<usize>(args, targets, 16); store<i32>(args, ignoreIndex, 20); store<usize>(args, rowStats, 24);
  store<f32>(args, scale, 28); store<usize>(args, out, 32); store<i32>(args, per, 36);
  pool_start(JOB_ROWS, count);
  rows_job_run(pool_ctrl(), pool_generation());
  pool_wait(count);
}

/** Takes and runs chunks of the row job of generation `gen` in control block `c` until none are left. */
export function rows_job_run(c: usize, gen: i32): void {
  const args = c + ARGS;
  while (true) {
    const i = pool_take(c, gen);
    if (i < 0) return;
    const n = load<i32>(args, 4), per = load<i32>(args, 36);
    const r0 = i * per, r1 = min(n, r0 + per);
    rows_part(load<i32>(args), r0, r1, load<i32>(args, 8), load<usize>(args, 12), load<usize>(args, 16),
      load<i32>(args, 20), load<usize>(args, 24), load<f32>(args, 28), load<usize>(args, 32));
    pool_chunk_done(c);
  }
}
