// Image normalisation on plain arrays, as lib/data/normalise does it on tensors, in float32 at
// each step, so that the ONNX engine feeds the network what `unet predict` feeds it.
import type { Normalisation } from '../data/normalise';
import type { ImageRaster } from './image';

/** The image's samples normalised as `mode` says (a new array; see `normaliseImage`). */
export function normaliseRaster(image: ImageRaster, mode: Normalisation): Float32Array {
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
    const std = Math.fround(Math.sqrt(squares / Math.max(n - 1, 1)));
    low = Math.fround(mean);
    scale = std > 1e-8 ? std : 1;
  } else if (mode === 'minmax') {
    let min = Infinity;
    let max = -Infinity;
    for (let k = 0; k < n; k += 1) {
      min = Math.min(min, values[k]!);
      max = Math.max(max, values[k]!);
    }
    low = min;
    scale = Math.fround(max - min > 1e-8 ? max - min : 1);
  } else if (mode === 'percentile') {
    const sorted = values.slice().sort();
    const at = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.round(q * (n - 1))))]!;
    low = at(0.01);
    const high = at(0.998);
    scale = Math.fround(high - low > 1e-8 ? high - low : 1);
  } else {
    throw new RangeError(`normaliseRaster(): 'mode' must be zscore, minmax or percentile, got ${JSON.stringify(mode)}`);
  }
  const out = new Float32Array(n);
  for (let k = 0; k < n; k += 1) out[k] = Math.fround(values[k]! - low) / scale;
  return out;
}
