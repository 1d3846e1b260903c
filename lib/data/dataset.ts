// Training and evaluation samples: an image (normalised per image) and its label image, with the
// class targets and weight maps the loss needs, computed once per label.
import { describe } from '../arguments';
import { arrayArg, objectArg, tensorArg } from '../check';
import { keep } from '../memory';
import type { Tensor } from '../tensor';
import type { Normalisation } from './normalise';
import { type LabelKind, trainingTargets, type TargetOptions } from './targets';

export { normaliseImage } from './normalise';
export { LABEL_KINDS, type LabelKind, trainingTargets } from './targets';

/** One image with its labels. */
export interface Sample {
  /** Names the sample in scores and output files (`loadFolder`: the file name less its extension, `name#k` for page k of a TIFF). */
  name: string;
  /** float32 (C, H, W), normalised (see `normalisation`). */
  image: Tensor;
  /** How `image` was normalised (`zscore` when not said). */
  normalisation?: Normalisation;
  /** int32 (H, W), as read. */
  label: Tensor;
}

/** A sample ready for training: class targets and the loss weights. */
export interface TrainingSample extends Sample {
  /** int64 (H, W) class per pixel. */
  target: Tensor;
  /** float32 (H, W) per-pixel loss weight (the paper's border weight map for cells). */
  weights: Tensor;
  /** int32 (H, W) instance ids (for masks and classes: connected components of the non-zero pixels). */
  instances: Tensor;
}

/**
 * `samples` checked as `fn`'s argument `name`: an array of samples, each an object with a name,
 * an image and a label (and, when `prepared`, the targets, weights and instances of
 * prepareSamples), each of them a Tensor.
 */
export function samplesArg<S extends Sample>(fn: string, name: string, samples: unknown, prepared: boolean): S[] {
  const parts = prepared ? (['image', 'label', 'target', 'weights', 'instances'] as const) : (['image', 'label'] as const);
  for (const [k, sample] of arrayArg<unknown>(fn, name, samples).entries()) {
    objectArg(fn, `${name}[${k}]`, sample);
    if (typeof (sample as Sample).name !== 'string')
      throw new TypeError(`${fn}(): argument '${name}[${k}]' must have a name (a string), got ${describe((sample as Sample).name)}`);
    for (const part of parts) tensorArg(fn, `${name}[${k}].${part}`, (sample as Record<string, unknown>)[part]);
  }
  return samples as S[];
}

/** Guesses what a label image holds: two values of which one is 0 make a mask, more make instances. */
export function guessLabelKind(label: Tensor): Exclude<LabelKind, 'classes'> {
  tensorArg('guessLabelKind', 'label', label);
  const seen = new Set<number>();
  for (const value of label.to('int32').toTypedArray() as Int32Array) {
    seen.add(value);
    if (seen.size > 2) return 'instances';
  }
  return seen.has(0) ? 'mask' : 'instances';
}

/**
 * Adds targets and weights to samples, once; the tensors stay until the samples are disposed.
 * `targets` chooses the target kind and the weight map (default: the paper's cells and weights).
 */
export function prepareSamples(
  samples: Sample[],
  kind: LabelKind | 'auto',
  classes: number,
  targets: TargetOptions = {},
): TrainingSample[] {
  return samplesArg<Sample>('prepareSamples', 'samples', samples, false).map((sample) => {
    const resolved = kind === 'auto' ? guessLabelKind(sample.label) : kind;
    const { target, weights, instances } = trainingTargets(sample.label, resolved, classes, targets);
    return { ...sample, target: keep(target), weights: keep(weights), instances: keep(instances) };
  });
}
