// A seeded watershed with one-pixel lines between its basins, and the Gaussian smoothing before
// it, on plain arrays. It closes the gaps of a membrane map (ISBI 2012): a membrane the network
// draws faintly for a few pixels still separates two neurites once every pixel belongs to the
// basin of one seed and basins meet only at a line. Both compute what scipy's `gaussian_filter`
// (mode 'reflect', truncate 4) and scikit-image's `watershed(image, seeds, watershed_line=True)`
// compute, so that the reference in Python can check them (test/labels.test.ts).
import { describe } from '../arguments';
import { checkPixels } from './labels';

/** The largest smoothing σ (pixels) taken: beyond it the kernel's radius outgrows any tile. */
export const MAX_SIGMA = 64;

/** Where index `i` of a line of `n` samples reads under scipy's 'reflect' mode (d c b a | a b c d | d c b a). */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  const folded = ((i % period) + period) % period;
  return folded < n ? folded : period - 1 - folded;
}

/** The normalised Gaussian weights 0..radius (one side; the kernel is symmetric). */
function gaussianWeights(sigma: number): Float64Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const full = Float64Array.from({ length: 2 * radius + 1 }, (_, k) => Math.exp((-0.5 / (sigma * sigma)) * (k - radius) ** 2));
  const sum = full.reduce((total, w) => total + w, 0);
  return full.slice(radius).map((w) => w / sum);
}

/**
 * `values` (H × W, row-major) smoothed by a Gaussian of standard deviation `sigma` pixels along the
 * rows' axis and then the columns', edges mirrored; `sigma` 0 copies them.
 */
export function gaussianSmooth(values: ArrayLike<number>, height: number, width: number, sigma: number): Float64Array {
  checkPixels('gaussianSmooth', 'values', values, 'array-like', height, width);
  if (typeof sigma !== 'number' || !(sigma >= 0 && sigma <= MAX_SIGMA))
    throw new RangeError(`gaussianSmooth(): argument 'sigma' must be a number in [0, ${MAX_SIGMA}], got ${describe(sigma)}`);
  const out = Float64Array.from(values);
  if (sigma === 0 || height === 0 || width === 0) return out;
  const weights = gaussianWeights(sigma);
  const radius = weights.length - 1;
  // One axis at a time, as scipy does: `count` lines of `n` samples, `step` apart within a line.
  const pass = (n: number, count: number, step: number, lineStep: number): void => {
    // The line with `radius` mirrored samples either side.
    const line = new Float64Array(n + 2 * radius);
    for (let l = 0; l < count; l += 1) {
      const start = l * lineStep;
      for (let i = -radius; i < n + radius; i += 1) line[i + radius] = out[start + reflect(i, n) * step]!;
      for (let i = 0; i < n; i += 1) {
        // The symmetric form and order of scipy's correlate1d, so the last bits agree.
        const at = i + radius;
        let sum = line[at]! * weights[0]!;
        for (let j = radius; j >= 1; j -= 1) sum += (line[at - j]! + line[at + j]!) * weights[j]!;
        out[start + i * step] = sum;
      }
    }
  };
  pass(height, width, width, 1);
  pass(width, height, 1, width);
  return out;
}

function swapEntries(array: Float64Array | Int32Array, a: number, b: number): void {
  const kept = array[a]!;
  array[a] = array[b]!;
  array[b] = kept;
}

/** A binary min-heap of pixels keyed by (value, age): equal values leave in the order they came. */
class PixelQueue {
  private values = new Float64Array(1024);
  private ages = new Float64Array(1024);
  private pixels = new Int32Array(1024);
  private ids = new Int32Array(1024);
  size = 0;

  private before(a: number, b: number): boolean {
    return this.values[a]! < this.values[b]! || (this.values[a] === this.values[b] && this.ages[a]! < this.ages[b]!);
  }

  private swap(a: number, b: number): void {
    swapEntries(this.values, a, b);
    swapEntries(this.ages, a, b);
    swapEntries(this.pixels, a, b);
    swapEntries(this.ids, a, b);
  }

  push(value: number, age: number, pixel: number, id: number): void {
    if (this.size === this.values.length) {
      const grow = <T extends Float64Array | Int32Array>(array: T): T => {
        const bigger = new (array.constructor as new (n: number) => T)(array.length * 2);
        bigger.set(array);
        return bigger;
      };
      this.values = grow(this.values);
      this.ages = grow(this.ages);
      this.pixels = grow(this.pixels);
      this.ids = grow(this.ids);
    }
    let at = this.size;
    this.size += 1;
    this.values[at] = value;
    this.ages[at] = age;
    this.pixels[at] = pixel;
    this.ids[at] = id;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!this.before(at, parent)) break;
      this.swap(at, parent);
      at = parent;
    }
  }

  /** Removes the first entry and returns it. */
  pop(): { age: number; pixel: number; id: number } {
    const first = { age: this.ages[0]!, pixel: this.pixels[0]!, id: this.ids[0]! };
    this.size -= 1;
    if (this.size > 0) {
      this.swap(0, this.size);
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        const right = left + 1;
        let least = at;
        if (left < this.size && this.before(left, least)) least = left;
        if (right < this.size && this.before(right, least)) least = right;
        if (least === at) break;
        this.swap(at, least);
        at = least;
      }
    }
    return first;
  }
}

/**
 * The basins of `image` (H × W, lower is deeper) flooded from `seeds` (ids > 0), 4-connected,
 * lowest pixels first: each pixel joins the basin that reaches it first, and a pixel that a second
 * basin's pixel already touches becomes a line (id 0) instead, so no two basins touch along an edge. Every pixel is a basin's or a line's;
 * without seeds, all are 0. Returns the basins' ids (the seeds').
 */
export function seededWatershed(image: ArrayLike<number>, seeds: Int32Array, height: number, width: number): Int32Array {
  checkPixels('seededWatershed', 'image', image, 'array-like', height, width);
  checkPixels('seededWatershed', 'seeds', seeds, Int32Array, height, width);
  const out = Int32Array.from(seeds);
  const line = new Uint8Array(out.length);
  const queue = new PixelQueue();
  // Seeds enter at age 0; a pixel leaves in the order of its value, then of its age.
  for (let k = 0; k < out.length; k += 1) {
    if (!(out[k]! >= 0)) throw new RangeError(`seededWatershed(): seed ids must be >= 0, found ${out[k]}`);
    if (out[k] !== 0) queue.push(image[k]!, 0, k, out[k]!);
  }
  // Up, left, right, down: scikit-image's order, which sets the ages of ties.
  const neighbours = new Int32Array(4);
  const neighboursOf = (at: number): number => {
    const y = Math.floor(at / width);
    const x = at - y * width;
    let count = 0;
    if (y > 0) neighbours[count++] = at - width;
    if (x > 0) neighbours[count++] = at - 1;
    if (x < width - 1) neighbours[count++] = at + 1;
    if (y < height - 1) neighbours[count++] = at + width;
    return count;
  };
  let age = 0;
  while (queue.size > 0) {
    const { age: entered, pixel, id } = queue.pop();
    const seed = entered === 0;
    // A pixel is labelled when it leaves the queue, not when it enters: only then is every basin
    // that touches it known. A pixel another basin already touches is a line.
    if (out[pixel] !== 0 && !seed) continue;
    const count = neighboursOf(pixel);
    let touches = line[pixel] !== 0;
    for (let k = 0; k < count && !touches; k += 1) {
      const n = neighbours[k]!;
      touches = line[n] === 0 && out[n] !== 0 && out[n] !== id;
    }
    if (touches) line[pixel] = 1;
    else out[pixel] = id;
    // Lines pass the flood on too, as scikit-image's do.
    for (let k = 0; k < count; k += 1) {
      const n = neighbours[k]!;
      if (out[n] !== 0 || line[n] !== 0) continue;
      age += 1;
      queue.push(image[n]!, age, n, id);
    }
  }
  return out;
}
