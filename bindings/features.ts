// Feature probes: tiny hand-assembled modules that WebAssembly.validate accepts
// only when the runtime has the feature. Validating compiles nothing, so this
// also works where code generation from bytes is refused (workerd).

// (func (param v128 v128 v128) (result v128) ...) — shared header.
const HEADER = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
];

/** Body: f32x4.add(local 0, local 1). */
const SIMD_PROBE = new Uint8Array([...HEADER,
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0xfd, 0xe4, 0x01, 0x0b]);

/** Body: f32x4.relaxed_madd(local 0, local 1, local 2). */
const RELAXED_PROBE = new Uint8Array([...HEADER,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b]);

/** True when the runtime validates fixed-width SIMD (wasm SIMD128). */
export function hasSimd(): boolean {
  return WebAssembly.validate(SIMD_PROBE);
}

/** True when the runtime validates relaxed SIMD (`f32x4.relaxed_madd`). */
export function hasRelaxedSimd(): boolean {
  return WebAssembly.validate(RELAXED_PROBE);
}
