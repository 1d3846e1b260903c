// From class probabilities to a label image, on plain arrays: the step after the network that
// turns scores into cells. `unet predict` (lib/predict), the ONNX engine and the browser page run
// this same code; what a trained model needs here is recorded in its model.json.
import { describe } from '../arguments';
import { checkOptions } from '../ops/options';
import type { OutputKind, PostprocessOptions, Watershed } from '../unet/model-files';
import { componentValues, growSeeds, removeSmallObjects } from './labels';
import { gaussianSmooth, MAX_SIGMA, seededWatershed } from './watershed';

/** The watershed `unet train --watershed` starts from, before calibration chooses its σ. */
const DEFAULT_WATERSHED: Readonly<Watershed> = { sigma: 2 };

/** The post-processing training starts from (calibration chooses the rest): `kind`, with the default watershed when asked. */
export function basePostprocess(kind: OutputKind, watershed: boolean): PostprocessOptions {
  return watershed ? { kind, watershed: DEFAULT_WATERSHED } : { kind };
}

/** The classes a network of an output kind has (null: any). */
export function classesOf(kind: OutputKind): number | null {
  return kind === 'cells' ? 2 : kind === 'borders' ? 3 : null;
}

/** Checks post-processing options (naming the bad one) and fills in the defaults. */
export function checkPostprocess(
  options: PostprocessOptions,
  classes?: number,
): Required<Omit<PostprocessOptions, 'watershed'>> & Pick<PostprocessOptions, 'watershed'> {
  options = checkOptions('postprocess', options, ['kind', 'threshold', 'minSize', 'watershed']);
  if (!['cells', 'borders', 'classes'].includes(options.kind))
    throw new RangeError(`postprocess: option 'kind' must be 'cells', 'borders' or 'classes', got ${JSON.stringify(options.kind)}`);
  const threshold = options.threshold ?? 0.5;
  if (!(threshold >= 0 && threshold < 1)) throw new RangeError(`postprocess: option 'threshold' must be in [0, 1), got ${threshold}`);
  const minSize = options.minSize ?? 0;
  if (!(Number.isInteger(minSize) && minSize >= 0))
    throw new RangeError(`postprocess: option 'minSize' must be an integer >= 0, got ${minSize}`);
  const expected = classesOf(options.kind);
  if (classes !== undefined && expected !== null && classes !== expected) {
    throw new RangeError(`postprocess: '${options.kind}' needs a network with ${expected} classes, this one has ${classes}`);
  }
  const { watershed } = options;
  if (watershed === undefined) return { kind: options.kind, threshold, minSize };
  if (options.kind !== 'cells') throw new RangeError(`postprocess: option 'watershed' is for kind 'cells', got '${options.kind}'`);
  const { sigma } = checkOptions('postprocess.watershed', watershed, ['sigma']);
  if (typeof sigma !== 'number' || !(sigma >= 0 && sigma <= MAX_SIGMA))
    throw new RangeError(`postprocess: option 'watershed.sigma' must be a number in [0, ${MAX_SIGMA}], got ${describe(sigma)}`);
  return { kind: options.kind, threshold, minSize, watershed: { sigma } };
}

/**
 * Labels (H × W, row-major) from class probabilities (C × H × W, planar): cell ids 1..K for
 * `cells` and `borders`, class ids for `classes`.
 */
export function labelValuesFromProbabilities(
  probabilities: Float32Array,
  classes: number,
  height: number,
  width: number,
  options: PostprocessOptions,
): Int32Array {
  const plane = height * width;
  if (probabilities.length !== classes * plane)
    throw new RangeError(`labelsFromProbabilities(): expected ${classes}×${height}×${width} probabilities, got ${probabilities.length}`);
  const { kind, threshold, minSize, watershed } = checkPostprocess(options, classes);
  if (kind === 'classes') {
    // The first class of highest probability, as argmax.
    const labels = new Int32Array(plane);
    for (let k = 0; k < plane; k += 1) {
      let best = 0;
      for (let c = 1; c < classes; c += 1) if (probabilities[c * plane + k]! > probabilities[best * plane + k]!) best = c;
      labels[k] = best;
    }
    return labels;
  }
  if (watershed !== undefined) return watershedBasins(probabilities, height, width, threshold, minSize, watershed.sigma);
  // float32 comparisons, as the tensor comparison makes them.
  const limit = Math.fround(kind === 'cells' ? 1 - threshold : 0.5);
  const foreground = new Uint8Array(plane);
  for (let k = 0; k < plane; k += 1) foreground[k] = probabilities[k]! < limit ? 1 : 0;
  if (kind === 'cells') return removeSmallObjects(componentValues(foreground, height, width), minSize);
  // borders: seeds where the cell class is surer than the threshold (touching cells meet where
  // it dips), grown over the whole foreground (background below one half). A part of the
  // foreground that no seed reaches (a faint cell) is a cell of its own.
  const seedLimit = Math.fround(threshold);
  const interior = new Uint8Array(plane);
  for (let k = 0; k < plane; k += 1) interior[k] = probabilities[plane + k]! > seedLimit ? 1 : 0;
  const seeds = removeSmallObjects(componentValues(interior, height, width), Math.floor(minSize / 4));
  const grown = growSeeds(seeds, foreground, height, width);
  const unreached = componentValues(
    Uint8Array.from(foreground, (v, k) => (v !== 0 && grown[k] === 0 ? 1 : 0)),
    height,
    width,
  );
  // The unreached parts' ids follow the seeds'; removeSmallObjects numbers them all 1..n again.
  const offset = grown.reduce((max, id) => Math.max(max, id), 0);
  const cells = grown.map((id, k) => (unreached[k] === 0 ? id : offset + unreached[k]!));
  return removeSmallObjects(cells, minSize);
}

/**
 * The cells of a membrane map: the basins of a seeded watershed of the background probability
 * smoothed by a Gaussian of σ `sigma`, seeded where the smoothed cell probability (1 − the
 * background's) passes `threshold`, seeds of fewer than `minSize` pixels dropped. The basins
 * cover the image and meet only at one-pixel lines (0), so a membrane drawn faintly for a few
 * pixels still parts two cells.
 */
function watershedBasins(
  probabilities: Float32Array,
  height: number,
  width: number,
  threshold: number,
  minSize: number,
  sigma: number,
): Int32Array {
  const plane = height * width;
  const notBackground = new Float64Array(plane);
  for (let k = 0; k < plane; k += 1) notBackground[k] = 1 - probabilities[k]!;
  const cell = gaussianSmooth(notBackground, height, width, sigma);
  const interior = new Uint8Array(plane);
  const depth = new Float64Array(plane);
  for (let k = 0; k < plane; k += 1) {
    interior[k] = cell[k]! > threshold ? 1 : 0;
    depth[k] = 1 - cell[k]!;
  }
  const seeds = removeSmallObjects(componentValues(interior, height, width), minSize);
  return seededWatershed(depth, seeds, height, width);
}

/**
 * The map of "not membrane" that the ISBI 2012 measures threshold, from class probabilities (C ×
 * H × W) and the labels `options` made of them: 1 − the background probability, and 0 on a
 * watershed's lines when `options` has one (a line is membrane at every level).
 */
export function notMembraneValues(probabilities: Float32Array, labels: Int32Array, options: PostprocessOptions): Float32Array {
  const plane = labels.length;
  const { watershed } = checkPostprocess(options);
  const map = new Float32Array(plane);
  for (let k = 0; k < plane; k += 1)
    map[k] = watershed !== undefined && labels[k] === 0 ? 0 : Math.min(1, Math.max(0, 1 - probabilities[k]!));
  return map;
}
