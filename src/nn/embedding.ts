// Embedding: a lookup table of vectors, as torch.nn.Embedding. weight (num, dim).

import { ShapeError } from '../errors.js';
import { Random } from '../random.js';
import type { Runtime } from '../runtime.js';
import type { Shape, Tensor } from '../tensor.js';
import { expectInt, expectShape, requireForward } from './checks.js';
import { fillNormal, nextDefaultSeed } from './init.js';
import { Module, type Parameter } from './module.js';

/** Options of Embedding (PyTorch's num_embeddings, embedding_dim, padding_idx). */
export interface EmbeddingOptions {
  numEmbeddings: number;
  embeddingDim: number;
  /** Index whose row is initialised to zeros and gets no gradient; negative counts from the end (PyTorch). */
  paddingIdx?: number | null;
  /** Seed of the initialisation (default: the next seed of a fixed sequence). */
  seed?: number;
}

/**
 * out (..., dim) = weight[ids, :]. weight ~ N(0, 1) (Box–Muller on Random(seed)),
 * the padding row zeroed, as PyTorch.
 *
 * forward() copies the ids (backward does not depend on the caller's tensor)
 * and returns a buffer owned by the layer, valid until its next forward.
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  /** The padding row (normalised to 0..numEmbeddings−1), or null. */
  readonly paddingIdx: number | null;
  /** (numEmbeddings, embeddingDim). */
  readonly weight: Parameter;
  private idsShape: Shape | null = null;
  private savedIds: Tensor<'int32'> | null = null;

  constructor(runtime: Runtime, options: EmbeddingOptions) {
    super(runtime);
    const num = expectInt(options.numEmbeddings, 'Embedding: numEmbeddings');
    const dim = expectInt(options.embeddingDim, 'Embedding: embeddingDim');
    this.numEmbeddings = num;
    this.embeddingDim = dim;
    const pad = options.paddingIdx ?? null;
    if (pad !== null && (!Number.isInteger(pad) || pad < -num || pad >= num)) {
      throw new ShapeError(`Embedding: paddingIdx must be an integer in [${-num}, ${num}) (numEmbeddings = ${num}), got ${pad}`);
    }
    this.paddingIdx = pad === null ? null : pad < 0 ? pad + num : pad;
    const rng = new Random(options.seed ?? nextDefaultSeed());
    this.weight = this.addParameter('weight', [num, dim], (v) => {
      fillNormal(rng, v);
      if (this.paddingIdx !== null) v.fill(0, this.paddingIdx * dim, (this.paddingIdx + 1) * dim);
    });
  }

  /** ids int32 (any shape) → (...ids.shape, embeddingDim). Throws ShapeError on an id out of range. */
  forward(ids: Tensor<'int32'>): Tensor {
    const rt = this.runtime;
    rt.check(ids, 'Embedding input', 'int32');
    this.idsShape = null;
    this.savedIds = null;
    const num = this.numEmbeddings, dim = this.embeddingDim, n = ids.size;
    const saved = this.buffer('ids', [n], 'int32');
    const out = this.buffer('output', [...ids.shape, dim]);
    const src = ids.data;
    for (let i = 0; i < n; i++) {
      const id = src[i]!;
      if (id < 0 || id >= num) {
        throw new ShapeError(`Embedding: token id ${id} at index ${i} is out of range [0, ${num}) (numEmbeddings = ${num})`);
      }
    }
    saved.data.set(src);
    rt.kernels.embedding_gather(this.weight.value.offset, dim, saved.offset, n, out.offset);
    this.idsShape = ids.shape;
    this.savedIds = saved;
    return out;
  }

  /**
   * Accumulates weight.grad[ids[i], :] += gradOut[i, :] (repeated ids add up;
   * the padding row gets nothing). Token ids have no gradient, so nothing is returned.
   */
  backward(gradOut: Tensor): void {
    const rt = this.runtime;
    const shape = requireForward(this.idsShape, 'Embedding');
    rt.check(gradOut, 'Embedding gradOut');
    expectShape(gradOut, [...shape, this.embeddingDim], 'Embedding: gradOut');
    const saved = this.savedIds!;
    rt.kernels.embedding_scatter_add(gradOut.offset, this.embeddingDim, saved.offset, saved.size,
      this.weight.grad.offset, this.paddingIdx ?? -1);
  }
}
