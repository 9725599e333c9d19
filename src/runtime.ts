// A Runtime is one instance of the kernels on one WebAssembly.Memory, with the
// arena that places every tensor in that memory. Everything a model holds —
// parameters, gradients, optimizer state, activations, scratch — lives here.

import { hasThreadsSources, loadKernels, type BuildName, type KernelExports, type LoadOptions } from '../bindings/loader.js';
import { sharedMemoryAvailable, ThreadPool, webWorkerSpawner, type SpawnWorker } from '../bindings/pool.js';
import { Arena } from './arena.js';
import { DisposedError, MnemoError, OutOfMemoryError, ShapeError } from './errors.js';
import { Tensor, shapeSize, type DType, type Shape } from './tensor.js';

const PAGE = 65536;
const MiB = 1 << 20;

/** Options of init(). */
export interface InitOptions extends LoadOptions {
  /** Upper bound of the memory in bytes (default 1 GiB, at most 4 GiB); going past it throws OutOfMemoryError. */
  maxMemory?: number;
  /** Bytes of memory to start with (default 16 MiB). */
  initialMemory?: number;
  /**
   * Threads the kernels may use (default: the machine's logical cores). More
   * than 1 needs shared wasm memory and workers: Node, Deno, Bun, and browsers
   * on cross-origin-isolated pages. Elsewhere (workerd, pages without COOP/COEP)
   * mnemo uses one thread. Results are the same bit for bit at any count.
   */
  numThreads?: number;
  /** How to start a worker thread (default: a Web Worker; the Node entry uses worker_threads). */
  spawnWorker?: SpawnWorker;
}

/** Most threads a runtime uses (the kernels' pool limit). */
export const MAX_THREADS = 64;

/** One instance of the kernels, its memory and its arena. Create with init(). */
export class Runtime {
  /** Which wasm build runs: 'simd' or 'relaxed'. */
  readonly build: BuildName;
  /** The one memory every tensor of this runtime lives in. */
  readonly memory: WebAssembly.Memory;
  /** The raw kernels (pointers and sizes; no checks). */
  readonly kernels: KernelExports;
  /** The allocator over the memory. */
  readonly arena: Arena;
  /** Byte offset of the GEMM packing workspace. */
  readonly gemmWork: number;
  private readonly scopes: Set<Tensor<DType>>[] = [];
  private pool: ThreadPool | undefined;
  /** Resolves with the number of threads in use once the worker threads are up (1 without a pool). */
  threadsReady: Promise<number> = Promise.resolve(1);

  /** Use init() instead. */
  constructor(memory: WebAssembly.Memory, kernels: KernelExports, build: BuildName, maxBytes: number) {
    this.memory = memory;
    this.kernels = kernels;
    this.build = build;
    this.arena = new Arena(memory, kernels.heap_base(), maxBytes);
    this.gemmWork = this.arena.alloc(kernels.gemm_workspace_floats() * 4);
  }

  /** Threads the kernels use now: 1 until the workers are up (they start in the background), then numThreads. */
  get threads(): number {
    return this.kernels.threads_active();
  }

  /** @internal Starts the worker threads (init() does this). */
  startThreads(n: number, module: WebAssembly.Module, spawn: SpawnWorker): void {
    const k = this.kernels;
    const ctrl = this.arena.alloc(k.threads_control_bytes());
    // Per-thread GEMM workspaces (thread 0 uses gemmWork), in the block from byte 128.
    const work = [this.gemmWork];
    for (let tid = 1; tid < n; tid++) work.push(this.arena.alloc(k.gemm_workspace_floats() * 4));
    const view = new Int32Array(this.memory.buffer, ctrl, k.threads_control_bytes() / 4);
    view.fill(0);
    view.set(work, 32);
    this.pool = new ThreadPool(k, module, this.memory, ctrl, n, spawn);
    this.threadsReady = this.pool.ready;
  }

  /**
   * Stops the worker threads (the kernels go on, on the calling thread).
   * Tensors stay usable. Node exits without it; browsers free workers on unload.
   */
  close(): void {
    this.pool?.close();
  }

  /** A new float32 tensor of the given shape, filled from `data` if given, else zeros. */
  tensor(shape: Shape, data?: ArrayLike<number>): Tensor {
    return this.make(shape, 'float32', data);
  }

  /** A new int32 tensor (token ids, targets), filled from `data` if given, else zeros. */
  intTensor(shape: Shape, data?: ArrayLike<number>): Tensor<'int32'> {
    return this.make(shape, 'int32', data);
  }

  private make<D extends DType>(shape: Shape, dtype: D, data?: ArrayLike<number>): Tensor<D> {
    const size = shapeSize(shape);
    if (data !== undefined && data.length !== size) {
      throw new ShapeError(`tensor [${shape.join(', ')}] needs ${size} values, got ${data.length}`);
    }
    const offset = data !== undefined ? this.arena.alloc(size * 4) : this.arena.allocZeroed(size * 4);
    const t = new Tensor<D>(this, offset, [...shape], dtype);
    if (data !== undefined) t.data.set(data);
    this.scopes[this.scopes.length - 1]?.add(t);
    return t;
  }

  /** A new tensor of zeros. */
  zeros(shape: Shape): Tensor {
    return this.tensor(shape);
  }

  /**
   * Runs `fn`; every tensor created inside and not returned by it (alone, or in
   * an array or a plain object's values) is disposed when it ends, even on throw.
   * Scopes nest; `fn` must be synchronous.
   */
  scope<T>(fn: () => T): T {
    const scope = new Set<Tensor<DType>>();
    this.scopes.push(scope);
    const kept = new Set<Tensor<DType>>();
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) throw new MnemoError('scope() callbacks must be synchronous (got a Promise)');
      const keep = (v: unknown): void => {
        if (v instanceof Tensor) kept.add(v);
        else if (Array.isArray(v)) v.forEach(keep);
        else if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) Object.values(v).forEach(keep);
      };
      keep(result);
    } finally {
      this.scopes.pop();
      // On throw nothing is kept: everything the scope created is freed.
      for (const t of scope) if (!kept.has(t)) t.dispose();
    }
    // Kept tensors this scope created now belong to the enclosing scope, if any.
    const parent = this.scopes[this.scopes.length - 1];
    if (parent) for (const t of scope) if (kept.has(t)) parent.add(t);
    return result;
  }

  /**
   * @internal For constructors (which cannot run in a callback because they
   * assign readonly fields): tensors created from here on are freed by
   * end(false), the construction failed (say an OutOfMemoryError halfway), so
   * it leaks nothing; end(true) keeps them, owned by the enclosing scope() if any.
   */
  track(): { end(keep: boolean): void } {
    const created = new Set<Tensor<DType>>();
    this.scopes.push(created);
    return {
      end: (keep: boolean) => {
        const i = this.scopes.lastIndexOf(created);
        if (i < 0) return;
        this.scopes.splice(i, 1);
        if (!keep) for (const t of created) t.dispose();
        else if (i > 0) for (const t of created) this.scopes[i - 1]!.add(t);
      },
    };
  }

  /** Memory statistics: bytes live in tensors, their peak, and the memory's size and maximum. */
  memoryStats(): ReturnType<Arena['stats']> {
    return this.arena.stats();
  }

  /** @internal Frees a tensor's block (called by Tensor.dispose). */
  release(t: Tensor<DType>): void {
    for (const s of this.scopes) s.delete(t);
    this.arena.release(t.offset);
  }

  /** @internal Throws unless `t` is a live tensor of this runtime with the given dtype (default float32). */
  check(t: Tensor<DType>, what: string, dtype: DType = 'float32'): void {
    if (!(t instanceof Tensor)) throw new ShapeError(`${what} must be a Tensor`);
    if (t.runtime !== this) throw new MnemoError(`${what} belongs to another runtime`);
    if (!t.isLive) throw new DisposedError(`${what} was used after dispose()`);
    if (t.dtype !== dtype) throw new ShapeError(`${what} must be a ${dtype} tensor, got ${t.dtype}`);
  }
}

/**
 * Loads the kernels and returns a Runtime. In Node, import from 'mnemo' (the
 * Node entry reads the package's wasm files); elsewhere the files are fetched
 * next to the module, or come from `wasm` (a precompiled WebAssembly.Module in
 * workerd).
 */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  const maxBytes = options.maxMemory ?? 1024 * MiB;
  if (!Number.isFinite(maxBytes) || maxBytes < PAGE || maxBytes > 4 * 1024 * MiB) {
    throw new OutOfMemoryError(`maxMemory must be between 64 KiB and 4 GiB, got ${maxBytes}`, maxBytes, 4 * 1024 * MiB);
  }
  const maxPages = Math.floor(maxBytes / PAGE);
  const initialBytes = Math.min(options.initialMemory ?? 16 * MiB, maxPages * PAGE);
  if (!Number.isFinite(initialBytes) || initialBytes < 0) {
    throw new OutOfMemoryError(`initialMemory must be a byte count, got ${options.initialMemory}`, initialBytes, maxBytes);
  }
  const threads = options.numThreads ?? defaultThreads();
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new MnemoError(`numThreads must be an integer from 1 to ${MAX_THREADS}, got ${String(options.numThreads)}`);
  }
  const spawn = options.spawnWorker ?? webWorkerSpawner();
  const shared = threads > 1 && spawn !== undefined && hasThreadsSources(options.wasm) && sharedMemoryAvailable();
  const memory = new WebAssembly.Memory({
    initial: Math.max(1, Math.ceil(initialBytes / PAGE)), maximum: maxPages, shared,
  } as WebAssembly.MemoryDescriptor);
  const { build, exports, module } = await loadKernels(memory, options);
  const runtime = new Runtime(memory, exports, build, maxPages * PAGE);
  if (shared) runtime.startThreads(threads, module, spawn!);
  return runtime;
}

/**
 * The machine's logical cores where the runtime tells them, else 1. In Deno, 1:
 * a Deno worker cannot be unreferenced, so a pool would keep the process alive
 * until close() (pass numThreads to have one anyway).
 */
function defaultThreads(): number {
  if ((globalThis as { Deno?: unknown }).Deno !== undefined) return 1;
  const n = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? Math.min(n, MAX_THREADS) : 1;
}
