// The loop a worker thread's instance runs (see threads.ts): wait for a job,
// do this thread's part, report it done; return when the pool shuts down.

import { gemm_job_part } from "./gemm";
import { pool_size_of, worker_done, worker_enter, worker_next, worker_work, ARGS, JOB_GEMM } from "./threads";

/** Joins the pool of control block `c` as thread `tid` (≥ 1); then call worker_loop. */
export function worker_start(c: usize, tid: i32): void {
  worker_enter(c, tid);
}

/** Runs jobs of control block `c` as thread `tid` (≥ 1) until the pool shuts down. */
export function worker_loop(c: usize, tid: i32): void {
  const nt = pool_size_of(c), work = worker_work(c, tid);
  while (true) {
    const kind = worker_next(c, tid);
    if (kind == 0) return;
    if (kind == JOB_GEMM) gemm_job_part(c + ARGS, tid, nt, work);
    worker_done(c);
  }
}
