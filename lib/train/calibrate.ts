// The post-processing a trained model records in model.json, chosen on the validation images
// (never on images held out for reporting): the foreground threshold and the smallest object
// kept. SEG does not count extra objects, so the choice maximises the cell tracking challenge's
// overall segmentation measure OP_CSB = (SEG + DET) / 2, in which false objects cost through
// DET: SEG alone kept every speck of foreground as a cell. The ISBI 2012 measure takes the
// threshold of its best Rand error; with a watershed, the smoothing, seed threshold and smallest
// seed of the least Rand error. A recipe may narrow the settings tried (CalibrationGrid): one
// setting tried is a fixed post-processing, only scored.
import { describe } from '../arguments';
import { samplesArg, type TrainingSample } from '../data/dataset';
import { areas, labelValues } from '../labels';
import { dispose } from '../memory';
import { ctcScores } from '../metrics/ctc';
import { checkOptions } from '../ops/options';
import { labelsFromProbabilities, type PostprocessOptions } from '../predict/instances';
import type { PredictOptions } from '../predict/overlap-tile';
import { MAX_SIGMA } from '../raster/watershed';
import type { Tensor } from '../tensor';
import type { UNet } from '../unet/model';
import {
  checkScoringArgs,
  isbiScoresOf,
  type SelectBy,
  type ValidationScores,
  validationProbabilities,
  validationScoresOf,
} from './validate';

/** The settings calibration tries: every combination of the three lists. */
export interface CalibrationGrid {
  /** Foreground thresholds (with a watershed: the seeds' threshold), each in [0, 1). */
  thresholds: readonly number[];
  /** Smallest objects (with a watershed: seeds), as fractions of the median area of the training cells. */
  sizeFractions: readonly number[];
  /** The watershed's smoothing σ in pixels (used with a watershed only). */
  sigmas: readonly number[];
}

/** The settings calibration tries unless told otherwise. */
export const CALIBRATION_GRID: Readonly<CalibrationGrid> = {
  thresholds: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
  sizeFractions: [0, 0.05, 0.1, 0.2, 0.35],
  sigmas: [0, 1, 2],
};

/** Checks a calibration grid (`what`, as `fn.option`, names it in errors): three lists that are not empty, each value in range. */
export function checkCalibrationGrid(what: string, grid: CalibrationGrid): CalibrationGrid {
  const { thresholds, sizeFractions, sigmas } = checkOptions(what, grid, ['thresholds', 'sizeFractions', 'sigmas']);
  const list = (name: string, values: readonly number[], ok: (value: number) => boolean, expected: string): readonly number[] => {
    if (!Array.isArray(values) || values.length === 0 || !values.every((value) => typeof value === 'number' && ok(value)))
      throw new RangeError(
        `${what}(): option '${name}' must be a list of one or more numbers ${expected}, got ${Array.isArray(values) ? JSON.stringify(values) : describe(values)}`,
      );
    return values;
  };
  return {
    thresholds: list('thresholds', thresholds, (t) => t >= 0 && t < 1, 'in [0, 1)'),
    sizeFractions: list('sizeFractions', sizeFractions, (f) => Number.isFinite(f) && f >= 0, '>= 0'),
    sigmas: list('sigmas', sigmas, (sigma) => sigma >= 0 && sigma <= MAX_SIGMA, `in [0, ${MAX_SIGMA}]`),
  };
}

/** The median pixel count of the cells of the training samples (0 without any). */
export function medianCellArea(samples: TrainingSample[]): number {
  samplesArg('medianCellArea', 'samples', samples, true);
  const all = samples.flatMap((sample) =>
    areas(labelValues(sample.instances))
      .slice(1)
      .filter((area) => area > 0),
  );
  if (all.length === 0) return 0;
  all.sort((a, b) => a - b);
  return all[Math.floor(all.length / 2)]!;
}

/** The smallest object sizes (pixels) of a grid's fractions of the typical cell area, each once. */
function minSizes(fractions: readonly number[], typicalArea: number): number[] {
  return [...new Set(fractions.map((fraction) => Math.round(fraction * typicalArea)))];
}

/** One setting of a grid applied to `base`: its threshold and smallest object, and the watershed's σ where it is tried. */
function settingOf(base: PostprocessOptions, threshold: number, minSize: number, sigma?: number): PostprocessOptions {
  return sigma === undefined ? { ...base, threshold, minSize } : { ...base, threshold, minSize, watershed: { sigma } };
}

/**
 * The post-processing calibration will choose whatever the scores, when `grid` leaves it one
 * setting (null when it leaves a choice, and for class maps and membrane maps without a
 * watershed, whose threshold comes from the scores): every epoch's validation scores the network
 * with it, as the kept model will be scored. `typicalArea` (the median training cell, which
 * sizes the smallest object) is asked for only when one threshold and σ leave that question.
 */
export function fixedPostprocess(
  grid: CalibrationGrid,
  base: PostprocessOptions,
  selectBy: SelectBy,
  typicalArea: () => number,
): PostprocessOptions | null {
  const { thresholds, sizeFractions, sigmas } = grid;
  if (base.kind === 'classes' || (selectBy === 'rand' && base.watershed === undefined)) return null;
  // As calibratePostprocess tries them: σ only for a membrane map's watershed.
  const sigmaTried = selectBy === 'rand';
  if (thresholds.length !== 1 || (sigmaTried && sigmas.length !== 1)) return null;
  const sizes = minSizes(sizeFractions, typicalArea());
  if (sizes.length !== 1) return null;
  return settingOf(base, thresholds[0]!, sizes[0]!, sigmaTried ? sigmas[0] : undefined);
}

/** One setting tried, with the cell tracking challenge's scores. */
export interface CellTrial {
  /** The post-processing tried. */
  postprocess: PostprocessOptions;
  /** The cell tracking challenge's SEG it scored on the validation frames. */
  seg: number;
  /** The DET it scored there. */
  det: number;
}

/** One watershed tried on a membrane map, with its ISBI 2012 Rand error. */
export interface MembraneTrial {
  /** The watershed tried. */
  postprocess: PostprocessOptions;
  /** The ISBI 2012 Rand error it scored on the validation slices. */
  randError: number;
}

/** One setting tried, with the scores that chose among them. */
export type CalibrationTrial = CellTrial | MembraneTrial;

/**
 * Chooses the threshold and minimum object size of `base` (with a watershed, its σ too) among the
 * settings of `grid` on validation samples and their predicted probabilities; returns the choice,
 * its scores and every setting tried.
 */
export function calibratePostprocess(
  samples: TrainingSample[],
  probabilities: Tensor[],
  base: PostprocessOptions,
  selectBy: SelectBy,
  typicalArea: number,
  grid: CalibrationGrid = CALIBRATION_GRID,
): {
  /** \`base\` with the chosen settings. */
  postprocess: PostprocessOptions;
  /** What the choice scored on the validation samples. */
  scores: ValidationScores;
  /** Every setting tried, with its scores. */
  trials: CalibrationTrial[];
} {
  checkScoringArgs('calibratePostprocess', samples, probabilities, base, selectBy);
  if (typeof typicalArea !== 'number' || !(typicalArea >= 0))
    throw new RangeError(`calibratePostprocess(): argument 'typicalArea' must be a number >= 0, got ${String(typicalArea)}`);
  const { thresholds, sizeFractions, sigmas } = checkCalibrationGrid('calibratePostprocess.grid', grid);
  if (base.kind === 'classes') return { postprocess: base, scores: validationScoresOf(samples, probabilities, base, selectBy), trials: [] };
  const sizes = minSizes(sizeFractions, typicalArea);
  if (selectBy === 'rand' && base.watershed === undefined) {
    // The Rand error is taken over every threshold at once: its best threshold is the choice.
    const isbi = isbiScoresOf(samples, probabilities, base, ['randError']);
    const postprocess = { ...base, threshold: isbi.bestThreshold.randError, minSize: 0 };
    const scores = validationScoresOf(samples, probabilities, postprocess, selectBy, { isbiRandError: isbi.randError });
    return { postprocess, scores, trials: [] };
  }
  if (selectBy === 'rand') {
    // Each watershed's map is scored over every threshold; ties go to the setting tried first.
    const trials = sigmas.flatMap((sigma) =>
      thresholds.flatMap((threshold) =>
        sizes.map((minSize): MembraneTrial => {
          const postprocess = settingOf(base, threshold, minSize, sigma);
          return { postprocess, randError: isbiScoresOf(samples, probabilities, postprocess, ['randError']).randError };
        }),
      ),
    );
    const chosen = trials.reduce((best, trial) => (trial.randError < best.randError ? trial : best));
    const scores = validationScoresOf(samples, probabilities, chosen.postprocess, selectBy, { isbiRandError: chosen.randError });
    return { postprocess: chosen.postprocess, scores, trials };
  }
  const trials = thresholds.flatMap((threshold) =>
    sizes.map((minSize): CellTrial => {
      const postprocess = settingOf(base, threshold, minSize);
      const predicted = samples.map((_, k) => labelsFromProbabilities(probabilities[k]!, postprocess));
      try {
        const scores = ctcScores(samples.map((sample, k) => ({ predicted: predicted[k]!, reference: sample.instances })));
        return { postprocess, seg: scores.seg, det: scores.det };
      } finally {
        dispose(predicted);
      }
    }),
  );
  // Ties go to the threshold nearest 0.5, then to the smallest size (the order tried).
  const overall = (trial: CellTrial): number => (trial.seg + trial.det) / 2;
  const chosen = trials.reduce((best, trial) =>
    overall(trial) > overall(best) ||
    (overall(trial) === overall(best) && Math.abs(trial.postprocess.threshold! - 0.5) < Math.abs(best.postprocess.threshold! - 0.5))
      ? trial
      : best,
  );
  return { postprocess: chosen.postprocess, scores: validationScoresOf(samples, probabilities, chosen.postprocess, selectBy), trials };
}

/**
 * Predicts the validation samples with `model` and chooses its post-processing on them among the
 * settings of `grid` (the smallest object sized by the training cells): what train() does at its
 * end and `unet accuracy --rescore` does again for a trained run.
 */
export function calibrateModel(
  model: UNet,
  train: TrainingSample[],
  validation: TrainingSample[],
  predictOptions: PredictOptions,
  base: PostprocessOptions,
  selectBy: SelectBy,
  grid: CalibrationGrid = CALIBRATION_GRID,
): ReturnType<typeof calibratePostprocess> {
  const probabilities = validationProbabilities(model, validation, predictOptions);
  try {
    return calibratePostprocess(validation, probabilities, base, selectBy, medianCellArea(train), grid);
  } finally {
    dispose(probabilities);
  }
}
