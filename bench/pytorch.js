/**
 * The optional PyTorch runner of the benchmark: finds a Python with torch
 * (MNEMO_PYTHON, then /usr/bin/python3 — Debian's python3-torch — then
 * python3 on PATH) and runs bench/pytorch_bench.py on a list of tasks in a
 * child process. Without one, every result is null and `note` says why.
 */

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./pytorch_bench.py', import.meta.url));

let found;

/** { python, version } of the first Python that imports torch, or { note } saying why there is none. */
export function findTorch() {
  if (found) return found;
  const candidates = [process.env.MNEMO_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
  const tried = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return (found = { python, version: r.stdout.trim() });
    tried.push(`${python}: ${r.error ? r.error.code : (r.stderr.trim().split('\n').pop() || `exit ${r.status}`)}`);
  }
  return (found = { note: `PyTorch skipped: no Python with torch (apt-get install python3-torch, or set MNEMO_PYTHON). Tried ${tried.join('; ')}` });
}

/**
 * Runs PyTorch tasks (see bench/pytorch_bench.py) and returns one result per
 * task, or nulls when PyTorch is not available.
 */
export function runTorch(tasks) {
  const t = findTorch();
  if (!t.python) return tasks.map(() => null);
  // One process per task: the BLAS (OpenBLAS with Debian's torch) sizes its own
  // thread pool from the environment at load time, and torch.set_num_threads
  // does not reach it; left alone it runs every core beside torch's threads.
  return tasks.map((task) => {
    const n = String(task.threads);
    const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
    const r = spawnSync(t.python, [SCRIPT], { input: JSON.stringify([task]), encoding: 'utf8', env, maxBuffer: 1 << 24 });
    if (r.status !== 0) throw new Error(`PyTorch runner failed (${t.python} ${SCRIPT}): ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  });
}
