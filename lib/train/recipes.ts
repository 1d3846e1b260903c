// Training recipes for the paper's data sets and the nuclei model: one place for what was chosen
// by measurement on validation frames (docs/results.md has the ablations behind each choice).
// `unet train --recipe NAME` starts from one; any flag given overrides it. `unet accuracy` and
// `npm start` use the same table.
import type { AugmentOptions } from '../augment/transform';
import type { LabelKind } from '../data/dataset';
import type { Normalisation } from '../data/normalise';
import type { TargetOptions } from '../data/targets';
import type { PresetName } from '../unet/presets';
import { CALIBRATION_GRID, type CalibrationGrid } from './calibrate';
import type { KeptModel, OptimizerName, ScheduleName } from './options';
import type { ImageSampling } from './tiles';
import type { SelectBy } from './validate';

/** Everything a recipe fixes. */
export interface Recipe {
  /** What the recipe is for. */
  summary: string;
  /** The network (`--preset`). */
  preset: PresetName;
  /** How the label images are read (`--labels`): instances, a mask, classes, or told by their values. */
  labels: LabelKind | 'auto';
  /** How each image's values are normalised (`--normalise`). */
  normalisation: Normalisation;
  /** What the network learns from the labels: the target classes and their weight map (`--target`, `--weights`, …). */
  targets: TargetOptions;
  /** The training tiles' input size (`--tile`). */
  tileSize: number;
  /** Tiles a step (`--batch`). */
  batchSize: number;
  /** The optimizer (`--optimizer`). */
  optimizer: OptimizerName;
  /** Its learning rate (`--lr`). */
  lr: number;
  /** How the rate changes over the steps (`--schedule`). */
  schedule: ScheduleName;
  /** Relative chance of a tile centred on background (1: uniform). */
  backgroundWeight: number;
  /** How often an image gives a tile: by its pixels, or every image as often. */
  imageSampling: ImageSampling;
  /** The augmentation of each training tile. */
  augment: AugmentOptions;
  /** The validation measure that picks the best epoch (`--select`). */
  selectBy: SelectBy;
  /** The weights kept for prediction: the best epoch by `selectBy`, or the final step's. */
  keep: KeptModel;
  /** Cells as the basins of a seeded watershed (membrane maps; see PostprocessOptions.watershed). */
  watershed: boolean;
  /** The post-processing settings calibration chooses among on the validation frames. */
  calibrationGrid: CalibrationGrid;
  /** Whether validation and prediction average the 8 flipped and turned copies (`--tta`). */
  tta: boolean;
  /** Steps between validations (`--epoch-steps`). */
  stepsPerEpoch: number;
  /**
   * Steps a minute of training makes on the reference machine (2 CPU threads, the results page's
   * VM), validation included: with `--minutes` and no `--steps`, the run plans this many steps a
   * minute, so that its schedule ends when the time does. A slower machine stops at the time
   * limit before the schedule's end.
   */
  stepsPerMinute: number;
}

/** The paper's augmentation: elastic deformation (3 × 3, σ = 10), any rotation, flips, mild gray values. */
export const PAPER_AUGMENTATION: AugmentOptions = { rotation: 180, flip: true, brightness: 0.1, contrast: 0.1 };

const COMMON = {
  preset: 'compact',
  labels: 'auto',
  normalisation: 'zscore',
  tileSize: 572,
  batchSize: 1,
  optimizer: 'adam',
  lr: 1e-3,
  schedule: 'cosine',
  augment: PAPER_AUGMENTATION,
  imageSampling: 'area',
  keep: 'best',
  watershed: false,
  calibrationGrid: CALIBRATION_GRID,
  stepsPerEpoch: 250,
  stepsPerMinute: 110,
} as const satisfies Partial<Recipe>;

/** The name of a training recipe (`unet train --recipe NAME`), one per data set. */
export type RecipeName = 'dic-c2dh-hela' | 'phc-c2dh-u373' | 'isbi2012' | 'nuclei';

/** The recipes by name. */
export const RECIPES: Readonly<Record<RecipeName, Recipe>> = {
  'dic-c2dh-hela': {
    ...COMMON,
    summary: 'DIC-C2DH-HeLa: touching cells, separated by a border class grown back from the cell interiors',
    targets: { target: 'borders', weights: 'paper', borderWidth: 2 },
    backgroundWeight: 1,
    selectBy: 'seg',
    tta: true,
  },
  'phc-c2dh-u373': {
    ...COMMON,
    summary: 'PhC-C2DH-U373: sparse cells, tiles drawn mostly on cells',
    targets: { target: 'cells', weights: 'paper' },
    backgroundWeight: 0.1,
    selectBy: 'seg',
    tta: true,
  },
  isbi2012: {
    ...COMMON,
    summary:
      "ISBI 2012 EM membranes: the not-membrane probability map, its gaps closed by a seeded watershed, scored by the challenge's Rand error",
    labels: 'mask',
    targets: { target: 'cells', weights: 'paper' },
    backgroundWeight: 1,
    selectBy: 'rand',
    // 2 validation slices cannot tell epochs apart (docs/results.md): the schedule's end is kept.
    keep: 'final',
    watershed: true,
    // One watershed for every run, chosen on six runs' validation slices pooled: each run's choice
    // on its own 2 slices missed the target twice in six (docs/results.md#isbi-watershed-choice).
    // Smoothing σ 1, seeds above 0.8, the smallest seed 0.05 of the median neurite (31 pixels).
    calibrationGrid: { thresholds: [0.8], sizeFractions: [0.05], sigmas: [1] },
    tta: true,
  },
  nuclei: {
    ...COMMON,
    summary: 'DSB2018 nuclei (fluorescence): small touching nuclei, separated by a border class',
    tileSize: 316,
    targets: { target: 'borders', weights: 'paper', borderWidth: 1 },
    backgroundWeight: 1,
    selectBy: 'seg',
    tta: true,
    stepsPerEpoch: 200,
    stepsPerMinute: 300,
  },
};

/** The recipe of a name, or a clear error listing the names. */
export function recipe(name: string): Recipe {
  if (typeof name !== 'string' || !Object.hasOwn(RECIPES, name))
    throw new RangeError(`unknown recipe '${String(name)}'; known: ${Object.keys(RECIPES).join(', ')}`);
  return RECIPES[name as RecipeName];
}
