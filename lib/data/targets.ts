// What the network is trained to output for a label image, and how much each pixel counts:
// the class targets and the loss weights, computed once per label image.
import { describe } from '../arguments';
import { positiveIntegerArg, tensorArg } from '../check';
import { tensor as makeTensor } from '../creation';
import { connectedComponents, labelTensor, labelValues, touchingBorders } from '../labels';
import { tidy } from '../memory';
import { where } from '../ops/compare';
import { oneOf } from '../ops/options';
import type { Tensor } from '../tensor';
import { insertGaps, weightMap, type WeightMapOptions } from '../weightmap/weight-map';

/**
 * What a label image can hold: `instances` (0 background, one id per cell: the paper's cell
 * tracking data), `mask` (a binary foreground mask, e.g. 0/255, whose connected components are
 * the cells: ISBI 2012's membranes), or `classes` (0..C-1 per pixel).
 */
export const LABEL_KINDS = ['instances', 'mask', 'classes'] as const;
/** One of `LABEL_KINDS`. */
export type LabelKind = (typeof LABEL_KINDS)[number];

/**
 * - `cells`: 2 classes, background and cell (the paper's);
 * - `borders`: 3 classes, background, cell and the border where two cells touch (the pixels of a
 *   cell within `borderWidth` of another cell). Prediction grows the cells' interiors into the
 *   borders, so touching cells come out apart.
 */
export type TargetKind = 'cells' | 'borders';

/**
 * The loss weights: `paper` (the border weight map, w0 10, σ 5, class balance), `falk2019` (the
 * authors' 2019 release: w0 50, σ 6), `balance` (class balance only) or `none` (1 everywhere).
 */
export type WeightKind = 'paper' | 'falk2019' | 'balance' | 'none';

/** How instance labels become training targets. */
export interface TargetOptions {
  /** `cells` (default) or `borders`. */
  target?: TargetKind;
  /** One-pixel background gaps between touching cells first (the authors' release; `cells` only). */
  gaps?: boolean;
  /** The weight map (default `paper`). */
  weights?: WeightKind;
  /** Border weight of the map (the weight kind's default otherwise). */
  w0?: number;
  /** Border width σ of the map, in pixels (the weight kind's default otherwise). */
  sigma?: number;
  /** `borders`: how far into a cell its border with a touching cell reaches, in pixels (default 2). */
  borderWidth?: number;
}

/** The target kinds, in the order the docs list them. */
export const TARGET_KINDS: readonly TargetKind[] = ['cells', 'borders'];
/** The weight kinds, in the order the docs list them. */
export const WEIGHT_KINDS: readonly WeightKind[] = ['paper', 'falk2019', 'balance', 'none'];
/** How far the `borders` target's border class reaches into a cell unless told, in pixels. */
export const DEFAULT_BORDER_WIDTH = 2;

/** Checks target options, naming the bad one. */
export function checkTargetOptions(options: TargetOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`target options must be an object, got ${describe(options)}`);
  if (options.target !== undefined && !TARGET_KINDS.includes(options.target))
    throw new RangeError(`option 'target' must be one of ${TARGET_KINDS.join(', ')}, got ${JSON.stringify(options.target)}`);
  if (options.weights !== undefined && !WEIGHT_KINDS.includes(options.weights))
    throw new RangeError(`option 'weights' must be one of ${WEIGHT_KINDS.join(', ')}, got ${JSON.stringify(options.weights)}`);
  if (options.gaps && options.target === 'borders')
    throw new RangeError("option 'gaps' applies to the 'cells' target; 'borders' marks touching cells as their own class instead");
  if (options.w0 !== undefined && !(options.w0 >= 0)) throw new RangeError(`option 'w0' must be >= 0, got ${options.w0}`);
  if (options.sigma !== undefined && !(options.sigma > 0)) throw new RangeError(`option 'sigma' must be > 0, got ${options.sigma}`);
  if (options.borderWidth !== undefined && !(Number.isInteger(options.borderWidth) && options.borderWidth >= 1))
    throw new RangeError(`option 'borderWidth' must be a positive integer, got ${options.borderWidth}`);
}

/** The weight map of instance labels for a weight kind. */
function weightsOf(instances: Tensor, options: TargetOptions): Tensor {
  const kind = options.weights ?? 'paper';
  const map: WeightMapOptions = { insertGaps: false };
  if (kind === 'falk2019') map.preset = 'falk2019';
  if (kind === 'balance' || kind === 'none') map.w0 = 0;
  if (kind === 'none') map.classWeights = 'none';
  if (options.w0 !== undefined && kind !== 'balance' && kind !== 'none') map.w0 = options.w0;
  if (options.sigma !== undefined) map.sigma = options.sigma;
  return weightMap(instances, map);
}

/** The classes a network needs for a label kind and target. */
export function classesFor(kind: LabelKind, options: TargetOptions, classes?: number): number {
  checkTargetOptions(options);
  if (kind === 'classes') return classes ?? 2;
  return options.target === 'borders' ? 3 : 2;
}

/** The class targets (int64), weights (float32) and true instances (int32) of a label image. */
export function trainingTargets(
  label: Tensor,
  kind: LabelKind,
  classes: number,
  options: TargetOptions = {},
): {
  /** Each pixel's class (int64, H × W). */
  target: Tensor;
  /** Each pixel's weight in the loss (float32, H × W). */
  weights: Tensor;
  /** The true objects, one id each (int32, H × W), for scoring. */
  instances: Tensor;
} {
  tensorArg('trainingTargets', 'label', label);
  oneOf('trainingTargets', 'kind', kind, LABEL_KINDS);
  positiveIntegerArg('trainingTargets', 'classes', classes);
  checkTargetOptions(options);
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
      const balance = makeTensor(
        counts.map((count) => (count > 0 ? values.length / (present * count) : 0)),
        { dtype: 'float32' },
      );
      const target = label.to('int64');
      return { target, weights: balance.index(target), instances: connectedComponents(label) };
    }
    const expected = classesFor(kind, options);
    if (classes !== expected)
      throw new RangeError(
        `'${kind}' labels train a ${expected}-class network with the '${options.target ?? 'cells'}' target, not ${classes} classes`,
      );
    const instances = kind === 'mask' ? connectedComponents(label) : label.to('int32');
    if (options.target === 'borders') {
      const [height, width] = instances.shape as [number, number];
      const values = labelValues(instances);
      const border = touchingBorders(values, height, width, options.borderWidth ?? DEFAULT_BORDER_WIDTH);
      const interiors = labelTensor(
        values.map((id, k) => (border[k] === 1 ? 0 : id)),
        height,
        width,
      );
      const borderMask = makeTensor(border).reshape([height, width]).ne(0);
      // The weight map of the interiors puts its border term on the border pixels between them.
      return { target: where(borderMask, 2, interiors.gt(0).to('int64')).to('int64'), weights: weightsOf(interiors, options), instances };
    }
    const cells = options.gaps ? insertGaps(instances) : instances;
    return { target: cells.gt(0).to('int64'), weights: weightsOf(cells, options), instances };
  });
}
