// Embedding lookup: weight (numEmbeddings, dim) row-major, ids int32 (n).
// Ids are not checked: the TypeScript side validates 0 ≤ id < numEmbeddings.

/** out (n, dim): out[i, :] = weight[ids[i], :]. */
export function embedding_gather(weight: usize, dim: i32, ids: usize, n: i32, out: usize): void {
  const row = <usize>dim << 2;
  for (let i = 0; i < n; i++) {
    const id = <usize>load<i32>(ids + (<usize>i << 2));
    memory.copy(out + <usize>i * row, weight + id * row, row);
  }
}

/**
 * grad (numEmbeddings, dim): grad[ids[i], :] += dout[i, :] for i = 0..n−1 in
 * order (repeated ids accumulate); ids equal to paddingIdx are skipped (−1: none).
 */
export function embedding_scatter_add(dout: usize, dim: i32, ids: usize, n: i32, grad: usize,
                                      paddingIdx: i32): void {
  const row = <usize>dim << 2;
  for (let i = 0; i < n; i++) {
    const id = load<i32>(ids + (<usize>i << 2));
    if (id == paddingIdx) continue;
    const src = dout + <usize>i * row, dst = grad + <usize>id * row;
    let j = 0;
    for (; j + 4 <= dim; j += 4) {
      const o = <usize>j << 2;
      v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
    }
    for (; j < dim; j++) {
      const o = <usize>j << 2;
      store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
    }
  }
}
