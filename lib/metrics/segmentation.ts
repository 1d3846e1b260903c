// Segmentation metrics: per-class IoU and Dice, pixel error, the adapted Rand error of the ISBI
// 2012 challenge (as scikit-image's `adapted_rand_error`), the warping error (Jain et al. 2010),
// and the cell tracking challenge's SEG score. Inputs are label tensors (H, W) of the same size.
import { labelTensor } from '../labels';
import { describe } from '../arguments';
import { Tensor } from '../tensor';

function values(labels: Tensor, what: string, shape?: number[]): Int32Array {
  if (!(labels instanceof Tensor)) throw new TypeError(`${what} must be a label Tensor (H, W), got ${describe(labels)}`);
  if (labels.ndim !== 2) throw new RangeError(`${what} must be a 2-d (H, W) label image, got shape [${labels.shape}]`);
  if (shape && (labels.shape[0] !== shape[0] || labels.shape[1] !== shape[1]))
    throw new RangeError(`${what} is [${labels.shape}] but the other image is [${shape}]`);
  return labels.to('int32').cpu().toTypedArray() as Int32Array;
}

/** Per-class IoU and Dice (NaN for a class in neither image) and the pixel error. */
/** Per-class overlap of a predicted class map with the true one. */
export interface ClassScores {
  /** Each class's intersection over union (Jaccard index), class 0 first. */
  iou: number[];
  /** Each class's Dice coefficient (F1 of its pixels). */
  dice: number[];
  /** The fraction of pixels whose class is wrong. */
  pixelError: number;
}

/** Scores of a predicted class map against the true one, classes 0..classes-1. */
export function classScores(predicted: Tensor, truth: Tensor, classes: number): ClassScores {
  const p = values(predicted, 'classScores(): predicted');
  const t = values(truth, 'classScores(): truth', predicted.shape);
  const intersection = new Array<number>(classes).fill(0);
  const predictedCount = new Array<number>(classes).fill(0);
  const truthCount = new Array<number>(classes).fill(0);
  let wrong = 0;
  for (let k = 0; k < p.length; k += 1) {
    const a = p[k]!;
    const b = t[k]!;
    if (a < 0 || a >= classes || b < 0 || b >= classes)
      throw new RangeError(`classScores(): labels must lie in 0..${classes - 1}, found ${a < 0 || a >= classes ? a : b}`);
    predictedCount[a]! += 1;
    truthCount[b]! += 1;
    if (a === b) intersection[a]! += 1;
    else wrong += 1;
  }
  const iou = intersection.map((both, c) => both / (predictedCount[c]! + truthCount[c]! - both));
  const dice = intersection.map((both, c) => (2 * both) / (predictedCount[c]! + truthCount[c]!));
  return { iou, dice, pixelError: wrong / p.length };
}

/**
 * The adapted Rand error, 1 - F-score of the Rand index restricted to pixels where the truth is
 * not background (0), exactly as scikit-image's `adapted_rand_error(truth, predicted)`; also
 * its precision and recall.
 */
export function adaptedRandError(
  predicted: Tensor,
  truth: Tensor,
): {
  /** 1 − the Rand F-score. */
  error: number;
  /** The pixel pairs the prediction puts in one object that the truth does too, over those the prediction does (merges lower it). */
  precision: number;
  /** The same pairs over those the truth puts in one object (splits lower it). */
  recall: number;
} {
  const p = values(predicted, 'adaptedRandError(): predicted');
  const t = values(truth, 'adaptedRandError(): truth', predicted.shape);
  const joint = new Map<number, number>();
  const rows = new Map<number, number>();
  const columns = new Map<number, number>();
  let n = 0;
  let span = 0;
  for (const value of p) span = Math.max(span, value + 1);
  for (let k = 0; k < p.length; k += 1) {
    if (t[k] === 0) continue;
    n += 1;
    const key = t[k]! * span + p[k]!;
    joint.set(key, (joint.get(key) ?? 0) + 1);
    rows.set(t[k]!, (rows.get(t[k]!) ?? 0) + 1);
    columns.set(p[k]!, (columns.get(p[k]!) ?? 0) + 1);
  }
  const squares = (counts: Map<number, number>): number => [...counts.values()].reduce((sum, c) => sum + c * c, 0) - n;
  const sumJoint = squares(joint);
  // scikit-image's naming: precision over the true segments' pairs, recall over the predicted ones'.
  const precision = sumJoint / squares(rows);
  const recall = sumJoint / squares(columns);
  return { error: 1 - (2 * precision * recall) / (precision + recall), precision, recall };
}

// Whether flipping the centre of a 3 × 3 neighbourhood (bits clockwise from the top-left, 1 =
// foreground) keeps the topology: one 8-connected foreground component and one 4-connected
// background component touch it (foreground 8-connected, background 4-connected).
const RING: [number, number][] = [
  [-1, -1],
  [-1, 0],
  [-1, 1],
  [0, 1],
  [1, 1],
  [1, 0],
  [1, -1],
  [0, -1],
];
function touchingComponents(code: number, foreground: boolean): number {
  // Foreground ring pixels join 8-connected and all touch the centre; background ones join
  // 4-connected and touch it only through its 4-neighbours (odd ring positions).
  const member = RING.map((_, k) => ((code >> k) & 1) === (foreground ? 1 : 0));
  const adjacent = (a: number, b: number): boolean => {
    const dy = Math.abs(RING[a]![0] - RING[b]![0]);
    const dx = Math.abs(RING[a]![1] - RING[b]![1]);
    return foreground ? dy <= 1 && dx <= 1 : dy + dx === 1;
  };
  const component = new Array<number>(8).fill(-1);
  let count = 0;
  for (let start = 0; start < 8; start += 1) {
    if (!member[start] || component[start] !== -1) continue;
    const stack = [start];
    component[start] = count;
    while (stack.length > 0) {
      const at = stack.pop()!;
      for (let next = 0; next < 8; next += 1) {
        if (member[next] && component[next] === -1 && adjacent(at, next)) {
          component[next] = count;
          stack.push(next);
        }
      }
    }
    count += 1;
  }
  const touching = new Set(component.filter((id, k) => id !== -1 && (foreground || k % 2 === 1)));
  return touching.size;
}

const SIMPLE = Uint8Array.from({ length: 256 }, (_, code) =>
  touchingComponents(code, true) === 1 && touchingComponents(code, false) === 1 ? 1 : 0,
);

/**
 * The warping error: the truth's foreground (> 0) is warped towards the prediction's by flipping
 * simple pixels only (never merging, splitting, creating or removing an object or hole), and the
 * pixels where the two still differ, over all pixels, are the error: mistakes of topology, not
 * of boundary position. Also the warped truth.
 */
export function warpingError(
  predicted: Tensor,
  truth: Tensor,
): {
  /** The share of pixels where the warped truth and the prediction still differ. */
  error: number;
  /** The truth warped towards the prediction. */
  warped: Tensor;
} {
  const p = values(predicted, 'warpingError(): predicted');
  const t = values(truth, 'warpingError(): truth', predicted.shape);
  const [height, width] = predicted.shape as [number, number];
  const target = Uint8Array.from(p, (v) => (v > 0 ? 1 : 0));
  const warped = Uint8Array.from(t, (v) => (v > 0 ? 1 : 0));
  const at = (y: number, x: number): number => (y >= 0 && y < height && x >= 0 && x < width ? warped[y * width + x]! : 0);
  // Pixels that differ, visited in raster order first; a flip can make a neighbour simple, so the
  // differing neighbours of every flipped pixel are visited again (until nothing changes).
  const queued = new Uint8Array(warped.length);
  let queue: number[] = [];
  for (let k = 0; k < warped.length; k += 1) {
    if (warped[k] !== target[k]) {
      queue.push(k);
      queued[k] = 1;
    }
  }
  while (queue.length > 0) {
    const next: number[] = [];
    for (const k of queue) {
      queued[k] = 0;
      if (warped[k] === target[k]) continue;
      const y = Math.floor(k / width);
      const x = k - y * width;
      let code = 0;
      for (const [bit, [dy, dx]] of RING.entries()) code |= at(y + dy, x + dx) << bit;
      if (SIMPLE[code] !== 1) continue;
      warped[k] = target[k]!;
      for (const [dy, dx] of RING) {
        const ny = y + dy;
        const nx = x + dx;
        if (ny < 0 || ny >= height || nx < 0 || nx >= width) continue;
        const n = ny * width + nx;
        if (queued[n] === 0 && warped[n] !== target[n]) {
          queued[n] = 1;
          next.push(n);
        }
      }
    }
    queue = next;
  }
  let wrong = 0;
  for (let k = 0; k < warped.length; k += 1) if (warped[k] !== target[k]) wrong += 1;
  return { error: wrong / warped.length, warped: labelTensor(Int32Array.from(warped), height, width) };
}

/**
 * The cell tracking challenge's SEG score: for each true object, the Jaccard index with the
 * predicted object that covers more than half of it (0 when none does), averaged over the true
 * objects (NaN without any).
 */
export function segScore(predicted: Tensor, truth: Tensor): number {
  const p = values(predicted, 'segScore(): predicted');
  const t = values(truth, 'segScore(): truth', predicted.shape);
  const overlap = new Map<number, Map<number, number>>();
  const truthArea = new Map<number, number>();
  const predictedArea = new Map<number, number>();
  for (let k = 0; k < p.length; k += 1) {
    if (p[k] !== 0) predictedArea.set(p[k]!, (predictedArea.get(p[k]!) ?? 0) + 1);
    if (t[k] === 0) continue;
    truthArea.set(t[k]!, (truthArea.get(t[k]!) ?? 0) + 1);
    if (p[k] === 0) continue;
    const row = overlap.get(t[k]!) ?? new Map<number, number>();
    row.set(p[k]!, (row.get(p[k]!) ?? 0) + 1);
    overlap.set(t[k]!, row);
  }
  if (truthArea.size === 0) return NaN;
  let total = 0;
  for (const [id, area] of truthArea) {
    for (const [other, both] of overlap.get(id) ?? []) {
      if (both > 0.5 * area) total += both / (area + predictedArea.get(other)! - both);
    }
  }
  return total / truthArea.size;
}
