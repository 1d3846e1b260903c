// Validation: each held-out image predicted whole by overlap-tile, turned into labels the way
// prediction will (the model's post-processing), and scored: the image scores, the cell tracking
// challenge's pooled SEG and DET for cells, the ISBI 2012 Rand error for membrane masks. One of
// them chooses the best model.
import { arrayArg, objectArg, tensorArg } from '../check';
import { empty } from '../creation';
import { samplesArg, type TrainingSample } from '../data/dataset';
import { broadcast, collectiveDevice, type ProcessGroup } from '../distributed';
import { dispose, tidy } from '../memory';
import { ctcScores } from '../metrics/ctc';
import { type ImageScores, meanScores, scoreImage } from '../metrics/evaluate';
import { type IsbiMeasure, type IsbiScores, isbiScores } from '../metrics/isbi2012';
import { labelsFromProbabilities, notMembraneProbability, type PostprocessOptions } from '../predict/instances';
import { predictProbabilities, type PredictOptions } from '../predict/overlap-tile';
import type { Tensor } from '../tensor';
import { oneOf } from '../ops/options';
import { type UNet, unetArg } from '../unet/model';
import { weightedCrossEntropy } from '../weightmap/loss';

/**
 * What chooses the best model (higher is better): `seg` (the pooled SEG of the cells), `rand`
 * (1 − the ISBI 2012 foreground-restricted Rand error, best over its thresholds), `iou` (IoU of
 * the last class) or `loss` (the negated validation loss).
 */
export type SelectBy = 'seg' | 'rand' | 'iou' | 'loss';
/** The measures `selectBy` may name. */
export const SELECT_BY: readonly SelectBy[] = ['seg', 'rand', 'iou', 'loss'];

/** Thresholds an epoch's SEG is taken at (the best counts): the calibration's range, coarsely. */
const EPOCH_THRESHOLDS = [0.5, 0.7, 0.9];

/** Mean image scores over the validation images, the loss, and the pooled challenge scores. */
export type ValidationScores = Omit<ImageScores, 'name'> & {
  /** The weighted cross-entropy over the validation tiles (NaN where not computed). */
  loss: number;
  /** The cell tracking challenge's DET (cells only). */
  det?: number;
  /** ISBI 2012 foreground-restricted Rand error, best over the thresholds (with `rand`). */
  isbiRandError?: number;
  /** The value `selectBy` compares (higher is better; for `seg`, the best SEG over thresholds 0.5, 0.7 and 0.9). */
  score: number;
};

/** Options of `validate`. */
export interface ValidateOptions extends Omit<PredictOptions, 'tta'> {
  /** How the probabilities become labels before they are scored. */
  postprocess: PostprocessOptions;
  /** The measure that picks the best epoch: the scores' `score` (the Rand error is computed only for `rand`). */
  selectBy: SelectBy;
}

/** The probabilities of each validation image (C, H, W), as prediction makes them. */
export function validationProbabilities(model: UNet, samples: TrainingSample[], options: PredictOptions): Tensor[] {
  return samples.map((sample) => predictProbabilities(model, sample.image, options));
}

/** Measures a caller has already computed, which `scoreValidation` passes through. */
export interface KnownScores {
  /** The validation loss (NaN when not given). */
  loss?: number;
  /** The ISBI 2012 Rand error, best over its thresholds (computed when `selectBy` is `rand` and it is not given). */
  isbiRandError?: number;
}

/**
 * Checks the arguments that scoring takes, naming `fn`'s bad one: prepared samples, a probability
 * map (a Tensor) for each, a post-processing and a selection measure.
 */
export function checkScoringArgs(fn: string, samples: unknown, probabilities: unknown, postprocess: unknown, selectBy: unknown): void {
  samplesArg(fn, 'samples', samples, true);
  const maps = arrayArg<unknown>(fn, 'probabilities', probabilities);
  for (const [k, map] of maps.entries()) tensorArg(fn, `probabilities[${k}]`, map);
  if (maps.length !== (samples as unknown[]).length)
    throw new RangeError(
      `${fn}(): argument 'probabilities' must hold one map per sample (${(samples as unknown[]).length}), got ${maps.length}`,
    );
  objectArg(fn, 'postprocess', postprocess);
  oneOf(fn, 'selectBy', selectBy, SELECT_BY);
}

/** Scores probabilities (one per sample) the way `validate` does; `known` measures are passed through. */
export function scoreValidation(
  samples: TrainingSample[],
  probabilities: Tensor[],
  postprocess: PostprocessOptions,
  selectBy: SelectBy,
  known: KnownScores = {},
): ValidationScores {
  checkScoringArgs('scoreValidation', samples, probabilities, postprocess, selectBy);
  objectArg('scoreValidation', 'known', known);
  return validationScoresOf(samples, probabilities, postprocess, selectBy, known);
}

/** scoreValidation for arguments already checked: what validation and the calibration call. */
export function validationScoresOf(
  samples: TrainingSample[],
  probabilities: Tensor[],
  postprocess: PostprocessOptions,
  selectBy: SelectBy,
  known: KnownScores = {},
): ValidationScores {
  const instanceLabels = postprocess.kind !== 'classes';
  const predicted = samples.map((_sample, k) => labelsFromProbabilities(probabilities[k]!, postprocess));
  try {
    const images = samples.map((sample, k) =>
      instanceLabels
        ? scoreImage(sample.name, predicted[k]!, sample.instances)
        : scoreImage(sample.name, predicted[k]!, sample.target, probabilities[k]!.shape[0]),
    );
    const scores: ValidationScores = { loss: known.loss ?? NaN, ...meanScores(images), score: NaN };
    if (instanceLabels) {
      const ctc = ctcScores(samples.map((sample, k) => ({ name: sample.name, predicted: predicted[k]!, reference: sample.instances })));
      scores.seg = ctc.seg;
      scores.det = ctc.det;
    }
    if (selectBy === 'rand')
      scores.isbiRandError = known.isbiRandError ?? isbiScoresOf(samples, probabilities, postprocess, ['randError']).randError;
    scores.score = selectionScore(scores, selectBy);
    if (selectBy === 'seg' && instanceLabels) {
      // The post-processing is chosen at the end (calibrate.ts); an epoch is judged by its best of
      // a few thresholds, so that the choice of the best model does not hang on the default one.
      for (const threshold of EPOCH_THRESHOLDS) {
        if (threshold === (postprocess.threshold ?? 0.5)) continue;
        const labels = samples.map((_, k) => labelsFromProbabilities(probabilities[k]!, { ...postprocess, threshold }));
        try {
          const seg = ctcScores(samples.map((sample, k) => ({ predicted: labels[k]!, reference: sample.instances }))).seg;
          scores.score = Math.max(scores.score, seg);
        } finally {
          for (const label of labels) label.dispose();
        }
      }
    }
    return scores;
  } finally {
    for (const labels of predicted) labels.dispose();
  }
}

/** The value `selectBy` compares, higher is better (NaN when the scores lack it). */
export function selectionScore(scores: ValidationScores, selectBy: SelectBy): number {
  objectArg('selectionScore', 'scores', scores);
  oneOf('selectionScore', 'selectBy', selectBy, SELECT_BY);
  switch (selectBy) {
    case 'seg':
      return scores.seg ?? NaN;
    case 'rand':
      return 1 - (scores.isbiRandError ?? NaN);
    case 'iou':
      return scores.iou[scores.iou.length - 1] ?? NaN;
    default:
      return -scores.loss;
  }
}

/** Predicts and scores the validation samples. */
export function validate(model: UNet, samples: TrainingSample[], options: ValidateOptions): ValidationScores {
  unetArg('validate', "argument 'model'", model);
  samplesArg('validate', 'samples', samples, true);
  objectArg('validate', 'options', options);
  oneOf('validate', 'selectBy', options.selectBy, SELECT_BY);
  objectArg('validate', 'options.postprocess', options.postprocess);
  const { postprocess, selectBy, ...predictOptions } = options;
  return scoreProbabilities(samples, validationProbabilities(model, samples, predictOptions), postprocess, selectBy);
}

/**
 * `validate` across the ranks of `group`: rank r predicts samples r, r + N, …, each prediction
 * is broadcast from its rank, and every rank scores them all, so that the pooled scores (SEG over
 * every cell of every image) are exact and equal on every rank.
 */
export async function validateAcross(
  group: ProcessGroup,
  model: UNet,
  samples: TrainingSample[],
  options: ValidateOptions,
): Promise<ValidationScores> {
  const { postprocess, selectBy, ...predictOptions } = options;
  const classes = model.options.classes;
  const probabilities = samples.map((sample, k) =>
    k % group.size === group.rank
      ? predictProbabilities(model, sample.image, predictOptions)
      : empty([classes, ...(sample.image.shape.slice(1) as [number, number])]),
  );
  const via = collectiveDevice(group, options.device ?? 'cpu');
  try {
    for (const [k, probability] of probabilities.entries()) {
      const src = k % group.size;
      if (via === 'cpu') {
        await broadcast(probability, { group, src });
        continue;
      }
      // NCCL broadcasts CUDA tensors only: through the model's GPU and back.
      const sent = probability.to(via);
      try {
        await broadcast(sent, { group, src });
        probability.copy_(sent);
      } finally {
        sent.dispose();
      }
    }
  } catch (error) {
    for (const p of probabilities) p.dispose();
    throw error;
  }
  return scoreProbabilities(samples, probabilities, postprocess, selectBy);
}

/** The validation loss and scores of the probabilities (one per sample), which it frees. */
function scoreProbabilities(
  samples: TrainingSample[],
  probabilities: Tensor[],
  postprocess: PostprocessOptions,
  selectBy: SelectBy,
): ValidationScores {
  try {
    // The loss of the probabilities against the weighted targets (log of soft-max = log-probability).
    const loss =
      samples.reduce(
        (sum, sample, k) =>
          sum +
          (tidy(() =>
            weightedCrossEntropy(
              probabilities[k]!.clamp(1e-12, 1).log().unsqueeze(0),
              sample.target.unsqueeze(0),
              sample.weights.unsqueeze(0),
            ).item(),
          ) as number),
        0,
      ) / samples.length;
    return validationScoresOf(samples, probabilities, postprocess, selectBy, { loss });
  } finally {
    for (const p of probabilities) p.dispose();
  }
}

/**
 * The ISBI 2012 measures of `probabilities` (channel 0: membrane) against the samples' membrane
 * masks (target > 0: not membrane), each best over the challenge's thresholds (see `isbiScores`),
 * of the map that `postprocess` leaves (its watershed's lines are membrane).
 */
export function isbiScoresOf(
  samples: TrainingSample[],
  probabilities: Tensor[],
  postprocess: PostprocessOptions,
  measures?: readonly IsbiMeasure[],
): IsbiScores {
  const slices = tidy(() =>
    samples.map((sample, k) => ({
      name: sample.name,
      probability: notMembraneProbability(probabilities[k]!, postprocess),
      truth: sample.target.gt(0),
    })),
  );
  try {
    return isbiScores(slices, measures ? { measures } : {});
  } finally {
    dispose(slices.flatMap((slice) => [slice.probability, slice.truth]));
  }
}
