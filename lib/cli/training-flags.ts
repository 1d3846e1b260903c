// The training flags `unet train` and `unet accuracy` share: one declaration of each flag, its
// usage line, and how flags over a recipe become what train() and the data loaders take.
import type { ParseArgsConfig } from 'node:util';

import type { LabelKind } from '../data/dataset';
import { NORMALISATIONS, type Normalisation } from '../data/normalise';
import { TARGET_KINDS, WEIGHT_KINDS, type TargetOptions } from '../data/targets';
import { RECIPES, recipe as recipeNamed, type Recipe } from '../train/recipes';
import type { TrainOptions } from '../train/trainer';
import { SELECT_BY, type SelectBy } from '../train/validate';
import { PRESETS, type PresetName } from '../unet/presets';
import { integerOption, numberOption } from './args';

/** parseArgs declarations of the shared training flags. */
export const TRAINING_FLAGS = {
  recipe: { type: 'string' },
  labels: { type: 'string' },
  preset: { type: 'string' },
  classes: { type: 'string' },
  normalise: { type: 'string' },
  target: { type: 'string' },
  gaps: { type: 'boolean' },
  weights: { type: 'string' },
  w0: { type: 'string' },
  sigma: { type: 'string' },
  'border-width': { type: 'string' },
  'background-weight': { type: 'string' },
  steps: { type: 'string' },
  minutes: { type: 'string' },
  'epoch-steps': { type: 'string' },
  tile: { type: 'string' },
  'val-tile': { type: 'string' },
  batch: { type: 'string' },
  accumulate: { type: 'string' },
  optimizer: { type: 'string' },
  lr: { type: 'string' },
  momentum: { type: 'string' },
  'weight-decay': { type: 'string' },
  schedule: { type: 'string' },
  'no-augment': { type: 'boolean' },
  select: { type: 'string' },
  tta: { type: 'boolean' },
  'no-tta': { type: 'boolean' },
  device: { type: 'string' },
  amp: { type: 'boolean' },
  'channels-last': { type: 'boolean' },
  threads: { type: 'string' },
  seed: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** The usage lines of the shared flags. */
export const TRAINING_USAGE = `  --recipe NAME         start from a recipe: ${Object.keys(RECIPES).join(' | ')} (flags below override it)
  --labels KIND         auto (default) | instances | mask | classes
  --preset NAME         ${Object.keys(PRESETS).join(' | ')} (default compact)
  --classes N           classes of --labels classes (default 2)
  --normalise MODE      ${NORMALISATIONS.join(' | ')} (default zscore; recorded for prediction)
  --target KIND         ${TARGET_KINDS.join(' | ')} (default cells; borders adds a class where cells touch)
  --gaps                one-pixel gaps between touching cells in the targets (cells target)
  --weights KIND        ${WEIGHT_KINDS.join(' | ')} (default paper: w0 10, sigma 5; falk2019: 50, 6)
  --w0 X --sigma X      the weight map's border weight and width
  --border-width N      borders target: how far the border class reaches into a cell (default 2)
  --background-weight X chance of a tile centred on background relative to a cell (default 1; 0.1 favours cells)
  --steps N             optimizer steps (default 2000)
  --minutes M           train at most M minutes, then end as after the last step (validation, calibration)
  --epoch-steps N       steps between validations and checkpoints (default 50)
  --tile S              training tile extent, valid for the network (default 572, or the nearest to 256 + margins)
  --val-tile S          prediction tile of validation (default the network's default tile)
  --batch B             tiles per batch (default 1)   --accumulate K   batches per step (default 1)
  --optimizer NAME      sgd (the paper's, default) | adam | adamw
  --lr X --momentum X --weight-decay X   (defaults 0.01 for SGD, 1e-3 for Adam; momentum 0.99)
  --schedule NAME       constant (default) | poly | cosine
  --no-augment          no elastic deformation, rotation, flips or gray values
  --select MEASURE      ${SELECT_BY.join(' | ')}: what chooses the best model (default seg for cells)
  --tta / --no-tta      predict with the 8 flips and turns by default (recorded; calibration uses it)
  --device D            cpu (default) | cuda | cuda:N     --amp  --channels-last  (CUDA)
  --threads N           CPU threads for libtorch
  --seed N              seed of every random choice (default 0)
`;

type FlagValues = { [K in keyof typeof TRAINING_FLAGS]?: (typeof TRAINING_FLAGS)[K]['type'] extends 'boolean' ? boolean : string };

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
  selectBy: '--select',
  amp: '--amp',
  minutes: '--minutes',
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
  labels: LabelKind | 'auto';
  classes: number;
  normalisation: Normalisation;
  targets: TargetOptions;
  minutes: number | undefined;
  threads: number | undefined;
  /** train()'s options besides the model, the samples and the run folder. */
  train: Omit<TrainOptions, 'model' | 'train' | 'validation'>;
}

function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

/** The request of flags over their recipe (flags win; without a recipe, the library's defaults). */
export function trainingRequest(values: FlagValues): TrainingRequest {
  const base: Partial<Recipe> = values.recipe === undefined ? {} : recipeNamed(values.recipe);
  const preset = choice('preset', values.preset, Object.keys(PRESETS) as PresetName[]) ?? base.preset ?? 'compact';
  const labels = choice('labels', values.labels, ['auto', 'instances', 'mask', 'classes'] as const) ?? base.labels ?? 'auto';
  const targets: TargetOptions = { ...base.targets };
  const target = choice('target', values.target, TARGET_KINDS);
  if (target !== undefined) targets.target = target;
  if (values.gaps !== undefined) targets.gaps = values.gaps;
  const weights = choice('weights', values.weights, WEIGHT_KINDS);
  if (weights !== undefined) targets.weights = weights;
  const w0 = numberOption('w0', values.w0);
  if (w0 !== undefined) targets.w0 = w0;
  const sigma = numberOption('sigma', values.sigma);
  if (sigma !== undefined) targets.sigma = sigma;
  const borderWidth = integerOption('border-width', values['border-width']);
  if (borderWidth !== undefined) targets.borderWidth = borderWidth;
  if (values.tta && values['no-tta']) throw new Error('--tta and --no-tta contradict each other');
  const select = choice<SelectBy>('select', values.select, SELECT_BY);
  const defined = <T extends object>(object: T): T => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
  return {
    recipe: values.recipe ?? null,
    preset,
    labels,
    classes: integerOption('classes', values.classes) ?? 2,
    normalisation: choice('normalise', values.normalise, NORMALISATIONS) ?? base.normalisation ?? 'zscore',
    targets,
    minutes: numberOption('minutes', values.minutes),
    threads: integerOption('threads', values.threads),
    train: defined({
      steps: integerOption('steps', values.steps) ?? 2000,
      stepsPerEpoch: integerOption('epoch-steps', values['epoch-steps']) ?? base.stepsPerEpoch,
      tileSize: integerOption('tile', values.tile) ?? base.tileSize,
      validationTileSize: integerOption('val-tile', values['val-tile']),
      batchSize: integerOption('batch', values.batch) ?? base.batchSize,
      accumulate: integerOption('accumulate', values.accumulate),
      optimizer: (choice('optimizer', values.optimizer, ['sgd', 'adam', 'adamw'] as const) ?? base.optimizer) as TrainOptions['optimizer'],
      lr: numberOption('lr', values.lr) ?? base.lr,
      momentum: numberOption('momentum', values.momentum),
      weightDecay: numberOption('weight-decay', values['weight-decay']),
      schedule: (choice('schedule', values.schedule, ['constant', 'poly', 'cosine'] as const) ?? base.schedule) as TrainOptions['schedule'],
      augment: values['no-augment'] ? false : base.augment,
      backgroundWeight: numberOption('background-weight', values['background-weight']) ?? base.backgroundWeight,
      selectBy: select ?? base.selectBy,
      tta: values['no-tta'] ? false : values.tta ? true : base.tta,
      amp: values.amp,
      channelsLast: values['channels-last'],
      device: values.device ?? 'cpu',
      seed: integerOption('seed', values.seed) ?? 0,
    }),
  };
}

/** The flags that reproduce a request's training choices, for logs and model.json. */
export function describeRequest(request: TrainingRequest): Record<string, unknown> {
  return { recipe: request.recipe, preset: request.preset, labels: request.labels, normalisation: request.normalisation, targets: request.targets };
}
