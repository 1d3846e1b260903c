// How an image's gray values are brought to a common scale before the network sees it. The
// choice is part of a trained model (model.json records it), since prediction must repeat it.
import { tidy } from '../memory';
import type { Tensor } from '../tensor';

/**
 * - `zscore`: zero mean and unit variance over the image (all channels);
 * - `minmax`: the image's minimum to 0 and maximum to 1 (the authors' 2019 release);
 * - `percentile`: the 1st percentile to 0 and the 99.8th to 1, robust to a few bright pixels.
 */
export type Normalisation = 'zscore' | 'minmax' | 'percentile';

/** The normalisations, in the order the docs list them. */
export const NORMALISATIONS: readonly Normalisation[] = ['zscore', 'minmax', 'percentile'];

/** The image (C, H, W) normalised as float32 (default `zscore`). */
export function normaliseImage(image: Tensor, mode: Normalisation = 'zscore'): Tensor {
  if (!NORMALISATIONS.includes(mode))
    throw new RangeError(`normaliseImage(): 'mode' must be one of ${NORMALISATIONS.join(', ')}, got ${JSON.stringify(mode)}`);
  return tidy(() => {
    const float = image.to('float32');
    if (mode === 'zscore') {
      const std = float.std().item() as number;
      return float.sub(float.mean()).div(std > 1e-8 ? std : 1);
    }
    let low: number;
    let high: number;
    if (mode === 'minmax') {
      low = float.min().item() as number;
      high = float.max().item() as number;
    } else {
      const sorted = (float.flatten().toTypedArray() as Float32Array).slice().sort();
      const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
      low = at(0.01);
      high = at(0.998);
    }
    return float.sub(low).div(high - low > 1e-8 ? high - low : 1);
  });
}
