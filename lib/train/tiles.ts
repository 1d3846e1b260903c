// Tiles for training: regions of an image read with mirroring where they leave it (the
// overlap-tile strategy's padding), drawn at random positions from the samples, optionally
// preferring positions on cells (the authors' release draws background at a tenth of the rate).
import { SeededRandom } from '../augment/random';
import { positiveIntegerArg } from '../check';
import { samplesArg, type TrainingSample } from '../data/dataset';
import { cropMirrored } from '../data/mirror';
import { tidy } from '../memory';
import { stack } from '../ops/join';
import { oneOf } from '../ops/options';
import type { Tensor } from '../tensor';

/** A batch of training tiles (N, C, S, S) with targets and weights (N, S, S). */
export interface TileBatch {
  /** The input tiles (N, C, S, S). */
  image: Tensor;
  /** The class of each of their pixels (N, S, S), int64. */
  target: Tensor;
  /** The loss weight of each of their pixels (N, S, S). */
  weights: Tensor;
}

interface Foreground {
  mask: Uint8Array;
  count: number;
}

// Which pixels of a sample are foreground (target > 0), read once per sample.
const foregroundOf = new WeakMap<TrainingSample, Foreground>();
function foreground(sample: TrainingSample): Foreground {
  let known = foregroundOf.get(sample);
  if (known === undefined) {
    const mask = tidy(() => Uint8Array.from(sample.target.gt(0).to('uint8').contiguous().toTypedArray() as Uint8Array));
    known = { mask, count: mask.reduce((sum, v) => sum + v, 0) };
    foregroundOf.set(sample, known);
  }
  return known;
}

/**
 * How a training tile's image is chosen: `area`, in proportion to the pixels it weighs (a large
 * image gives more tiles); `equal`, every image as often (a set that mixes image sizes, such as
 * DSB2018's 256² and 696 × 520 images, then trains as much on its small images as on its large).
 */
export type ImageSampling = 'area' | 'equal';

/** The image sampling kinds, for option checks and flags. */
export const IMAGE_SAMPLINGS: readonly ImageSampling[] = ['area', 'equal'];

/** How tiles are drawn unless told: images by area, centres uniform over each (train()'s defaults too). */
export const TILE_SAMPLING_DEFAULTS = {
  /** Tiles centred on background as often as on cells (the authors use 0.1). */
  backgroundWeight: 1,
  /** Images give tiles in proportion to their pixels. */
  imageSampling: 'area',
} as const satisfies { backgroundWeight: number; imageSampling: ImageSampling };

/**
 * `value` if it is a relative chance of a tile centred on background, in (0, 1] (1: uniform);
 * otherwise a RangeError naming `fn`'s option `backgroundWeight`.
 */
export function checkBackgroundWeight(fn: string, value: number): number {
  if (!(typeof value === 'number' && value > 0 && value <= 1))
    throw new RangeError(`${fn}(): option 'backgroundWeight' must be in (0, 1], got ${String(value)}`);
  return value;
}

/**
 * Draws `count` tiles of `size` × `size` with `random`. A tile's image is drawn by
 * `imageSampling` and its centre is a pixel drawn with weight 1 on foreground (target > 0) and
 * `backgroundWeight` on background; the defaults ({@link TILE_SAMPLING_DEFAULTS}) draw an image in
 * proportion to its area and a centre uniform over it. The tile is read with mirroring.
 */
export function sampleTiles(
  samples: TrainingSample[],
  count: number,
  size: number,
  random: SeededRandom,
  backgroundWeight: number = TILE_SAMPLING_DEFAULTS.backgroundWeight,
  imageSampling: ImageSampling = TILE_SAMPLING_DEFAULTS.imageSampling,
): TileBatch {
  samplesArg('sampleTiles', 'samples', samples, true);
  positiveIntegerArg('sampleTiles', 'count', count);
  positiveIntegerArg('sampleTiles', 'size', size);
  if (!(random instanceof SeededRandom)) throw new TypeError("sampleTiles(): argument 'random' must be a SeededRandom");
  checkBackgroundWeight('sampleTiles', backgroundWeight);
  oneOf('sampleTiles', 'imageSampling', imageSampling, IMAGE_SAMPLINGS);
  const weightOf = (sample: TrainingSample): number => {
    if (imageSampling === 'equal') return 1;
    const area = sample.label.numel();
    if (backgroundWeight === 1) return area;
    const { count: cells } = foreground(sample);
    return cells + backgroundWeight * (area - cells);
  };
  const weights = samples.map(weightOf);
  const total = weights.reduce((a, b) => a + b, 0);
  const picks = Array.from({ length: count }, () => {
    let remaining = random.uniform(0, total);
    let index = 0;
    while (index < samples.length - 1 && remaining >= weights[index]!) remaining -= weights[index++]!;
    const sample = samples[index]!;
    const [h, w] = sample.label.shape as [number, number];
    let y: number;
    let x: number;
    for (;;) {
      y = Math.floor(random.uniform(0, h));
      x = Math.floor(random.uniform(0, w));
      // Rejection: a background pixel is kept with probability backgroundWeight.
      if (backgroundWeight === 1 || foreground(sample).mask[y * w + x] === 1 || random.uniform() < backgroundWeight) break;
    }
    return { sample, top: y - Math.floor(size / 2), left: x - Math.floor(size / 2) };
  });
  return tidy(() => ({
    image: stack(picks.map(({ sample, top, left }) => cropMirrored(sample.image, top, left, size, size))),
    target: stack(picks.map(({ sample, top, left }) => cropMirrored(sample.target, top, left, size, size))),
    weights: stack(picks.map(({ sample, top, left }) => cropMirrored(sample.weights, top, left, size, size))),
  }));
}
