// Training and evaluation samples: an image (normalised per image) and its label image, with the
// class targets and weight maps the loss needs, computed once per label.
import { tensor as makeTensor } from '../creation';
import { keep, tidy } from '../memory';
import { native } from '../native';
import type { Tensor } from '../tensor';
import { weightMap } from '../weightmap/weight-map';

/**
 * What a label image holds: `instances` (0 background, one id per cell: the paper's cell
 * tracking data), `mask` (a binary foreground mask, e.g. 0/255, whose connected components are
 * the cells: ISBI 2012's membranes), or `classes` (0..C-1 per pixel).
 */
export type LabelKind = 'instances' | 'mask' | 'classes';

/** One image with its labels. */
export interface Sample {
  name: string;
  /** float32 (C, H, W), zero mean and unit variance over the image. */
  image: Tensor;
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

/** Zero mean, unit variance over the whole image (all channels), as float32. */
export function normaliseImage(image: Tensor): Tensor {
  return tidy(() => {
    const float = image.to('float32');
    const std = float.std().item() as number;
    return float.sub(float.mean()).div(std > 1e-8 ? std : 1);
  });
}

/** Guesses what a label image holds: two values of which one is 0 make a mask, more make instances. */
export function guessLabelKind(label: Tensor): Exclude<LabelKind, 'classes'> {
  const seen = new Set<number>();
  for (const value of label.to('int32').toTypedArray() as Int32Array) {
    seen.add(value);
    if (seen.size > 2) return 'instances';
  }
  return seen.has(0) ? 'mask' : 'instances';
}

/** The class targets, weights and instances of a label image. */
export function trainingTargets(label: Tensor, kind: LabelKind, classes: number): { target: Tensor; weights: Tensor; instances: Tensor } {
  return tidy(() => {
    if (kind === 'classes') {
      const values = label.to('int32').toTypedArray() as Int32Array;
      const counts = new Array<number>(classes).fill(0);
      for (const value of values) {
        if (value < 0 || value >= classes) throw new RangeError(`class labels must lie in 0..${classes - 1}, found ${value}`);
        counts[value]! += 1;
      }
      // Class balance only: N / (C · n_c) for the classes present.
      const present = counts.filter((count) => count > 0).length;
      const balance = makeTensor(counts.map((count) => (count > 0 ? values.length / (present * count) : 0)), { dtype: 'float32' });
      const target = label.to('int64');
      return { target, weights: balance.index(target), instances: native.connectedComponents(label.gt(0), 4) };
    }
    if (classes !== 2) throw new RangeError(`'${kind}' labels train a 2-class network (background, cell), not ${classes} classes`);
    const instances = kind === 'mask' ? native.connectedComponents(label.gt(0), 4) : label.to('int32');
    return { target: instances.gt(0).to('int64'), weights: weightMap(instances), instances };
  });
}

/** Adds targets and weights to samples, once; the tensors stay until the samples are disposed. */
export function prepareSamples(samples: Sample[], kind: LabelKind | 'auto', classes: number): TrainingSample[] {
  return samples.map((sample) => {
    const resolved = kind === 'auto' ? guessLabelKind(sample.label) : kind;
    const { target, weights, instances } = trainingTargets(sample.label, resolved, classes);
    return { ...sample, target: keep(target), weights: keep(weights), instances: keep(instances) };
  });
}
