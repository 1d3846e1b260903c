// The training flags `unet train` and `unet accuracy` share: one declaration of each flag, its
// usage line, and how flags over a recipe become what train() and the data loaders take.
import { type AugmentOptions, validateAugmentOptions } from '../augment/transform';
import { LABEL_KINDS, type LabelKind } from '../data/targets';
import { NORMALISATIONS, type Normalisation } from '../data/normalise';
import { DEFAULT_BORDER_WIDTH, TARGET_KINDS, type TargetOptions, WEIGHT_KINDS } from '../data/targets';
import { PAPER_AUGMENTATION, RECIPES, recipe as recipeNamed, type Recipe } from '../train/recipes';
import { dataFreeSettingsOf, KEPT_MODELS, OPTIMIZERS, SCHEDULES, TRAINING_DEFAULTS } from '../train/options';
import { IMAGE_SAMPLINGS } from '../train/tiles';
import type { TrainOptions } from '../train/trainer';
import { SELECT_BY, type SelectBy } from '../train/validate';
import { PRESETS, type PresetName } from '../unet/presets';
import { PRETRAINED } from '../unet/shipped-models';
import { WEIGHT_MAP_PRESETS } from '../weightmap/presets';
import { choiceOption, integerOption, numberOption, pairOption } from './args';
import { COMMON_FLAGS, type FlagSpec, type FlagValues, type Flags, UsageError, withFlags } from './command';

const { ronneberger2015: PAPER, falk2019: FALK } = WEIGHT_MAP_PRESETS;
/** The steps `unet train` makes when neither --steps nor a recipe's --minutes says. */
const DEFAULT_STEPS = 2000;

/** The network preset of the command line when --preset is not given: one a CPU trains. */
export const DEFAULT_PRESET: PresetName = 'compact';

/** --preset, as `unet train`, `unet accuracy` and `unet compare` take it. */
export const PRESET_FLAG = {
  type: 'string',
  placeholder: 'NAME',
  help: `${Object.keys(PRESETS).join(' | ')} (default ${DEFAULT_PRESET})`,
} as const satisfies FlagSpec;

/** The preset --preset names (checked), or undefined when it is not given. */
export function presetOption(value: string | undefined): PresetName | undefined {
  return choiceOption('preset', value, Object.keys(PRESETS) as PresetName[]);
}

/** The shared training flags, with their usage. */
export const TRAINING_FLAGS = {
  recipe: {
    type: 'string',
    placeholder: 'NAME',
    help: `start from a recipe: ${Object.keys(RECIPES).join(' | ')} (flags below override it)`,
  },
  labels: { type: 'string', placeholder: 'KIND', help: `auto (default) | ${LABEL_KINDS.join(' | ')}` },
  preset: PRESET_FLAG,
  init: {
    type: 'string',
    placeholder: 'MODEL',
    help: `fine-tune: start from a trained model's network and weights (a run folder, a weights file with
model.json beside it, or a shipped model: ${Object.keys(PRETRAINED).join(' | ')}); it replaces --preset`,
  },
  classes: { type: 'string', placeholder: 'N', help: 'classes of --labels classes (default 2)' },
  normalise: { type: 'string', placeholder: 'MODE', help: `${NORMALISATIONS.join(' | ')} (default zscore; recorded for prediction)` },
  target: {
    type: 'string',
    placeholder: 'KIND',
    help: `${TARGET_KINDS.join(' | ')} (default cells; borders adds a class where cells touch)`,
  },
  gaps: { type: 'boolean', help: 'one-pixel gaps between touching cells in the targets (cells target)' },
  weights: {
    type: 'string',
    placeholder: 'KIND',
    help: `${WEIGHT_KINDS.join(' | ')} (default paper: w0 ${PAPER.w0}, sigma ${PAPER.sigma}; falk2019: ${FALK.w0}, ${FALK.sigma})`,
  },
  w0: { type: 'string', placeholder: 'X', help: "the weight map's border weight" },
  sigma: { type: 'string', placeholder: 'X', help: "the weight map's border width in pixels" },
  'border-width': {
    type: 'string',
    placeholder: 'N',
    help: `borders target: how far the border class reaches into a cell (default ${DEFAULT_BORDER_WIDTH})`,
  },
  'background-weight': {
    type: 'string',
    placeholder: 'X',
    help: `chance of a tile centred on background relative to a cell (default ${TRAINING_DEFAULTS.backgroundWeight}; 0.1 favours cells)`,
  },
  'image-sampling': {
    type: 'string',
    placeholder: 'KIND',
    help: `${IMAGE_SAMPLINGS.join(' | ')}: how often an image gives a tile, area by its pixels, equal every image as often (default ${TRAINING_DEFAULTS.imageSampling})`,
  },
  steps: {
    type: 'string',
    placeholder: 'N',
    help: `optimizer steps (default ${DEFAULT_STEPS}; with --recipe and --minutes, the recipe's steps in that time)`,
  },
  minutes: { type: 'string', placeholder: 'M', help: 'train at most M minutes, then end as after the last step (validation, calibration)' },
  'epoch-steps': {
    type: 'string',
    placeholder: 'N',
    help: `steps between validations and checkpoints (default ${TRAINING_DEFAULTS.stepsPerEpoch})`,
  },
  tile: {
    type: 'string',
    placeholder: 'S',
    help: 'training tile extent, valid for the network (default 572, or the nearest to 256 + margins)',
  },
  'val-tile': { type: 'string', placeholder: 'S', help: "prediction tile of validation (default the network's default tile)" },
  batch: { type: 'string', placeholder: 'B', help: `tiles per batch (default ${TRAINING_DEFAULTS.batchSize})` },
  accumulate: { type: 'string', placeholder: 'K', help: `batches per optimizer step (default ${TRAINING_DEFAULTS.accumulate})` },
  optimizer: {
    type: 'string',
    placeholder: 'NAME',
    help: `${OPTIMIZERS.join(' | ')} (default ${TRAINING_DEFAULTS.optimizer}, the paper's)`,
  },
  lr: {
    type: 'string',
    placeholder: 'X',
    help: `learning rate (default ${TRAINING_DEFAULTS.lr.sgd} for SGD, ${TRAINING_DEFAULTS.lr.adam} for Adam)`,
  },
  momentum: { type: 'string', placeholder: 'X', help: `SGD momentum (default ${TRAINING_DEFAULTS.momentum})` },
  'weight-decay': { type: 'string', placeholder: 'X', help: `weight decay (default ${TRAINING_DEFAULTS.weightDecay})` },
  schedule: { type: 'string', placeholder: 'NAME', help: `${SCHEDULES.join(' | ')} (default ${TRAINING_DEFAULTS.schedule})` },
  'no-augment': { type: 'boolean', help: 'no elastic deformation, rotation, flips or gray values' },
  zoom: {
    type: 'string',
    placeholder: 'MIN,MAX',
    help: 'augmentation: zoom each tile by a factor drawn log-uniformly from [MIN, MAX] (default 1,1: none)',
  },
  select: { type: 'string', placeholder: 'MEASURE', help: `${SELECT_BY.join(' | ')}: what chooses the best model (default seg for cells)` },
  keep: {
    type: 'string',
    placeholder: 'MODEL',
    help: `${KEPT_MODELS.join(' | ')}: the weights prediction loads, the best by --select on validation or the last step's (default ${TRAINING_DEFAULTS.keep})`,
  },
  tta: { type: 'boolean', help: 'predict with the 8 flips and turns by default (recorded; calibration uses it)' },
  'no-tta': { type: 'boolean', help: 'predict without them by default' },
  watershed: {
    type: 'boolean',
    help: 'membrane maps (ISBI 2012): cells are the basins of a seeded watershed, which closes\nfaint gaps in membranes (its smoothing and seeds chosen on validation; recorded)',
  },
  'no-watershed': { type: 'boolean', help: 'cells are the connected foreground (the default but for --recipe isbi2012)' },
  device: { type: 'string', placeholder: 'D', help: 'cpu (default) | cuda | cuda:N' },
  amp: { type: 'boolean', help: 'CUDA: mixed precision' },
  'channels-last': { type: 'boolean', help: 'CUDA: channels-last memory format' },
  'cuda-graphs': {
    type: 'boolean',
    help: 'CUDA: replay each step from a CUDA graph after the first two (pays for launch-bound\nnetworks such as the compact preset; not with --amp or --accumulate)',
  },
  seed: { type: 'string', placeholder: 'N', help: `seed of every random choice (default ${TRAINING_DEFAULTS.seed})` },
  ...COMMON_FLAGS,
} as const satisfies Flags;

/** train()'s option names and the flags that set them (for error messages). */
export const OPTION_FLAGS: Record<string, string> = {
  steps: '--steps',
  stepsPerEpoch: '--epoch-steps',
  tileSize: '--tile',
  validationTileSize: '--val-tile',
  batchSize: '--batch',
  accumulate: '--accumulate',
  optimizer: '--optimizer',
  lr: '--lr',
  schedule: '--schedule',
  backgroundWeight: '--background-weight',
  imageSampling: '--image-sampling',
  selectBy: '--select',
  keep: '--keep',
  amp: '--amp',
  cudaGraphs: '--cuda-graphs',
  minutes: '--minutes',
  resume: '--resume',
  target: '--target',
  gaps: '--gaps',
  weights: '--weights',
  w0: '--w0',
  sigma: '--sigma',
  borderWidth: '--border-width',
};

/** What the data loaders and train() get from the shared flags. */
export interface TrainingRequest {
  recipe: string | null;
  preset: PresetName;
  /** The trained model whose network and weights training starts from (`--init`), or null: a fresh `preset` network. */
  init: string | null;
  labels: LabelKind | 'auto';
  classes: number;
  normalisation: Normalisation;
  targets: TargetOptions;
  minutes: number | undefined;
  /** Post-process with a seeded watershed (`--watershed`). */
  watershed: boolean;
  /** train()'s options besides the model, the samples and the run folder. */
  train: Omit<TrainOptions, 'model' | 'train' | 'validation' | 'seed'> & { seed: number };
}

type TrainingFlagValues = FlagValues<typeof TRAINING_FLAGS>;

/** Without --steps: the steps a recipe makes in --minutes on the reference machine, else DEFAULT_STEPS. */
function plannedSteps(minutes: number | undefined, stepsPerMinute: number | undefined): number {
  return minutes !== undefined && stepsPerMinute !== undefined ? Math.max(1, Math.round(minutes * stepsPerMinute)) : DEFAULT_STEPS;
}

/** The augmentation of `--no-augment` and `--zoom` over the recipe's (or the library's default). */
function augmentOf(values: TrainingFlagValues, recipeAugment: AugmentOptions | undefined): AugmentOptions | false | undefined {
  const zoom = pairOption('zoom', values.zoom);
  if (values['no-augment']) {
    if (zoom !== undefined) throw new UsageError('--zoom and --no-augment contradict each other');
    return false;
  }
  if (zoom === undefined) return recipeAugment;
  // The library's rule for the range, checked on the range alone so that the error names --zoom (the
  // data-free check of the whole augmentation at the end of trainingRequest would name 'scale').
  try {
    validateAugmentOptions({ scale: zoom });
  } catch (error) {
    throw new UsageError(`--zoom: ${(error as Error).message}`);
  }
  return { ...(recipeAugment ?? PAPER_AUGMENTATION), scale: zoom };
}

/** The request of flags over their recipe (flags win; without a recipe, the library's defaults). */
export function trainingRequest(values: TrainingFlagValues): TrainingRequest {
  let base: Partial<Recipe> = {};
  if (values.recipe !== undefined) {
    try {
      base = recipeNamed(values.recipe);
    } catch (error) {
      throw new UsageError(`--recipe: ${(error as Error).message}`);
    }
  }
  if (values.init !== undefined && values.preset !== undefined)
    throw new UsageError("--init and --preset contradict each other: the network is --init's model's");
  const preset = presetOption(values.preset) ?? base.preset ?? DEFAULT_PRESET;
  const labels = choiceOption('labels', values.labels, ['auto', ...LABEL_KINDS] as const) ?? base.labels ?? 'auto';
  const targets: TargetOptions = { ...base.targets };
  const target = choiceOption('target', values.target, TARGET_KINDS);
  if (target !== undefined) targets.target = target;
  if (values.gaps !== undefined) targets.gaps = values.gaps;
  const weights = choiceOption('weights', values.weights, WEIGHT_KINDS);
  if (weights !== undefined) targets.weights = weights;
  const w0 = numberOption('w0', values.w0);
  if (w0 !== undefined) targets.w0 = w0;
  const sigma = numberOption('sigma', values.sigma);
  if (sigma !== undefined) targets.sigma = sigma;
  const borderWidth = integerOption('border-width', values['border-width']);
  if (borderWidth !== undefined) targets.borderWidth = borderWidth;
  if (values.tta && values['no-tta']) throw new UsageError('--tta and --no-tta contradict each other');
  if (values.watershed && values['no-watershed']) throw new UsageError('--watershed and --no-watershed contradict each other');
  const select = choiceOption<SelectBy>('select', values.select, SELECT_BY);
  const defined = <T extends object>(object: T): T =>
    Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
  const request: TrainingRequest = {
    recipe: values.recipe ?? null,
    preset,
    init: values.init ?? null,
    labels,
    classes: integerOption('classes', values.classes) ?? 2,
    normalisation: choiceOption('normalise', values.normalise, NORMALISATIONS) ?? base.normalisation ?? 'zscore',
    targets,
    minutes: numberOption('minutes', values.minutes),
    watershed: values['no-watershed'] ? false : values.watershed ? true : (base.watershed ?? false),
    train: defined({
      steps: integerOption('steps', values.steps) ?? plannedSteps(numberOption('minutes', values.minutes), base.stepsPerMinute),
      stepsPerEpoch: integerOption('epoch-steps', values['epoch-steps']) ?? base.stepsPerEpoch,
      tileSize: integerOption('tile', values.tile) ?? base.tileSize,
      validationTileSize: integerOption('val-tile', values['val-tile']),
      batchSize: integerOption('batch', values.batch) ?? base.batchSize,
      accumulate: integerOption('accumulate', values.accumulate),
      optimizer: choiceOption('optimizer', values.optimizer, OPTIMIZERS) ?? base.optimizer,
      lr: numberOption('lr', values.lr) ?? base.lr,
      momentum: numberOption('momentum', values.momentum),
      weightDecay: numberOption('weight-decay', values['weight-decay']),
      schedule: choiceOption('schedule', values.schedule, SCHEDULES) ?? base.schedule,
      augment: augmentOf(values, base.augment),
      backgroundWeight: numberOption('background-weight', values['background-weight']) ?? base.backgroundWeight,
      imageSampling: choiceOption('image-sampling', values['image-sampling'], IMAGE_SAMPLINGS) ?? base.imageSampling,
      selectBy: select ?? base.selectBy,
      keep: choiceOption('keep', values.keep, KEPT_MODELS) ?? base.keep,
      calibrationGrid: base.calibrationGrid,
      tta: values['no-tta'] ? false : values.tta ? true : base.tta,
      amp: values.amp,
      channelsLast: values['channels-last'],
      cudaGraphs: values['cuda-graphs'],
      device: values.device ?? 'cpu',
      seed: integerOption('seed', values.seed) ?? TRAINING_DEFAULTS.seed,
    }),
  };
  // train()'s own checks of what needs no data, now: a bad --steps should not wait for the images.
  try {
    dataFreeSettingsOf({ ...request.train, minutes: request.minutes });
  } catch (error) {
    throw new UsageError((withFlags(error, OPTION_FLAGS) as Error).message);
  }
  return request;
}

/** The flags that reproduce a request's training choices, for logs and model.json. */
export function describeRequest(request: TrainingRequest): Record<string, unknown> {
  return {
    recipe: request.recipe,
    // A fine-tuned network is --init's, whatever the recipe's preset.
    ...(request.init === null ? { preset: request.preset } : { init: request.init }),
    labels: request.labels,
    normalisation: request.normalisation,
    targets: request.targets,
    watershed: request.watershed,
  };
}
