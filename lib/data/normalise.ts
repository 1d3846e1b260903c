// How an image's gray values are brought to a common scale before the network sees it. The
// choice is part of a trained model (model.json records it), since prediction must repeat it.
// lib/raster/normalise does the same on plain arrays (the ONNX engine) and holds the facts both use.
import { tensorArg } from '../check';
import { tidy } from '../memory';
import { checkNormalisation, divisorOf, type Normalisation, percentileRange } from '../raster/normalise';
import type { Tensor } from '../tensor';

export { NORMALISATIONS, type Normalisation } from '../raster/normalise';

/** The image (C, H, W) normalised as float32 (default `zscore`). */
export function normaliseImage(image: Tensor, mode: Normalisation = 'zscore'): Tensor {
  tensorArg('normaliseImage', 'image', image);
  checkNormalisation('normaliseImage', mode);
  return tidy(() => {
    const float = image.to('float32');
    if (mode === 'zscore') return float.sub(float.mean()).div(divisorOf(float.std().item() as number));
    const [low, high] =
      mode === 'minmax'
        ? [float.min().item() as number, float.max().item() as number]
        : percentileRange((float.flatten().toTypedArray() as Float32Array).slice().sort());
    return float.sub(low).div(divisorOf(high - low));
  });
}
