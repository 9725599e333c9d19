// The thread pool's JavaScript side: starts worker threads that each run an
// instance of the threads build on the runtime's shared memory and then stay
// inside the wasm (assembly/threads.ts); after that no message passes between
// threads. Portable: the default worker is a Web Worker made from an inline
// module (a blob: URL), which browsers (cross-origin isolated), Deno and Bun
// run; the Node entry passes a worker_threads spawner. Where there are no
// workers (workerd, a page that is not cross-origin isolated), mnemo runs on
// one thread.

import type { KernelExports } from './kernels.js';

/** What the pool needs of a worker thread. */
export interface PoolWorker {
  postMessage(message: unknown): void;
  terminate(): void;
  /** Calls `ready` once the worker has instantiated the kernels, `failed` if it could not start. */
  watch(ready: () => void, failed: (error: unknown) => void): void;
}

/** Starts one worker thread running WORKER_SOURCE. */
export type SpawnWorker = () => PoolWorker;

/** The message a worker receives: everything it needs to join the pool. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: number;
  tid: number;
}

/**
 * The worker's code, the same for Web Workers and worker_threads: on the
 * start message, instantiate the module on the shared memory, join the pool
 * (the kernels use it once every worker has), say 'ready', and run jobs until
 * the pool shuts down.
 */
export const WORKER_SOURCE = `
const port = typeof self !== 'undefined' && typeof self.postMessage === 'function'
  ? { on: (f) => { self.onmessage = (e) => f(e.data); }, post: (m) => self.postMessage(m) }
  : (() => { const p = require('node:worker_threads').parentPort;
      return { on: (f) => p.once('message', f), post: (m) => p.postMessage(m) }; })();
port.on((m) => {
  let instance;
  try {
    instance = new WebAssembly.Instance(m.module, { env: { memory: m.memory } });
  } catch (e) {
    port.post({ error: String(e && e.message || e) });
    return;
  }
  instance.exports.worker_start(m.ctrl, m.tid);
  port.post('ready');
  instance.exports.worker_loop(m.ctrl, m.tid);
});
`;

/** The Web Worker spawner, or undefined where there is no usable Worker. */
export function webWorkerSpawner(): SpawnWorker | undefined {
  if (typeof Worker !== 'function' || typeof Blob !== 'function' || typeof URL.createObjectURL !== 'function') {
    return undefined;
  }
  return () => {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    const w = new Worker(url, { type: 'module' });
    // Bun (like Node) can unreference a worker so it never keeps the process alive.
    (w as { unref?: () => void }).unref?.();
    return {
      postMessage: (m) => w.postMessage(m),
      terminate: () => { w.terminate(); URL.revokeObjectURL(url); },
      watch(ready, failed) {
        w.onmessage = (e: MessageEvent) => {
          if (e.data === 'ready') ready();
          else failed(new Error((e.data as { error?: string })?.error ?? 'unexpected message'));
        };
        w.onerror = (e) => { e.preventDefault?.(); failed(e); };
      },
    };
  };
}

/**
 * Whether this runtime can share a WebAssembly.Memory between threads: shared
 * memory exists and, in a browser, the page is cross-origin isolated (COOP
 * same-origin + COEP require-corp).
 */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer !== 'function') return false;
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return false;
  try {
    return new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true } as WebAssembly.MemoryDescriptor)
      .buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** A running pool: its workers and control block. */
export class ThreadPool {
  private readonly workers: PoolWorker[] = [];
  private closed = false;
  /** Resolves with the number of threads in use once every worker is up (or the pool gave up on them). */
  readonly ready: Promise<number>;

  /**
   * Starts `threads − 1` workers on the control block at `ctrl` (laid out by
   * the caller: workspaces filled in) and tells the kernels to use them.
   */
  constructor(private readonly kernels: KernelExports, module: WebAssembly.Module, memory: WebAssembly.Memory,
    private readonly ctrl: number, readonly threads: number, spawn: SpawnWorker) {
    kernels.threads_configure(ctrl, threads);
    const started: Promise<void>[] = [];
    try {
      for (let tid = 1; tid < threads; tid++) {
        const w = spawn();
        this.workers.push(w);
        started.push(new Promise<void>((resolve, reject) => w.watch(resolve, reject)));
        w.postMessage({ module, memory, ctrl, tid } satisfies WorkerStart);
      }
    } catch (e) {
      started.push(Promise.reject(e));
    }
    this.ready = Promise.all(started).then(() => this.closed ? 1 : threads, () => {
      // A worker that cannot start: run on one thread (same results), free the rest.
      this.close();
      return 1;
    });
  }

  /** Stops the workers; the kernels run on the calling thread from then on. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.kernels.threads_shutdown(this.ctrl);
    for (const w of this.workers) w.terminate();
  }
}
