// A batch of images, with their labels and weight maps, augmented in one pass on their device:
// one composed displacement field per sample, each tensor resampled once, then gray values.
import { tidy } from '../memory';
import type { Tensor } from '../tensor';
import { adjustGray, changesGray } from './gray';
import { type FieldTarget, resampleTargets } from './resample';
import { type AugmentOptions, drawTransform, type SampleTransform, transformField, validateAugmentOptions } from './transform';
import { arrayArg, objectArg, tensorArg } from '../check';

/** A batch to augment: images (N, C, H, W), and optionally labels and weight maps (N, H, W). */
export interface AugmentBatch {
  /** The images (N, C, H, W). */
  image: Tensor;
  /** Their label images (N, H, W), resampled nearest. */
  label?: Tensor;
  /** Their weight maps (N, H, W), resampled bilinear. */
  weights?: Tensor;
}

/** The augmented batch, with the fields (N, H, W, 2, float32) and the transforms that made it. */
export interface AugmentResult {
  /** The augmented images (N, C, H, W). */
  image: Tensor;
  /** The label images moved with them, when given. */
  label?: Tensor;
  /** The weight maps moved with them, when given. */
  weights?: Tensor;
  /** Each sample's displacement field (N, H, W, 2): where each output pixel is read from. */
  field: Tensor;
  /** Each sample's drawn transform, to reproduce it. */
  transforms: SampleTransform[];
}

/** Options of `augmentBatch`: what to draw, and how to interpolate the image. */
export interface AugmentBatchOptions extends AugmentOptions {
  /** Image interpolation (default 'bicubic', as the paper); labels are always nearest, weights bilinear. */
  interpolation?: 'bicubic' | 'bilinear';
}

function checkCompanion(name: 'label' | 'weights', value: Tensor | undefined, image: Tensor): void {
  if (value === undefined) return;
  const [n, , h, w] = image.shape;
  if (value.ndim !== 3 || value.shape[0] !== n || value.shape[1] !== h || value.shape[2] !== w) {
    throw new RangeError(
      `augmentBatch(): '${name}' must be (N, H, W) = [${n}, ${h}, ${w}] to match 'image' [${image.shape}], got [${value.shape}]`,
    );
  }
  if (value.device !== image.device)
    throw new TypeError(`augmentBatch(): '${name}' is on ${value.device} but 'image' is on ${image.device}`);
}

/**
 * Augments sample k of `batch` with the transform drawn from `seeds[k]`: the same seed gives the
 * same result in any batch and on any device. Labels keep their ids (nearest neighbour), weight
 * maps are resampled bilinearly, and gray-value changes touch the image only.
 */
export function augmentBatch(batch: AugmentBatch, seeds: number[], options: AugmentBatchOptions = {}): AugmentResult {
  objectArg('augmentBatch', 'batch', batch);
  tensorArg('augmentBatch', 'batch.image', batch.image);
  for (const name of ['label', 'weights'] as const) if (batch[name] !== undefined) tensorArg('augmentBatch', `batch.${name}`, batch[name]);
  arrayArg('augmentBatch', 'seeds', seeds);
  const { interpolation = 'bicubic', ...draw } = objectArg<AugmentBatchOptions>('augmentBatch', 'options', options);
  if (interpolation !== 'bicubic' && interpolation !== 'bilinear') {
    throw new RangeError(`augmentBatch(): option 'interpolation' must be 'bicubic' or 'bilinear', got ${JSON.stringify(interpolation)}`);
  }
  validateAugmentOptions(draw);
  const { image, label, weights } = batch;
  if (image.ndim !== 4 || !image.dtype.startsWith('float')) {
    throw new RangeError(`augmentBatch(): 'image' must be a floating (N, C, H, W) tensor, got ${image.dtype} [${image.shape}]`);
  }
  checkCompanion('label', label, image);
  checkCompanion('weights', weights, image);
  if (seeds.length !== image.shape[0] || !seeds.every(Number.isInteger)) {
    throw new RangeError(`augmentBatch(): 'seeds' must hold one integer per sample (${image.shape[0]}), got ${JSON.stringify(seeds)}`);
  }
  const transforms = seeds.map((seed) => drawTransform(seed, draw));
  return tidy(() => {
    const [, , height, width] = image.shape as [number, number, number, number];
    const field = transformField(transforms, height, width, image.device);
    const targets: FieldTarget[] = [{ input: image, mode: interpolation }];
    if (label) targets.push({ input: label.unsqueeze(1), mode: 'nearest' });
    if (weights) targets.push({ input: weights.unsqueeze(1), mode: 'bilinear' });
    const [resampled, ...companions] = resampleTargets(field, targets) as [Tensor, ...Tensor[]];
    const result: AugmentResult = {
      image: transforms.some(changesGray) ? adjustGray(resampled, transforms) : resampled,
      field,
      transforms,
    };
    if (label) result.label = companions.shift()!.squeeze(1);
    if (weights) result.weights = companions.shift()!.squeeze(1);
    return result;
  });
}
