// Every random choice of a training step comes from (run seed, step, part), so that a resumed
// run repeats exactly what the uninterrupted run would have done.

function mix(value: number): number {
  // murmur3's 32-bit finaliser
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A 32-bit seed for part `part` of step `step` of the run seeded `seed`. */
export function stepSeed(seed: number, step: number, part = 0): number {
  return mix(mix(mix(seed) ^ step) ^ Math.imul(part + 1, 0x9e3779b9));
}
