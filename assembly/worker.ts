// The loop a worker thread's instance runs (see threads.ts): wait for a job,
// take chunks of it until none are left; return when the pool shuts down.

import { gemm_job_run } from "./gemm";
import { rows_job_run } from "./loss";
import { worker_enter, worker_generation, worker_next, worker_work, JOB_GEMM, JOB_ROWS } from "./threads";

/** Joins the pool of control block `c` as thread `tid` (≥ 1); then call worker_loop. */
export function worker_start(c: usize, tid: i32): void {
  worker_enter(c, tid);
}

/** Runs jobs of control block `c` as thread `tid` (≥ 1) until the pool shuts down. */
export function worker_loop(c: usize, tid: i32): void {
  const work = worker_work(c, tid);
  while (true) {
    const kind = worker_next(c, tid);
    if (kind == 0) return;
    if (kind == JOB_GEMM) gemm_job_run(c, worker_generation(c, tid), work);
    else if (kind == JOB_ROWS) rows_job_run(c, worker_generation(c, tid));
  }
}
