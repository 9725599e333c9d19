// Bias helpers for Linear and the recurrent layers (row-major, rows × cols).

/** y[r, :] += bias[:] for every row r (y has row stride ldy floats). */
export function bias_add_rows(y: usize, ldy: i32, bias: usize, rows: i32, cols: i32): void {
  for (let r = 0; r < rows; r++) {
    const row = y + (<usize>r * <usize>ldy << 2);
    let j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o));
    }
  }
}

/** grad[:] += Σ_r g[r, :] (the bias gradient; g has row stride ldg floats). */
export function bias_grad_rows(g: usize, ldg: i32, grad: usize, rows: i32, cols: i32): void {
  let j = 0;
  // Four vectors of columns at a time, summed down the rows in registers.
  for (; j + 16 <= cols; j += 16) {
    const o = <usize>j << 2;
    let s0 = v128.load(grad + o), s1 = v128.load(grad + o, 16), s2 = v128.load(grad + o, 32), s3 = v128.load(grad + o, 48);
    for (let r = 0; r < rows; r++) {
      const p = g + (<usize>r * <usize>ldg << 2) + o;
      s0 = f32x4.add(s0, v128.load(p)); s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32)); s3 = f32x4.add(s3, v128.load(p, 48));
    }
    v128.store(grad + o, s0); v128.store(grad + o, s1, 16); v128.store(grad + o, s2, 32); v128.store(grad + o, s3, 48);
  }
  for (; j + 4 <= cols; j += 4) {
    const o = <usize>j << 2;
    let s = v128.load(grad + o);
    for (let r = 0; r < rows; r++) s = f32x4.add(s, v128.load(g + (<usize>r * <usize>ldg << 2) + o));
    v128.store(grad + o, s);
  }
  for (; j < cols; j++) {
    const o = <usize>j << 2;
    let s = load<f32>(grad + o);
    for (let r = 0; r < rows; r++) s += load<f32>(g + (<usize>r * <usize>ldg << 2) + o);
    store<f32>(grad + o, s);
  }
}
