// Threads: a pool of wasm instances on one shared memory, driven through a
// control block in that memory. No message passes per job.
//
// The main instance (the one the TypeScript layer calls) is thread 0. Each
// worker thread runs its own instance of the same module and waits in
// worker_next: it spins on the generation counter for a while, then sleeps on
// it (memory.atomic.wait32). A job is cut into chunks (whole tiles of the
// output). To run one, thread 0 writes its arguments, publishes the chunk
// count tagged with the job's generation, bumps the generation (waking
// sleepers if there are any), and then takes chunks itself like any worker
// until none are left; it waits only for chunks other threads have taken.
// So a worker that the OS has not scheduled (a busy machine) costs nothing:
// thread 0 does its share. Chunks write disjoint parts of the output.
//
// Results do not depend on the number of threads: chunks are whole tiles
// (8 columns or 4 rows for GEMM), and every output element is computed by the
// same instructions in the same order as by one thread.
//
// Control block (threads_control_bytes() bytes, 64-byte aligned, zeroed):
//   0 generation   4 chunks done   8 sleepers   12 shutdown   16 job kind
//   20 threads in the pool   24 workers ready   28 next chunk: (generation & 0xffff) << 16 | chunks left
//   32..128  job arguments (24 slots of 4 bytes)
//   128..    per-thread GEMM workspace pointers (MAX_THREADS slots)
//   384..    per-thread last generation seen (MAX_THREADS slots)
//
// Only the threads build (ASC_FEATURE_THREADS) has the atomics; in the other
// builds nthreads stays 1 and every kernel runs on the calling thread.

// @ts-ignore: decorator
@inline const GEN: usize = 0;
// @ts-ignore: decorator
@inline const DONE: usize = 4;
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
@inline const NEXT: usize = 28;
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
// @ts-ignore: decorator
@inline export const JOB_ROWS: i32 = 2;

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
 * Publishes the job whose arguments are in job_args(), cut into `chunks`
 * (≤ 65535) chunks, and wakes the workers. Thread 0 then takes chunks with
 * pool_take and, when pool_take returns −1, calls pool_wait.
 */
export function pool_start(kind: i32, chunks: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl;
  const gen = atomic.load<i32>(c + GEN) + 1;     // only thread 0 writes GEN
  store<i32>(c + KIND, kind);
  atomic.store<i32>(c + DONE, 0);
  atomic.store<i32>(c + NEXT, ((gen & 0xffff) << 16) | chunks);
  atomic.store<i32>(c + GEN, gen);
  if (atomic.load<i32>(c + SLEEPERS) > 0) atomic.notify(c + GEN, nthreads - 1);
}

/**
 * Takes the next chunk of the job of generation `gen` in control block `c`:
 * its index, or −1 when none is left (or that job is over).
 */
export function pool_take(c: usize, gen: i32): i32 {
  if (!ASC_FEATURE_THREADS) return -1;
  const tag = (gen & 0xffff) << 16;
  while (true) {
    const v = atomic.load<i32>(c + NEXT);
    if ((v & 0xffff0000) != tag || (v & 0xffff) == 0) return -1;
    if (atomic.cmpxchg<i32>(c + NEXT, v, v - 1) == v) return (v & 0xffff) - 1;
  }
  return -1;
}

/** Reports a taken chunk as finished. */
export function pool_chunk_done(c: usize): void {
  if (!ASC_FEATURE_THREADS) return;
  atomic.add<i32>(c + DONE, 1);
}

/** Thread 0: waits until all `chunks` chunks of the current job are finished. */
export function pool_wait(chunks: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const c = ctrl;
  while (atomic.load<i32>(c + DONE) != chunks) {
    // Spin: only chunks already taken by other threads are left.
  }
}

/** The generation of the current job (thread 0). */
export function pool_generation(): i32 {
  return ASC_FEATURE_THREADS ? atomic.load<i32>(ctrl + GEN) : 0;
}

/** The control block (thread 0). */
// @ts-ignore: decorator
@inline export function pool_ctrl(): usize {
  return ctrl;
}

/**
 * Waits for the next job in control block `c` (spin, then sleep). Returns its
 * kind, or 0 when the pool shuts down; worker_generation(c, tid) is then the
 * job's generation.
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

/** The generation of the job worker `tid` last woke for. */
export function worker_generation(c: usize, tid: i32): i32 {
  return load<i32>(c + SEEN + (<usize>tid << 2));
}

/** Called once by a worker before its first worker_next: marks it ready. */
export function worker_enter(c: usize, tid: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  store<i32>(c + SEEN + (<usize>tid << 2), atomic.load<i32>(c + GEN));
  atomic.add<i32>(c + READY, 1);
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
