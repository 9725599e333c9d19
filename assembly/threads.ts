// Threads: a pool of wasm instances on one shared memory, driven through a
// control block in that memory. No message passes per job.
//
// The main instance (the one the TypeScript layer calls) is thread 0. Each
// worker thread runs its own instance of the same module and sits in
// worker_loop: it spins on the generation counter for a while, then sleeps on
// it (memory.atomic.wait32). To run a job, thread 0 writes the job into the
// control block, sets `pending` to the number of workers, bumps the
// generation, wakes sleepers if there are any, does its own part, and spins
// until `pending` is back to 0. Every thread works on a disjoint part of the
// output, so there are no other synchronisation points.
//
// Results do not depend on the number of threads: a job is split on tile
// boundaries (8 columns or 4 rows for GEMM), and every output element is
// computed by the same instructions in the same order as by one thread.
//
// Control block (threads_control_bytes() bytes, 64-byte aligned, zeroed):
//   0 generation   4 pending   8 sleepers   12 shutdown   16 job kind
//   20 threads in the pool   24 workers ready (in their loop)
//   32..128  job arguments (24 slots of 4 bytes)
//   128..    per-thread GEMM workspace pointers (MAX_THREADS slots)
//   384..    per-thread last generation seen (MAX_THREADS slots)
//
// Only the threads build (ASC_FEATURE_THREADS) has the atomics; in the other
// builds nthreads stays 1 and every kernel runs on the calling thread.

// @ts-ignore: decorator
@inline const GEN: usize = 0;
// @ts-ignore: decorator
@inline const PENDING: usize = 4;
// @ts-ignore: decorator
@inline const SLEEPERS: usize = 8;
// @ts-ignore: decorator
@inline const SHUTDOWN: usize = 12;
// @ts-ignore: decorator
@inline const KIND: usize = 16;
// @ts-ignore: decorator
@inline export const ARGS: usize = 32;
// @ts-ignore: decorator
@inline const NTHREADS: usize = 20;
// @ts-ignore: decorator
@inline const READY: usize = 24;
// @ts-ignore: decorator
@inline const WORK: usize = 128;
// @ts-ignore: decorator
@inline const SEEN: usize = 384;
// @ts-ignore: decorator
@inline export const MAX_THREADS: i32 = 64;
// Spins on the generation counter before sleeping: about 0.1–0.3 ms, longer
// than the gap between the GEMMs of a training step, much shorter than a pause.
// @ts-ignore: decorator
@inline const SPINS: i32 = 200000;

// Job kinds.
// @ts-ignore: decorator
@inline export const JOB_GEMM: i32 = 1;

/** The control block of this instance's pool (thread 0 only), or 0. */
let ctrl: usize = 0;
/** Threads in the pool, counting the calling one. 1 = no pool. */
let nthreads: i32 = 1;

/** Bytes of the control block threads_configure() takes. */
export function threads_control_bytes(): i32 {
  return <i32>SEEN + MAX_THREADS * 4;
}

/** 1 when this build can run threads (shared memory and atomics), else 0. */
export function threads_supported(): i32 {
  return ASC_FEATURE_THREADS ? 1 : 0;
}

/**
 * Makes this instance thread 0 of a pool of `n` threads using control block
 * `c` (whose workspace slots the caller has filled). n = 1 turns the pool off.
 */
export function threads_configure(c: usize, n: i32): void {
  if (!ASC_FEATURE_THREADS || n <= 1) { ctrl = 0; nthreads = 1; return; }
  ctrl = c;
  nthreads = min(n, MAX_THREADS);
  store<i32>(c + NTHREADS, nthreads);
}

/** Threads the kernels of this instance use. */
export function threads_count(): i32 {
  return nthreads;
}

/**
 * Whether a job can be spread over the pool: there is one, and all its workers
 * are in their loop (workers start in the background; until they are all up,
 * kernels run on the calling thread, with the same results).
 */
// @ts-ignore: decorator
@inline export function pool_active(): bool {
  return ASC_FEATURE_THREADS && nthreads > 1 && atomic.load<i32>(ctrl + READY) == nthreads - 1;
}

/** Threads the kernels use right now: 1 until every worker of the pool is up. */
export function threads_active(): i32 {
  return pool_active() ? nthreads : 1;
}

/** The job argument block of the pool (valid when pool_active()). */
// @ts-ignore: decorator
@inline export function job_args(): usize {
  return ctrl + ARGS;
}

/** Threads in the pool. */
// @ts-ignore: decorator
@inline export function pool_size(): i32 {
  return nthreads;
}

/**
 * Starts the job whose arguments are in job_args() on the workers (thread 0
 * then does part 0 itself and calls pool_finish).
 */
export function pool_start(kind: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl;
  store<i32>(c + KIND, kind);
  atomic.store<i32>(c + PENDING, nthreads - 1);
  atomic.add<i32>(c + GEN, 1);
  if (atomic.load<i32>(c + SLEEPERS) > 0) atomic.notify(c + GEN, nthreads - 1);
}

/** Waits until every worker has finished its part of the current job. */
export function pool_finish(): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl;
  while (atomic.load<i32>(c + PENDING) != 0) {
    // Spin: the workers' parts are the same size as thread 0's.
  }
}

/**
 * Waits for the next job in control block `c` (spin, then sleep). Returns its
 * kind, or 0 when the pool shuts down. `seen` is the generation of the last job
 * this worker ran, kept in its slot of the block.
 */
export function worker_next(c: usize, tid: i32): i32 {
  if (!ASC_FEATURE_THREADS) return 0;
  const slot = c + SEEN + (<usize>tid << 2);
  const seen = load<i32>(slot);
  let g = atomic.load<i32>(c + GEN);
  let spins = 0;
  while (g == seen) {
    if (++spins > SPINS) {
      atomic.add<i32>(c + SLEEPERS, 1);
      memory.atomic.wait32(c + GEN, seen, -1);
      atomic.sub<i32>(c + SLEEPERS, 1);
      spins = 0;
    }
    g = atomic.load<i32>(c + GEN);
  }
  store<i32>(slot, g);
  if (atomic.load<i32>(c + SHUTDOWN) != 0) return 0;
  return load<i32>(c + KIND);
}

/** Called once by a worker before its first worker_next: marks it ready. */
export function worker_enter(c: usize, tid: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  store<i32>(c + SEEN + (<usize>tid << 2), atomic.load<i32>(c + GEN));
  atomic.add<i32>(c + READY, 1);
}

/** Tells thread 0 that this worker's part of the job is done. */
export function worker_done(c: usize): void {
  if (!ASC_FEATURE_THREADS) return;
  atomic.sub<i32>(c + PENDING, 1);
}

/** Threads in the pool of control block `c` (as seen by a worker). */
export function pool_size_of(c: usize): i32 {
  return load<i32>(c + NTHREADS);
}

/** The GEMM workspace of thread `tid` of control block `c`. */
export function worker_work(c: usize, tid: i32): usize {
  return load<usize>(c + WORK + (<usize>tid << 2));
}

/** Ends the pool: every worker returns from its loop. Call from thread 0 only. */
export function threads_shutdown(c: usize): void {
  if (!ASC_FEATURE_THREADS) return;
  atomic.store<i32>(c + SHUTDOWN, 1);
  atomic.add<i32>(c + GEN, 1);
  atomic.notify(c + GEN, MAX_THREADS);
  if (ctrl == c) { ctrl = 0; nthreads = 1; }
}
