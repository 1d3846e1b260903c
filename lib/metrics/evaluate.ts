// Scores of predicted label images against true ones, file by file and on average: the scores
// the validation reports, from files.
import { tidy } from '../memory';
import { connectedComponents } from '../labels';
import type { Tensor } from '../tensor';
import { adaptedRandError, classScores, segScore, warpingError } from './segmentation';
import { describe } from '../arguments';
import { arrayArg, tensorArg } from '../check';

/** One image's scores. */
/** The scores of one predicted image (`scoreImage`), or their means over images (`meanScores`). */
export interface ImageScores {
  /** The image's name. */
  name: string;
  /** Each class's intersection over union, class 0 (background) first. */
  iou: number[];
  /** Each class's Dice coefficient. */
  dice: number[];
  /** The fraction of pixels whose class is wrong. */
  pixelError: number;
  /** The adapted Rand error of the cells (2 classes only): scikit-image's `adapted_rand_error`. */
  randError?: number;
  /** The warping error of the foreground (2 classes only): mistakes of topology, not of position. */
  warpingError?: number;
  /** The cell tracking challenge's SEG over this image's true cells (2 classes only). */
  seg?: number;
}

/**
 * Scores a predicted label image against the truth. With 2 classes, both are read as cells:
 * ids > 0 are foreground, and an image whose only ids are 0 and one other value (a mask) is
 * split into cells by connected components; with more classes both hold class ids.
 */
export function scoreImage(name: string, predicted: Tensor, truth: Tensor, classes = 2): ImageScores {
  tensorArg('scoreImage', 'predicted', predicted);
  tensorArg('scoreImage', 'truth', truth);
  return tidy(() => {
    if (classes !== 2) return { name, ...classScores(predicted, truth, classes) };
    const instances = (labels: Tensor): Tensor => {
      const max = labels.max().item() as number;
      const isMask = labels.eq(0).logicalOr(labels.eq(max)).all().item() as boolean;
      return isMask ? connectedComponents(labels, 4) : labels.to('int32');
    };
    const predictedCells = instances(predicted);
    const trueCells = instances(truth);
    const predictedMask = predicted.gt(0).to('int32');
    const trueMask = truth.gt(0).to('int32');
    return {
      name,
      ...classScores(predictedMask, trueMask, 2),
      randError: adaptedRandError(predictedCells, trueCells).error,
      warpingError: warpingError(predictedMask, trueMask).error,
      seg: segScore(predictedCells, trueCells),
    };
  });
}

/** The mean of each score over images (NaN entries skipped). */
export function meanScores(scores: ImageScores[]): Omit<ImageScores, 'name'> {
  for (const [k, score] of arrayArg<ImageScores>('meanScores', 'scores', scores).entries()) {
    if (score === null || typeof score !== 'object' || !Array.isArray(score.iou) || !Array.isArray(score.dice))
      throw new TypeError(`meanScores(): argument 'scores' must hold image scores, got ${describe(score)} at ${k}`);
  }
  const mean = (pick: (s: ImageScores) => number | undefined): number => {
    const values = scores.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
    return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
  };
  const classes = scores[0]?.iou.length ?? 0;
  const result: Omit<ImageScores, 'name'> = {
    iou: Array.from({ length: classes }, (_, c) => mean((s) => s.iou[c])),
    dice: Array.from({ length: classes }, (_, c) => mean((s) => s.dice[c])),
    pixelError: mean((s) => s.pixelError),
  };
  if (scores.some((s) => s.randError !== undefined)) {
    result.randError = mean((s) => s.randError);
    result.warpingError = mean((s) => s.warpingError);
    result.seg = mean((s) => s.seg);
  }
  return result;
}
