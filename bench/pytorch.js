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
 * The ways PyTorch can use `n` cores: torch's own (OpenMP) threads and its BLAS
 * (OpenBLAS with Debian's torch) each size their pools, and both at n
 * oversubscribe the cores (every BLAS call inside an operator spawns n more).
 * At n > 1 the runner tries all three splits and keeps the fastest.
 */
export function torchSplits(n) {
  if (n === 1) return [{ torch: 1, blas: 1 }];
  return [{ torch: n, blas: n }, { torch: 1, blas: n }, { torch: n, blas: 1 }];
}

/** 'torch 1 / BLAS 2': how a result's threads were split. */
export const splitLabel = (s) => `torch ${s.torch} / BLAS ${s.blas}`;

/**
 * Runs PyTorch tasks (see bench/pytorch_bench.py) and returns one result per
 * task, or nulls when PyTorch is not available. A task's `threads` is the
 * number of cores PyTorch may use; its result is the fastest split of them
 * (torchSplits), with `split` saying which and `splits` every split's figure.
 */
export function runTorch(tasks) {
  const t = findTorch();
  if (!t.python) return tasks.map(() => null);
  return tasks.map((task) => {
    let best = null;
    const splits = [];
    for (const split of torchSplits(task.threads)) {
      const r = runOne(t.python, { ...task, threads: split.torch }, split.blas);
      const speed = task.kind === 'train' ? r.tokensPerSec : 1 / r.msPerToken;
      splits.push({ split: splitLabel(split), ...(task.kind === 'train' ? { tokensPerSec: r.tokensPerSec } : { msPerToken: r.msPerToken }) });
      if (!best || speed > best.speed) best = { speed, r: { ...r, split: splitLabel(split), cores: task.threads } };
    }
    return { ...best.r, splits };
  });
}

// One process per run: OpenBLAS sizes its thread pool from the environment at
// load time, and torch.set_num_threads does not reach it.
function runOne(python, task, blasThreads) {
  const env = { ...process.env, OMP_NUM_THREADS: String(task.threads), OPENBLAS_NUM_THREADS: String(blasThreads), MKL_NUM_THREADS: String(blasThreads) };
  const r = spawnSync(python, [SCRIPT], { input: JSON.stringify([task]), encoding: 'utf8', env, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`PyTorch runner failed (${python} ${SCRIPT}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}
