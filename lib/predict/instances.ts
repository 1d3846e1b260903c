// From class probabilities to a label image: the step after the network that turns scores into
// cells. What a trained model needs here is recorded in its model.json (see model-files), so that
// prediction applies the same post-processing that validation chose.
import { checkOptions } from '../ops/options';
import { growSeeds, labelTensor, labelValues, connectedComponents, removeSmallObjects } from '../labels';
import { tidy } from '../memory';
import type { Tensor } from '../tensor';
import { tensorArg } from '../check';
import type { OutputKind, PostprocessOptions } from '../unet/model-files';

export type { OutputKind, PostprocessOptions };

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
 * Labels (H, W) int32 from class probabilities (C, H, W): cell ids 1..K for `cells` and
 * `borders`, class ids for `classes`.
 */
export function labelsFromProbabilities(probabilities: Tensor, options: PostprocessOptions): Tensor {
  tensorArg('labelsFromProbabilities', 'probabilities', probabilities);
  if (probabilities.ndim !== 3)
    throw new RangeError(`labelsFromProbabilities(): 'probabilities' must be (C, H, W), got shape [${probabilities.shape}]`);
  const [classes, height, width] = probabilities.shape as [number, number, number];
  const { kind, threshold, minSize } = checkPostprocess(options, classes);
  return tidy(() => {
    if (kind === 'classes') return probabilities.argmax(0).to('int32');
    const foreground = probabilities.select(0, 0).lt(kind === 'cells' ? 1 - threshold : 0.5);
    if (kind === 'cells') return labelTensor(removeSmallObjects(labelValues(connectedComponents(foreground)), minSize), height, width);
    // borders: seeds where the cell class is surer than the threshold (touching cells meet where
    // it dips), grown over the whole foreground (background below one half). A part of the
    // foreground that no seed reaches (a faint cell) is a cell of its own.
    const interior = probabilities.select(0, 1).gt(threshold);
    const seeds = removeSmallObjects(labelValues(connectedComponents(interior)), Math.floor(minSize / 4));
    const allowed = Uint8Array.from(labelValues(foreground));
    const grown = growSeeds(seeds, allowed, height, width);
    const unreachedMask = Int32Array.from(allowed, (v, k) => (v !== 0 && grown[k] === 0 ? 1 : 0));
    const unreached = labelValues(connectedComponents(labelTensor(unreachedMask, height, width)));
    // The unreached parts' ids follow the seeds'; removeSmallObjects numbers them all 1..n again.
    const offset = grown.reduce((max, id) => Math.max(max, id), 0);
    const cells = grown.map((id, k) => (unreached[k] === 0 ? id : offset + unreached[k]!));
    return labelTensor(removeSmallObjects(cells, minSize), height, width);
  });
}
