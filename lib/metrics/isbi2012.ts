// The ISBI 2012 EM segmentation challenge's measures, computed from a probability map of
// "not membrane" (1 = inside a neurite) as the organisers computed them (Fiji's
// trainableSegmentation.metrics): the map is thresholded at each level, each measure is pooled
// over the slices, and the best value over the levels is kept.
//   - pixel error: 1 − the best F-score of the pixels (not membrane is the positive class);
//   - Rand error: 1 − the best F-score of the foreground-restricted Rand index (N² form): the
//     truth's membrane pixels are left out and every predicted membrane pixel counts as an object
//     of its own;
//   - warping error: the least share of pixels that still differ after the truth is warped
//     towards the prediction by topology-preserving flips;
//   - V_Rand and V_Info after thinning (the current leaderboard): the membranes of both images
//     thinned to one pixel first, then the foreground-restricted Rand F-score and its
//     information-theoretic counterpart 2·I(S;T) / (H(S) + H(T)).
import { describe } from '../arguments';
import { arrayArg } from '../check';
import { tensor } from '../creation';
import { tidy } from '../memory';
import { connectedComponents, labelValues, thin } from '../labels';
import { checkOptions } from '../ops/options';
import { Tensor } from '../tensor';
import { warpingError } from './segmentation';

/** One slice: the predicted probability of "not membrane" and the true mask (non-zero = not membrane). */
export interface IsbiSlice {
  /** Names the slice in the Rand parts. */
  name?: string;
  /** The probability of "not membrane" (H, W), in [0, 1]. */
  probability: Tensor;
  /** The true mask (H, W): non-zero where not membrane. */
  truth: Tensor;
}

/** The challenge's ten levels: 0.0, 0.1, …, 0.9. */
export const ISBI_THRESHOLDS: readonly number[] = Array.from({ length: 10 }, (_, k) => k / 10);

/** The measures `isbiScores` can compute. */
export type IsbiMeasure = 'pixelError' | 'randError' | 'warpingError' | 'vRand' | 'vInfo';
const MEASURES: readonly IsbiMeasure[] = ['pixelError', 'randError', 'warpingError', 'vRand', 'vInfo'];

/** One threshold of the sweep and each measure there (NaN for a measure not asked for). */
export interface IsbiLevel {
  /** The level: a pixel is "not membrane" where its probability is above it. */
  threshold: number;
  /** 1 − the pixel F-score at this level. */
  pixelError: number;
  /** 1 − the foreground-restricted Rand F-score at this level. */
  randError: number;
  /** The warping error at this level. */
  warpingError: number;
  /** The foreground-restricted Rand F-score after thinning, at this level. */
  vRand: number;
  /** The foreground-restricted information F-score after thinning, at this level. */
  vInfo: number;
}

/** Each measure at its best level (NaN for a measure not asked for), and every level's values. */
export interface IsbiScores {
  /** 1 − best pixel F-score. */
  pixelError: number;
  /** 1 − best foreground-restricted Rand F-score. */
  randError: number;
  /** Least warping error. */
  warpingError: number;
  /** Best foreground-restricted Rand F-score after thinning (higher is better). */
  vRand: number;
  /** Best foreground-restricted information F-score after thinning (higher is better). */
  vInfo: number;
  /** The level each best value came from. */
  bestThreshold: Record<IsbiMeasure, number>;
  /** Every threshold's values, in the order swept. */
  levels: IsbiLevel[];
  /** Where the Rand error comes from, at its best level (NaN without `randError`). */
  randParts: RandParts;
}

/**
 * The two halves of the Rand F-score (Arganda-Carreras et al. 2015): the split score
 * Σn_ij² / Σa_i² falls when a true neurite is cut in parts, the merge score Σn_ij² / Σb_j² when
 * one predicted object spans several neurites (both 1 when there is neither).
 */
export interface RandSplitMerge {
  /** Σn_ij² / Σa_i²: below 1 where a true neurite is cut in parts. */
  split: number;
  /** Σn_ij² / Σb_j²: below 1 where a predicted object spans several neurites. */
  merge: number;
}

/** The Rand error's split and merge scores pooled over the slices, and each slice's own. */
export interface RandParts extends RandSplitMerge {
  /** Each slice's own scores and Rand error, by name. */
  slices: (RandSplitMerge & {
    /** The slice's name (its file's). */
    name: string;
    /** Its own foreground-restricted Rand error. */
    randError: number;
  })[];
}

/** Counts of the foreground-restricted contingency table, summed over slices. */
interface PairCounts {
  /** Σ_i a_i² over truth objects (a_i: pixels of truth object i). */
  truth: number;
  /** Σ_j b_j² over predicted objects (b_j: their pixels inside the truth's objects) + singletons. */
  predicted: number;
  /** Σ_ij n_ij² + singletons. */
  joint: number;
}

/** Entropy sums of the same table (Σ x·ln x over the counts), for the information score. */
interface EntropyCounts {
  n: number;
  truth: number;
  predicted: number;
  joint: number;
  singletons: number;
}

function components(mask: Uint8Array, height: number, width: number): Int32Array {
  return tidy(() => labelValues(connectedComponents(tensor(mask).reshape([height, width]), 4)));
}

/** The non-zero counts of `counts`. */
function nonZero(counts: Float64Array): Float64Array {
  return counts.filter((c) => c > 0);
}

// The contingency table of truth objects (rows; truth 0 left out) against predicted objects
// (columns; predicted 0, membrane, as singletons), as the non-zero counts of each. Typed arrays
// and a sort rather than maps: calibration scores a membrane map a hundred times.
function table(
  truth: Int32Array,
  predicted: Int32Array,
): { cells: Float64Array; rows: Float64Array; columns: Float64Array; singletons: number; n: number } {
  let truthSpan = 1;
  let span = 1;
  for (let k = 0; k < truth.length; k += 1) {
    if (truth[k]! >= truthSpan) truthSpan = truth[k]! + 1;
    if (predicted[k]! >= span) span = predicted[k]! + 1;
  }
  const rows = new Float64Array(truthSpan);
  const columns = new Float64Array(span);
  const keys = new Float64Array(truth.length);
  let pairs = 0;
  let singletons = 0;
  let n = 0;
  for (let k = 0; k < truth.length; k += 1) {
    const i = truth[k]!;
    if (i === 0) continue;
    n += 1;
    rows[i]! += 1;
    const j = predicted[k]!;
    if (j === 0) {
      singletons += 1;
      continue;
    }
    columns[j]! += 1;
    keys[pairs++] = i * span + j;
  }
  const sorted = keys.subarray(0, pairs).sort();
  const cells: number[] = [];
  for (let k = 0; k < pairs; ) {
    let end = k + 1;
    while (end < pairs && sorted[end] === sorted[k]) end += 1;
    cells.push(end - k);
    k = end;
  }
  return { cells: Float64Array.from(cells), rows: nonZero(rows), columns: nonZero(columns), singletons, n };
}

function pairCounts(truth: Int32Array, predicted: Int32Array, into: PairCounts): void {
  const { cells, rows, columns, singletons } = table(truth, predicted);
  const squares = (counts: Float64Array): number => counts.reduce((sum, c) => sum + c * c, 0);
  into.truth += squares(rows);
  into.predicted += squares(columns) + singletons;
  into.joint += squares(cells) + singletons;
}

function entropyCounts(truth: Int32Array, predicted: Int32Array, into: EntropyCounts): void {
  const { cells, rows, columns, singletons, n } = table(truth, predicted);
  const xlnx = (counts: Float64Array): number => counts.reduce((sum, c) => sum + c * Math.log(c), 0);
  into.n += n;
  into.truth += xlnx(rows);
  into.predicted += xlnx(columns);
  into.joint += xlnx(cells);
  into.singletons += singletons;
}

/** F-score of the foreground-restricted Rand index from pooled counts (1 when both are empty). */
function randFScore(c: PairCounts): number {
  if (c.truth === 0 && c.predicted === 0) return 1;
  return (2 * c.joint) / (c.truth + c.predicted);
}

/** The counts of several slices summed: the challenge pools the slices before taking scores. */
function pooledCounts(slices: PairCounts[]): PairCounts {
  const sum: PairCounts = { truth: 0, predicted: 0, joint: 0 };
  for (const counts of slices) {
    sum.truth += counts.truth;
    sum.predicted += counts.predicted;
    sum.joint += counts.joint;
  }
  return sum;
}

/** Split and merge scores of the counts: without truth pixels there are no predicted ones either. */
function splitMerge(c: PairCounts): RandSplitMerge {
  if (c.truth === 0) return { split: 1, merge: 1 };
  return { split: c.joint / c.truth, merge: c.joint / c.predicted };
}

/**
 * 2·I(S;T) / (H(S) + H(T)) over the pooled table, with p = count / n: the F-score of the
 * information-theoretic split and merge scores. Singletons have p = 1/n each.
 */
function infoFScore(c: EntropyCounts): number {
  if (c.n === 0) return 1;
  const { n } = c;
  // H = −Σ p ln p with p = x / n: −(Σ x ln x) / n + ln n (for counts summing to n).
  const entropy = (sumXlnX: number): number => -sumXlnX / n + Math.log(n);
  const truthH = entropy(c.truth);
  const predictedH = entropy(c.predicted); // singletons: x = 1, x ln x = 0
  const jointH = entropy(c.joint);
  const information = truthH + predictedH - jointH;
  if (truthH + predictedH === 0) return 1;
  return (2 * information) / (truthH + predictedH);
}

function checkedSlices(
  slices: IsbiSlice[],
): { name: string; probability: Float32Array; truth: Uint8Array; height: number; width: number }[] {
  return arrayArg<IsbiSlice>('isbiScores', 'slices', slices).map((slice, k) => {
    if (slice === null || typeof slice !== 'object' || !(slice.probability instanceof Tensor) || !(slice.truth instanceof Tensor)) {
      throw new TypeError(`isbiScores(): slice ${k} must be { probability: Tensor, truth: Tensor }, got ${describe(slice)}`);
    }
    const name = slice.name ?? String(k);
    const { probability, truth } = slice;
    if (probability.ndim !== 2 || truth.ndim !== 2 || probability.shape[0] !== truth.shape[0] || probability.shape[1] !== truth.shape[1]) {
      throw new RangeError(
        `isbiScores(): slice '${name}': probability [${probability.shape}] and truth [${truth.shape}] must be 2-d images of one size`,
      );
    }
    const values = tidy(() => probability.to({ device: 'cpu', dtype: 'float32' }).contiguous().toTypedArray() as Float32Array);
    for (let k = 0; k < values.length; k += 1) {
      const v = values[k]!;
      if (!(v >= 0 && v <= 1)) throw new RangeError(`isbiScores(): slice '${name}': probabilities must lie in [0, 1], found ${v}`);
    }
    const mask = Uint8Array.from(labelValues(truth), (v) => (v > 0 ? 1 : 0));
    return { name, probability: values, truth: mask, height: probability.shape[0]!, width: probability.shape[1]! };
  });
}

/** Membrane (0) thinned to one-pixel lines: the mask with its zeros thinned, as 0/1. */
function thinnedForeground(mask: Uint8Array, height: number, width: number): Uint8Array {
  const membrane = thin(
    Uint8Array.from(mask, (v) => (v === 0 ? 1 : 0)),
    height,
    width,
  );
  return Uint8Array.from(membrane, (v) => (v === 1 ? 0 : 1));
}

/**
 * The ISBI 2012 measures of probability maps against true masks, best over `thresholds`
 * (default the challenge's ten levels 0.0–0.9; a pixel is "not membrane" when its probability
 * is above the level).
 */
export function isbiScores(
  slices: IsbiSlice[],
  options: { thresholds?: readonly number[]; measures?: readonly IsbiMeasure[] } = {},
): IsbiScores {
  options = checkOptions('isbiScores', options, ['thresholds', 'measures']);
  const thresholds = options.thresholds ?? ISBI_THRESHOLDS;
  const measures = new Set(options.measures ?? MEASURES);
  for (const measure of measures)
    if (!MEASURES.includes(measure))
      throw new RangeError(`isbiScores(): option 'measures' may hold ${MEASURES.join(', ')}, got ${JSON.stringify(measure)}`);
  const thinning = measures.has('vRand') || measures.has('vInfo');
  if (!Array.isArray(thresholds) || thresholds.length === 0 || thresholds.some((t) => typeof t !== 'number' || !(t >= 0 && t < 1))) {
    throw new RangeError(
      `isbiScores(): option 'thresholds' must be a non-empty list of numbers in [0, 1), got ${JSON.stringify(thresholds)}`,
    );
  }
  const data = checkedSlices(slices);
  const truths = data.map((s) => ({
    cells: components(s.truth, s.height, s.width),
    thinned: thinning ? components(thinnedForeground(s.truth, s.height, s.width), s.height, s.width) : null,
  }));
  // Each level's Rand counts by slice, for the parts of the best level's error.
  const randBySlice: PairCounts[][] = [];
  const levels = thresholds.map((threshold) => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    let wrong = 0;
    let pixels = 0;
    const thinnedRand: PairCounts = { truth: 0, predicted: 0, joint: 0 };
    const info: EntropyCounts = { n: 0, truth: 0, predicted: 0, joint: 0, singletons: 0 };
    const sliceRand: PairCounts[] = [];
    randBySlice.push(sliceRand);
    data.forEach((slice, k) => {
      // Plain loops: TypedArray.from with a function is many times slower, ten times a slice.
      const proposal = new Uint8Array(slice.probability.length);
      for (let i = 0; i < proposal.length; i += 1) {
        const predicted = slice.probability[i]! > threshold;
        proposal[i] = predicted ? 1 : 0;
        const truth = slice.truth[i] === 1;
        if (predicted && truth) tp += 1;
        else if (predicted) fp += 1;
        else if (truth) fn += 1;
      }
      if (measures.has('randError')) {
        const counts: PairCounts = { truth: 0, predicted: 0, joint: 0 };
        pairCounts(truths[k]!.cells, components(proposal, slice.height, slice.width), counts);
        sliceRand.push(counts);
      }
      const thinnedTruth = truths[k]!.thinned;
      if (thinnedTruth !== null) {
        const thinnedProposal = components(thinnedForeground(proposal, slice.height, slice.width), slice.height, slice.width);
        pairCounts(thinnedTruth, thinnedProposal, thinnedRand);
        entropyCounts(thinnedTruth, thinnedProposal, info);
      }
      if (measures.has('warpingError')) {
        tidy(() => {
          const shape = [slice.height, slice.width];
          wrong += warpingError(tensor(proposal).reshape(shape), tensor(slice.truth).reshape(shape)).error * proposal.length;
        });
      }
      pixels += proposal.length;
    });
    const pixelF = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
    const unless = (measure: IsbiMeasure, value: () => number): number => (measures.has(measure) ? value() : NaN);
    return {
      threshold,
      pixelError: unless('pixelError', () => 1 - pixelF),
      randError: unless('randError', () => 1 - randFScore(pooledCounts(sliceRand))),
      warpingError: unless('warpingError', () => wrong / pixels),
      vRand: unless('vRand', () => randFScore(thinnedRand)),
      vInfo: unless('vInfo', () => infoFScore(info)),
    };
  });
  const best = (
    key: 'pixelError' | 'randError' | 'warpingError' | 'vRand' | 'vInfo',
    lower: boolean,
  ): { value: number; threshold: number } =>
    levels.reduce(
      (acc, level) => ((lower ? level[key] < acc.value : level[key] > acc.value) ? { value: level[key], threshold: level.threshold } : acc),
      {
        value: levels[0]![key],
        threshold: levels[0]!.threshold,
      },
    );
  const pixel = best('pixelError', true);
  const randBest = best('randError', true);
  const warping = best('warpingError', true);
  const vRand = best('vRand', false);
  const vInfo = best('vInfo', false);
  const bestSlices = randBySlice[thresholds.indexOf(randBest.threshold)]!;
  const randParts: RandParts = measures.has('randError')
    ? {
        ...splitMerge(pooledCounts(bestSlices)),
        slices: bestSlices.map((counts, k) => ({ name: data[k]!.name, randError: 1 - randFScore(counts), ...splitMerge(counts) })),
      }
    : { split: NaN, merge: NaN, slices: [] };
  return {
    pixelError: pixel.value,
    randError: randBest.value,
    warpingError: warping.value,
    vRand: vRand.value,
    vInfo: vInfo.value,
    bestThreshold: {
      pixelError: pixel.threshold,
      randError: randBest.threshold,
      warpingError: warping.threshold,
      vRand: vRand.threshold,
      vInfo: vInfo.threshold,
    },
    levels,
    randParts,
  };
}
