// Backward of the element-wise tanh (the forward is vec_tanh in math.ts): the
// hidden layer of the fixed-window language model (src/lm/window-model.ts).

/** dx (n) = dy·(1 − y²), where y = tanh(x) was kept from the forward. dx and dy may be the same. */
export function tanh_backward(y: usize, dy: usize, dx: usize, n: i32): void {
  let i = 0;
  const one = f32x4.splat(1);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const t = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(v128.load(dy + o), f32x4.sub(one, f32x4.mul(t, t))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const t = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * (1 - t * t));
  }
}
