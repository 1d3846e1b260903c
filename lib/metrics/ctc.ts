// The cell tracking challenge's segmentation and detection measures, as its evaluation tools
// (SEGMeasure, DETMeasure) define them: SEG pooled over every reference object of every frame,
// DET from the AOGM-D graph edits. Frames are (predicted, reference) pairs of instance labels.
import { describe } from '../arguments';
import { arrayArg } from '../check';
import { labelValues } from '../labels';
import { Tensor } from '../tensor';

/** One frame: predicted and reference instance ids (H, W), 0 = background / not annotated. */
export interface CtcFrame {
  /** Names the frame in the scores. */
  name?: string;
  /** The predicted objects' ids. */
  predicted: Tensor | Int32Array;
  /** The reference objects' ids, the same size. */
  reference: Tensor | Int32Array;
}

/** What one frame contributes to SEG and DET. */
export interface CtcFrameScores {
  /** The frame's name. */
  name: string;
  /** Reference objects in the frame. */
  objects: number;
  /** Sum of the reference objects' Jaccard indices (0 for an unmatched one). */
  jaccardSum: number;
  /** The frame's own SEG (jaccardSum / objects; NaN without objects). */
  seg: number;
  /** Reference objects no predicted object matches (> half of their pixels). */
  falseNegatives: number;
  /** Predicted objects that match no reference object. */
  falsePositives: number;
  /** Splits needed: for each predicted object matching m > 1 reference objects, m − 1. */
  splits: number;
}

/** SEG and DET over frames. */
export interface CtcScores {
  /** Σ Jaccard over every reference object of every frame / their number (pooled, as SEGMeasure). */
  seg: number;
  /** 1 − min(AOGM-D, AOGM-D0) / AOGM-D0, with AOGM-D = 5·splits + 10·FN + 1·FP and AOGM-D0 = 10·objects. */
  det: number;
  /** Reference objects, over all frames. */
  objects: number;
  /** Reference objects no predicted object matches, over all frames. */
  falseNegatives: number;
  /** Predicted objects that match no reference object, over all frames. */
  falsePositives: number;
  /** Splits needed, over all frames. */
  splits: number;
  /** Each frame's part. */
  frames: CtcFrameScores[];
}

/** AOGM-D weights of the cell tracking challenge: splitting a node, adding a missed one, deleting a false one. */
export const AOGM_WEIGHTS = {
  /** The cost of one split needed (a predicted object covering several reference objects). */
  split: 5,
  /** The cost of one reference object no predicted object matches. */
  falseNegative: 10,
  /** The cost of one predicted object that matches no reference object. */
  falsePositive: 1,
} as const;

function idsOf(what: string, value: Tensor | Int32Array): Int32Array {
  if (value instanceof Int32Array) return value;
  if (!(value instanceof Tensor))
    throw new TypeError(`ctcScores(): ${what} must be a label Tensor (H, W) or an Int32Array, got ${describe(value)}`);
  if (value.ndim !== 2) throw new RangeError(`ctcScores(): ${what} must be a 2-d (H, W) label image, got shape [${value.shape}]`);
  return labelValues(value);
}

/** SEG's and DET's counts for one frame. */
export function ctcFrameScores(predicted: Tensor | Int32Array, reference: Tensor | Int32Array, name = ''): CtcFrameScores {
  const p = idsOf('predicted', predicted);
  const r = idsOf('reference', reference);
  if (p.length !== r.length)
    throw new RangeError(`ctcScores(): frame '${name}': predicted and reference differ in size (${p.length} and ${r.length} pixels)`);
  const referenceArea = new Map<number, number>();
  const predictedArea = new Map<number, number>();
  const overlap = new Map<number, Map<number, number>>();
  for (let k = 0; k < p.length; k += 1) {
    const s = p[k]!;
    const t = r[k]!;
    if (s < 0 || t < 0) throw new RangeError(`ctcScores(): frame '${name}': label ids must be >= 0, found ${Math.min(s, t)}`);
    if (s !== 0) predictedArea.set(s, (predictedArea.get(s) ?? 0) + 1);
    if (t === 0) continue;
    referenceArea.set(t, (referenceArea.get(t) ?? 0) + 1);
    if (s === 0) continue;
    const row = overlap.get(t) ?? new Map<number, number>();
    row.set(s, (row.get(s) ?? 0) + 1);
    overlap.set(t, row);
  }
  let jaccardSum = 0;
  let falseNegatives = 0;
  const matchesOf = new Map<number, number>();
  for (const [id, area] of referenceArea) {
    // At most one predicted object covers more than half of a reference object.
    let matched = false;
    for (const [other, both] of overlap.get(id) ?? []) {
      if (2 * both > area) {
        jaccardSum += both / (area + predictedArea.get(other)! - both);
        matchesOf.set(other, (matchesOf.get(other) ?? 0) + 1);
        matched = true;
      }
    }
    if (!matched) falseNegatives += 1;
  }
  let splits = 0;
  for (const count of matchesOf.values()) splits += count - 1;
  const falsePositives = predictedArea.size - matchesOf.size;
  const objects = referenceArea.size;
  return { name, objects, jaccardSum, seg: objects === 0 ? NaN : jaccardSum / objects, falseNegatives, falsePositives, splits };
}

/**
 * The cell tracking challenge's SEG and DET over frames. SEG: a reference object R is matched by
 * the predicted object S with |R ∩ S| > 0.5·|R| and scores |R ∩ S| / |R ∪ S| (0 when unmatched),
 * summed over all reference objects of all frames and divided by their number. DET: the reference
 * objects serve as markers; a predicted object matching m of them needs m − 1 splits, an
 * unmatched reference object is a false negative, a predicted object matching none a false
 * positive.
 */
export function ctcScores(frames: CtcFrame[]): CtcScores {
  const perFrame = arrayArg<CtcFrame>('ctcScores', 'frames', frames).map((frame, k) => {
    if (frame === null || typeof frame !== 'object')
      throw new TypeError(`ctcScores(): frame ${k} must be { predicted, reference }, got ${describe(frame)}`);
    return ctcFrameScores(frame.predicted, frame.reference, frame.name ?? String(k));
  });
  const total = (pick: (f: CtcFrameScores) => number): number => perFrame.reduce((sum, f) => sum + pick(f), 0);
  const objects = total((f) => f.objects);
  const falseNegatives = total((f) => f.falseNegatives);
  const falsePositives = total((f) => f.falsePositives);
  const splits = total((f) => f.splits);
  const aogm = AOGM_WEIGHTS.split * splits + AOGM_WEIGHTS.falseNegative * falseNegatives + AOGM_WEIGHTS.falsePositive * falsePositives;
  const aogm0 = AOGM_WEIGHTS.falseNegative * objects;
  return {
    seg: objects === 0 ? NaN : total((f) => f.jaccardSum) / objects,
    det: objects === 0 ? NaN : 1 - Math.min(aogm, aogm0) / aogm0,
    objects,
    falseNegatives,
    falsePositives,
    splits,
    frames: perFrame,
  };
}
