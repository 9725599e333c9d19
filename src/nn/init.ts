// Parameter initialisation shared by the layers: PyTorch's distributions drawn
// from mnemo's seeded Random, and default seeds for layers built without one.

import { Random } from '../random.js';

let seedSequence = 0x2545f491;
let skipping = 0;

/**
 * Runs `fn` with parameter initialisation off: layers built inside keep zero
 * weights (their seeds and every other random draw are unchanged). For
 * loaders, which overwrite every weight anyway: drawing 1–10 M random numbers
 * was most of the time of loading a model file.
 */
export function withoutInit<T>(fn: () => T): T {
  skipping++;
  try {
    return fn();
  } finally {
    skipping--;
  }
}

/** Whether initialisation is off (inside withoutInit). */
export function initSkipped(): boolean {
  return skipping > 0;
}

/**
 * A seed for a layer constructed without one: a fixed sequence (Weyl step,
 * murmur-mixed), so layers built in the same order get the same seeds in every
 * run, and two layers never share one by accident.
 */
export function nextDefaultSeed(): number {
  seedSequence = (seedSequence + 0x9e3779b9) >>> 0;
  let z = seedSequence;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Fills `out` with U(−bound, bound) from `rng` (PyTorch's `uniform_(-bound, bound)`). */
export function fillUniform(rng: Random, out: Float32Array, bound: number): void {
  rng.fillUniform(out, -bound, bound);
}

/** Fills `out` with N(mean, std²) from `rng` by Box–Muller (both values of each pair are used). */
export function fillNormal(rng: Random, out: Float32Array, mean = 0, std = 1): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - rng.next(); // (0, 1]: log stays finite
    const u2 = rng.next();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
}
