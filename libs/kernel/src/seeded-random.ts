/**
 * mulberry32: a 32-bit seeded generator, small enough to read and fast enough not to show in a profile. The same
 * seed gives the same sequence, uniform in [0, 1): the simulation, the bench's synthetic log and property tests
 * draw from it so that a seed is a whole history. Not for anything secret.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
