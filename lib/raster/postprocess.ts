// From class probabilities to a label image, on plain arrays: the step after the network that
// turns scores into cells. `unet predict` (lib/predict), the ONNX engine and the browser page run
// this same code; what a trained model needs here is recorded in its model.json.
import { checkOptions } from '../ops/options';
import type { OutputKind, PostprocessOptions } from '../unet/model-files';
import { componentValues, growSeeds, removeSmallObjects } from './labels';

/** The classes a network of an output kind has (null: any). */
export function classesOf(kind: OutputKind): number | null {
  return kind === 'cells' ? 2 : kind === 'borders' ? 3 : null;
}

/** Checks post-processing options (naming the bad one) and fills in the defaults. */
export function checkPostprocess(options: PostprocessOptions, classes?: number): Required<PostprocessOptions> {
  options = checkOptions('postprocess', options, ['kind', 'threshold', 'minSize']);
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
  return { kind: options.kind, threshold, minSize };
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
  const { kind, threshold, minSize } = checkPostprocess(options, classes);
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
