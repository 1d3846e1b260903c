// A small seeded random source for augmentation parameters. Each sample's parameters come from
// its own seed, independent of torch's generator, the batch size and the device.
import { describe } from '../arguments';

/** Uniform [0, 1) numbers from a 32-bit seed (mulberry32), and Gaussians from them (Box–Muller). */
export class SeededRandom {
  private state: number;

  /** A generator whose sequence `seed` (an integer, taken modulo 2^32) fixes. */
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`SeededRandom: the seed must be an integer, got ${describe(seed)}`);
    this.state = seed >>> 0;
  }

  /** The next number, uniform in [low, high). */
  uniform(low = 0, high = 1): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return low + (high - low) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }

  /** A Gaussian number of `mean` and `std`, from the next two uniform ones. */
  normal(mean = 0, std = 1): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
