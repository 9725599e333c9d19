// Seeded random numbers for initialisation, dropout masks and sampling.
// xoshiro128** (Blackman & Vigna): 32-bit state words, fast in JS, and the same
// sequence in every runtime, so a seeded run repeats bit for bit.

/** A seeded generator of uniform numbers. */
export class Random {
  /**
   * s0..s3. In a typed array, not in fields: a field holding a uint32 above 2^30
   * is a heap number, and each step allocated four (filling 1.2 M weights made
   * 64 scavenges and took 207 ms; in the typed array, 4 scavenges and 85 ms, on
   * the same loaded machine).
   */
  private readonly s = new Uint32Array(4);

  /** Seeds the state with splitmix32 from `seed` (any 32-bit integer). */
  constructor(seed = 0) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (let i = 0; i < 4; i++) this.s[i] = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0]!, s1 = s[1]!, s2 = s[2]! ^ s0, s3 = s[3]! ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    s[0] = s0 ^ s3;
    s[1] = s1 ^ s2;
    s[2] = s2 ^ (s1 << 9);
    s[3] = rotl(s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** A uniform float in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Fills `out` with uniform values in [low, high). */
  fillUniform(out: Float32Array, low: number, high: number): void {
    const span = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + span * (this.nextUint32() / 4294967296);
  }

  /** The state, to save with a checkpoint. */
  getState(): [number, number, number, number] {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  /** Restores a state from getState(). */
  setState(state: readonly [number, number, number, number]): void {
    for (let i = 0; i < 4; i++) this.s[i] = state[i]! >>> 0;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
