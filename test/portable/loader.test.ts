// The loader: build choice, precompiled modules (the workerd path), forced
// builds, and clear errors for bad sources. Runs in Node and Chromium.
import { describe, expect, it } from 'vitest';
import * as mnemo from 'mnemo';
import { REQUIRED_EXPORTS } from '../../bindings/kernels.js';

/** The bytes of a build, read the way this runtime can (fs in Node, fetch elsewhere). */
async function wasmBytes(build: mnemo.BuildName): Promise<Uint8Array> {
  const url = mnemo.defaultWasmUrl(build);
  if (typeof process !== 'undefined' && process.versions?.node) {
    const fs = await import('node:fs/promises');
    return new Uint8Array(await fs.readFile(url));
  }
  return new Uint8Array(await (await fetch(url)).arrayBuffer());
}

describe('loader', () => {
  it('auto picks relaxed SIMD exactly when the runtime validates it', async () => {
    expect(mnemo.hasSimd()).toBe(true);
    const rt = await mnemo.init();
    expect(rt.build).toBe(mnemo.hasRelaxedSimd() ? 'relaxed' : 'simd');
    expect(mnemo.chooseBuild('simd')).toBe('simd');
    console.log(`loader: auto chose '${rt.build}' (relaxed SIMD validates: ${mnemo.hasRelaxedSimd()})`);
  });

  it('accepts a precompiled WebAssembly.Module, bytes, or one source per build', async () => {
    const simd = await WebAssembly.compile(await wasmBytes('simd') as BufferSource);
    expect((await mnemo.init({ wasm: simd })).build).toBe('simd');
    expect((await mnemo.init({ wasm: await wasmBytes('relaxed') })).build).toBe('relaxed');
    const relaxed = await WebAssembly.compile(await wasmBytes('relaxed') as BufferSource);
    const rt = await mnemo.init({ wasm: { simd, relaxed } });
    expect(rt.build).toBe(mnemo.hasRelaxedSimd() ? 'relaxed' : 'simd');
    expect((await mnemo.init({ wasm: { simd, relaxed }, build: 'simd' })).build).toBe('simd');
    // Only the plain build given: auto falls back to it.
    expect((await mnemo.init({ wasm: { simd } })).build).toBe('simd');
  });

  it('names what is wrong with a source', async () => {
    const simd = await WebAssembly.compile(await wasmBytes('simd') as BufferSource);
    await expect(mnemo.init({ wasm: { simd }, build: 'relaxed' })).rejects.toThrow(/forced, but no wasm source was given/);
    await expect(mnemo.init({ wasm: simd, build: 'relaxed' })).rejects.toThrow(/is the 'simd' build/);
    await expect(mnemo.init({ wasm: new Uint8Array([1, 2, 3]) })).rejects.toThrow(mnemo.WasmLoadError);
    // A valid module that is not mnemo's.
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    await expect(mnemo.init({ wasm: empty })).rejects.toThrow(/missing exports abi_version, heap_base/);
    // A module with every export, of another kernel interface version (a stale cached .wasm).
    await expect(mnemo.init({ wasm: moduleExporting(REQUIRED_EXPORTS, 1) })).rejects.toThrow(/kernel interface 1, these bindings call 2/);
    await expect(mnemo.init({ build: 'fast' as never })).rejects.toThrow(mnemo.UnsupportedRuntimeError);
  });
});

/** A wasm module whose exports are functions () → i32 with these names, returning `value`. */
function moduleExporting(names: readonly string[], value: number): Uint8Array {
  const uleb = (n: number): number[] => { const out = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return out; };
  const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
  const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
  const utf8 = (s: string) => [...new TextEncoder().encode(s)];
  const n = names.length;
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, 0x00, 0x01, 0x7f]])),                                  // type 0: () → i32
    ...section(3, vec(Array.from({ length: n }, () => [0x00]))),                     // n functions of type 0
    ...section(7, vec(names.map((name, i) => [...uleb(name.length), ...utf8(name), 0x00, ...uleb(i)]))),
    ...section(10, vec(Array.from({ length: n }, () => { const body = [0x00, 0x41, ...uleb(value), 0x0b]; return [...uleb(body.length), ...body]; }))),
  ]);
}
