// Image normalisation on plain arrays, and the facts it shares with lib/data/normalise (which does
// it on tensors): the modes, the percentiles, the smallest spread divided by. In float32 at each
// step, so that the ONNX engine feeds the network what `unet predict` feeds it.
import type { ImageRaster } from './image';

/**
 * - `zscore`: zero mean and unit variance over the image (all channels);
 * - `minmax`: the image's minimum to 0 and maximum to 1 (the authors' 2019 release);
 * - `percentile`: the 1st percentile to 0 and the 99.8th to 1, robust to a few bright pixels.
 */
export type Normalisation = 'zscore' | 'minmax' | 'percentile';

/** The normalisations, in the order the docs list them. */
export const NORMALISATIONS: readonly Normalisation[] = ['zscore', 'minmax', 'percentile'];

/** `mode` if it is a normalisation; otherwise a RangeError naming `fn`'s argument 'mode'. */
export function checkNormalisation(fn: string, mode: Normalisation): Normalisation {
  if (!NORMALISATIONS.includes(mode))
    throw new RangeError(`${fn}(): 'mode' must be one of ${NORMALISATIONS.join(', ')}, got ${JSON.stringify(mode)}`);
  return mode;
}

/** The divisor for a spread of gray values: the spread, or 1 for a flat image (no division by ~0). */
export function divisorOf(spread: number): number {
  return spread > 1e-8 ? spread : 1;
}

/** The `percentile` mode's low and high values: the 1st and 99.8th percentiles of ascending `sorted`. */
export function percentileRange(sorted: ArrayLike<number>): [number, number] {
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
  return [at(0.01), at(0.998)];
}

/** The image's samples normalised as `mode` says (a new array; see `normaliseImage`). */
export function normaliseRaster(image: ImageRaster, mode: Normalisation): Float32Array {
  checkNormalisation('normaliseRaster', mode);
  const values = image.data;
  const n = values.length;
  let low: number;
  let scale: number;
  if (mode === 'zscore') {
    let sum = 0;
    for (let k = 0; k < n; k += 1) sum += values[k]!;
    const mean = sum / n;
    let squares = 0;
    for (let k = 0; k < n; k += 1) squares += (values[k]! - mean) ** 2;
    // The unbiased deviation, as torch's std().
    low = Math.fround(mean);
    scale = divisorOf(Math.fround(Math.sqrt(squares / Math.max(n - 1, 1))));
  } else if (mode === 'minmax') {
    let min = Infinity;
    let max = -Infinity;
    for (let k = 0; k < n; k += 1) {
      min = Math.min(min, values[k]!);
      max = Math.max(max, values[k]!);
    }
    low = min;
    scale = Math.fround(divisorOf(max - min));
  } else {
    const [percentileLow, high] = percentileRange(values.slice().sort());
    low = percentileLow;
    scale = Math.fround(divisorOf(high - low));
  }
  const out = new Float32Array(n);
  for (let k = 0; k < n; k += 1) out[k] = Math.fround(values[k]! - low) / scale;
  return out;
}
