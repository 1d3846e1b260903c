// What train() takes, reports and returns, and its options checked into settings: every default
// filled in, every bad option named before a step is spent. The settings are what a checkpoint
// records and what a resumed run must agree with.
import type { AugmentOptions } from '../augment';
import { validateAugmentOptions } from '../augment';
import { samplesArg, type TrainingSample } from '../data/dataset';
import type { Normalisation } from '../data/normalise';
import { ProcessGroup } from '../distributed';
import { tidy } from '../memory';
import { checkOptions, oneOf } from '../ops/options';
import { checkPostprocess, type PostprocessOptions } from '../predict/instances';
import { tileGeometry } from '../predict/overlap-tile';
import { type UNet, unetArg } from '../unet/model';
import { CALIBRATION_GRID, type CalibrationGrid, type CalibrationTrial, checkCalibrationGrid } from './calibrate';
import { PAPER_AUGMENTATION } from './recipes';
import { checkBackgroundWeight, IMAGE_SAMPLINGS, type ImageSampling, TILE_SAMPLING_DEFAULTS } from './tiles';
import type { HistoryEntry } from './run-folder';
import { SELECT_BY, type SelectBy, type ValidationScores } from './validate';

/** The optimizers train() builds: the paper's SGD with momentum, Adam and AdamW. */
export const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
/** One of `OPTIMIZERS`. */
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** The learning-rate schedules over a run's steps: constant, polynomial decay (power 0.9), cosine. */
export const SCHEDULES = ['constant', 'poly', 'cosine'] as const;
/** One of `SCHEDULES`. */
export type ScheduleName = (typeof SCHEDULES)[number];

/**
 * The weights a run keeps for prediction: `best`, the epoch `selectBy` scores highest on the
 * validation images, or `final`, the last step's (where a few validation images cannot tell
 * epochs apart, the end of the schedule is the steadier choice).
 */
export const KEPT_MODELS = ['best', 'final'] as const;
/** One of `KEPT_MODELS`. */
export type KeptModel = (typeof KEPT_MODELS)[number];

/**
 * train()'s defaults: where an option is not given, its value here (the paper's where it has one).
 * The command line's help names them from here too.
 */
export const TRAINING_DEFAULTS = {
  /** The paper's SGD with momentum. */
  optimizer: 'sgd',
  /** The learning rate of each optimizer. */
  lr: {
    /** SGD's, with the paper's momentum. */
    sgd: 0.01,
    /** Adam's, PyTorch's default. */
    adam: 1e-3,
    /** AdamW's, PyTorch's default. */
    adamw: 1e-3,
  },
  /** The paper's SGD momentum. */
  momentum: 0.99,
  /** No weight decay, as the paper. */
  weightDecay: 0,
  /** One learning rate throughout, as the paper. */
  schedule: 'constant',
  /** Steps between validations and checkpoints. */
  stepsPerEpoch: 50,
  /** The paper's one large tile per batch. */
  batchSize: 1,
  /** Batches whose gradients add up before each optimizer step. */
  accumulate: 1,
  /** How tiles are drawn: images by area, centres uniform over each. */
  ...TILE_SAMPLING_DEFAULTS,
  /** Validation and prediction on the image as it is, without its flipped and turned copies. */
  tta: false,
  /** The weights of the best epoch by validation are kept for prediction. */
  keep: 'best',
  /** float32 throughout. */
  amp: false,
  /** The usual (N, C, H, W) memory layout. */
  channelsLast: false,
  /** The seed of every random choice. */
  seed: 0,
} as const satisfies {
  optimizer: OptimizerName;
  lr: Record<OptimizerName, number>;
  momentum: number;
  weightDecay: number;
  schedule: ScheduleName;
  stepsPerEpoch: number;
  batchSize: number;
  accumulate: number;
  backgroundWeight: number;
  imageSampling: ImageSampling;
  tta: boolean;
  keep: KeptModel;
  amp: boolean;
  channelsLast: boolean;
  seed: number;
};

/** Options of `train`. */
export interface TrainOptions {
  /** The network to train (on `device`); its state is updated in place. */
  model: UNet;
  /** Training samples (see `prepareSamples`). */
  train: TrainingSample[];
  /** Held-out samples scored after every epoch (optional); they choose the best model and the post-processing. */
  validation?: TrainingSample[];
  /**
   * Input tile extent of the overlap-tile prediction that validates (default: the network's
   * default tile, 572 for the paper's depth); the training tile may be smaller than any tile
   * prediction can use.
   */
  validationTileSize?: number;
  /** How probabilities become labels (default: `cells` for 2 classes, `classes` otherwise); recorded in model.json. */
  postprocess?: PostprocessOptions;
  /** What chooses the best model (default `seg` for cells, `iou` for classes). */
  selectBy?: SelectBy;
  /**
   * The weights prediction loads and calibration chooses the post-processing for: `best`
   * (best.safetensors, by `selectBy`) or `final` (final.safetensors, no best.safetensors written);
   * recorded in model.json; default {@link TRAINING_DEFAULTS}.
   */
  keep?: KeptModel;
  /**
   * After the last step, choose the threshold and minimum object size on the validation images
   * (default true with validation and cells).
   */
  calibrate?: boolean;
  /**
   * Validate the network before the first step too (epoch 0, step 0; default false), so that a
   * network trained before (fine-tuning) is a candidate for the best model as it starts: training
   * that only makes it worse keeps it. Not on a resumed run, whose history has its start.
   */
  validateStart?: boolean;
  /**
   * The settings calibration chooses among (default {@link CALIBRATION_GRID}); one setting in
   * each list fixes the post-processing, which calibration then only scores. Unlike the other
   * settings, it may change when a run resumes: it is used after the last step only.
   */
  calibrationGrid?: CalibrationGrid;
  /** Predict with test-time augmentation by default (recorded in model.json; calibration uses it; default {@link TRAINING_DEFAULTS}). */
  tta?: boolean;
  /** Relative chance of a tile centred on background rather than a cell (default {@link TRAINING_DEFAULTS}: uniform). */
  backgroundWeight?: number;
  /** How a tile's image is drawn: `area` (in proportion to its pixels) or `equal` (every image as often); default {@link TRAINING_DEFAULTS}. */
  imageSampling?: ImageSampling;
  /** Facts about the run to record in model.json's `training` field (the CLI records its data options). */
  record?: Record<string, unknown>;
  /** Optimizer steps in all (each of `accumulate` batches of `batchSize` tiles). */
  steps: number;
  /** Steps between validations and checkpoints (default {@link TRAINING_DEFAULTS}). */
  stepsPerEpoch?: number;
  /** Input tile extent, valid for the network (default 572 for depth 5 with valid convolutions). */
  tileSize?: number;
  /** Tiles per batch (default {@link TRAINING_DEFAULTS}: the paper's one large tile). */
  batchSize?: number;
  /** Batches whose gradients add up before each optimizer step (default {@link TRAINING_DEFAULTS}). */
  accumulate?: number;
  /** One of {@link OPTIMIZERS} (default {@link TRAINING_DEFAULTS}: the paper's SGD). */
  optimizer?: OptimizerName;
  /** Learning rate (default {@link TRAINING_DEFAULTS}, by optimizer). */
  lr?: number;
  /** SGD momentum (default {@link TRAINING_DEFAULTS}: the paper's). */
  momentum?: number;
  /** Weight decay of the optimizer (default {@link TRAINING_DEFAULTS}). */
  weightDecay?: number;
  /** Learning-rate schedule over `steps`: 'constant', 'poly' (power 0.9) or 'cosine' (default {@link TRAINING_DEFAULTS}). */
  schedule?: ScheduleName;
  /** Augmentation per tile (default `PAPER_AUGMENTATION`); false for none. */
  augment?: AugmentOptions | false;
  /** Mixed precision (CUDA only): autocast to float16 and a gradient scaler (default {@link TRAINING_DEFAULTS}). */
  amp?: boolean;
  /** channels_last memory format for the model and the tiles (CUDA convolutions prefer it; default {@link TRAINING_DEFAULTS}). */
  channelsLast?: boolean;
  /** Where the tiles go (default: where the model's parameters are). */
  device?: string;
  /** Seed of every random choice (default {@link TRAINING_DEFAULTS}). */
  seed?: number;
  /** Folder for checkpoint.pt, best/final weights, metrics.jsonl and curves.png (optional). */
  outDir?: string;
  /** Continue from outDir/checkpoint.pt when it exists. */
  resume?: boolean;
  /** When aborted, the loop writes a checkpoint after the current step and stops. */
  signal?: AbortSignal;
  /**
   * Prepare each batch of tiles while the step before it still runs on the device (default: on
   * CUDA; on the CPU it changes nothing but the order of the host's work). The batches are the
   * same either way.
   */
  prefetch?: boolean;
  /**
   * CUDA: capture a step's forward pass, loss and backward in a CUDA graph after the run's first
   * two steps and replay it for every later step (default false). It pays where steps are bound by
   * kernel launches (the `compact` preset); the losses are those of eager steps to float32
   * rounding. Not with `amp`, `accumulate` above 1 or a `processGroup` of several ranks; the
   * graph keeps its own memory for the step's activations.
   */
  cudaGraphs?: boolean;
  /**
   * Train for at most this many minutes: the step that crosses the limit is the last one, and the
   * run ends as if it were the last of `steps` (validation, final weights, calibration).
   */
  minutes?: number;
  /** Called with every event, as the iteration yields it. */
  onEvent?: (event: TrainEvent) => void;
  /**
   * Train data-parallel across this group's ranks (`torch.distributed.initProcessGroup()`), each
   * rank calling train() with the same options: each draws its own tiles, gradients are averaged
   * as DistributedDataParallel does, validation is split over the ranks, and only rank 0 writes
   * to `outDir`. A checkpoint resumes with the same number of ranks.
   */
  processGroup?: ProcessGroup;
}

/** What the training loop reports, in this order: steps, an epoch, its checkpoint, …, calibration. */
export type TrainEvent =
  | {
      /** A step is done. */
      type: 'step';
      /** The step (1 first; a resumed run goes on counting). */
      step: number;
      /** The steps planned (`steps`). */
      steps: number;
      /** Its training loss (averaged over the ranks of a process group). */
      loss: number;
      /** The learning rate it used. */
      lr: number;
      /** Tiles trained per second since this run (or its resumption) started, over all ranks. */
      tilesPerSecond: number;
      /** Milliseconds since this run (or its resumption) started. */
      elapsedMs: number;
      /** The milliseconds the remaining steps take at that rate. */
      etaMs: number;
    }
  | {
      /** An epoch ended (every `stepsPerEpoch` steps, at the last one, and when `minutes` ran out). */
      type: 'epoch';
      /** The epoch (1 first). */
      epoch: number;
      /** The step it ended at. */
      step: number;
      /** The scores on the validation images; null without any. */
      validation: ValidationScores | null;
    }
  | {
      /** The checkpoint was written (after each epoch, and on a stop), with `outDir` only. */
      type: 'checkpoint';
      /** The step it resumes after. */
      step: number;
      /** Its path. */
      file: string;
    }
  | {
      /** The post-processing was chosen on the validation images, after the last step. */
      type: 'calibrated';
      /** The chosen post-processing, written into the run's model.json. */
      postprocess: PostprocessOptions;
      /** The kept model's validation scores with it. */
      validation: ValidationScores;
      /** Every setting tried, with its scores. */
      trials: CalibrationTrial[];
    }
  | {
      /** The run stopped early (`signal` aborted): the last event. */
      type: 'stopped';
      /** The last step done. */
      step: number;
    };

/** How the run ended. */
export interface TrainResult {
  /** The last step done. */
  step: number;
  /** Whether `signal` stopped it before `steps` (or `minutes`) ran out. */
  stopped: boolean;
  /** Every epoch's validation, the resumed run's earlier ones included. */
  history: HistoryEntry[];
  /** Every step's training loss, the resumed run's earlier ones included. */
  losses: number[];
  /** The post-processing chosen on the validation images (when calibrated). */
  postprocess?: PostprocessOptions;
}

/** Every option train() knows, each once (the compiler checks the list against TrainOptions): any other is refused by name. */
const TRAIN_OPTION_NAMES = Object.keys({
  model: true,
  train: true,
  validation: true,
  validationTileSize: true,
  postprocess: true,
  selectBy: true,
  keep: true,
  calibrate: true,
  validateStart: true,
  calibrationGrid: true,
  tta: true,
  backgroundWeight: true,
  imageSampling: true,
  record: true,
  steps: true,
  stepsPerEpoch: true,
  tileSize: true,
  batchSize: true,
  accumulate: true,
  optimizer: true,
  lr: true,
  momentum: true,
  weightDecay: true,
  schedule: true,
  augment: true,
  amp: true,
  channelsLast: true,
  device: true,
  seed: true,
  outDir: true,
  resume: true,
  signal: true,
  prefetch: true,
  cudaGraphs: true,
  minutes: true,
  onEvent: true,
  processGroup: true,
} satisfies Record<keyof TrainOptions, true>) as (keyof TrainOptions)[];

/** The options of train() that a run's settings hold and that depend on neither the network nor the samples. */
type DataFreeSetting =
  | 'steps'
  | 'stepsPerEpoch'
  | 'batchSize'
  | 'accumulate'
  | 'optimizer'
  | 'lr'
  | 'momentum'
  | 'weightDecay'
  | 'schedule'
  | 'augment'
  | 'amp'
  | 'channelsLast'
  | 'seed'
  | 'backgroundWeight'
  | 'imageSampling'
  | 'keep'
  | 'calibrationGrid'
  | 'tta';

/** The options of train() that a run's settings hold, each as train() was given it or by default. */
type SettingOption = DataFreeSetting | 'tileSize' | 'validationTileSize' | 'selectBy';

/**
 * train()'s options with every default filled in and checked: what a checkpoint records. Each
 * option keeps its type and its comment from TrainOptions.
 */
export interface Settings extends Required<Pick<TrainOptions, SettingOption>> {
  /** The network's options. */
  model: UNet['options'];
  /** The post-processing validation uses, checked. */
  postprocess: ReturnType<typeof checkPostprocess>;
  /** The number of ranks training together (1: one process). */
  worldSize: number;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`train(): option '${name}' must be a positive integer, got ${value}`);
  return value;
}

/**
 * The options checked and filled in that need neither the network nor the samples: counts, rates
 * and choices. `settingsOf` starts from them; `unet train` checks them before it reads any image,
 * so that a bad `--steps` does not wait for the data.
 */
export function dataFreeSettingsOf(options: Omit<TrainOptions, 'model' | 'train'>): Pick<Settings, DataFreeSetting> {
  const optimizer = oneOf('train', 'optimizer', options.optimizer ?? TRAINING_DEFAULTS.optimizer, OPTIMIZERS);
  const lr = options.lr ?? TRAINING_DEFAULTS.lr[optimizer];
  if (!(lr > 0)) throw new RangeError(`train(): option 'lr' must be > 0, got ${lr}`);
  const augment = options.augment ?? PAPER_AUGMENTATION;
  if (augment) validateAugmentOptions(augment);
  if (options.minutes !== undefined && !(typeof options.minutes === 'number' && options.minutes > 0))
    throw new RangeError(`train(): option 'minutes' must be > 0, got ${String(options.minutes)}`);
  for (const name of ['prefetch', 'validateStart', 'cudaGraphs'] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== 'boolean')
      throw new TypeError(`train(): option '${name}' must be a boolean, got ${JSON.stringify(value)}`);
  }
  return {
    steps: positiveInteger('steps', options.steps),
    stepsPerEpoch: positiveInteger('stepsPerEpoch', options.stepsPerEpoch ?? TRAINING_DEFAULTS.stepsPerEpoch),
    batchSize: positiveInteger('batchSize', options.batchSize ?? TRAINING_DEFAULTS.batchSize),
    accumulate: positiveInteger('accumulate', options.accumulate ?? TRAINING_DEFAULTS.accumulate),
    optimizer,
    lr,
    momentum: options.momentum ?? TRAINING_DEFAULTS.momentum,
    weightDecay: options.weightDecay ?? TRAINING_DEFAULTS.weightDecay,
    schedule: oneOf('train', 'schedule', options.schedule ?? TRAINING_DEFAULTS.schedule, SCHEDULES),
    augment,
    amp: options.amp ?? TRAINING_DEFAULTS.amp,
    channelsLast: options.channelsLast ?? TRAINING_DEFAULTS.channelsLast,
    seed: options.seed ?? TRAINING_DEFAULTS.seed,
    backgroundWeight: checkBackgroundWeight('train', options.backgroundWeight ?? TRAINING_DEFAULTS.backgroundWeight),
    imageSampling: oneOf('train', 'imageSampling', options.imageSampling ?? TRAINING_DEFAULTS.imageSampling, IMAGE_SAMPLINGS),
    keep: oneOf('train', 'keep', options.keep ?? TRAINING_DEFAULTS.keep, KEPT_MODELS),
    calibrationGrid: checkCalibrationGrid('train.calibrationGrid', options.calibrationGrid ?? CALIBRATION_GRID),
    tta: options.tta ?? TRAINING_DEFAULTS.tta,
  };
}

/** The settings of `options`, checked (each bad option named) before any step is spent. */
export function settingsOf(options: TrainOptions): Settings {
  if (options === undefined) throw new TypeError("train(): options must be an object with 'model', 'train' and 'steps'");
  checkOptions('train', options, TRAIN_OPTION_NAMES);
  unetArg('train', "option 'model'", options.model);
  samplesArg('train', 'options.train', options.train, true);
  if (options.validation !== undefined) samplesArg('train', 'options.validation', options.validation, true);
  if (options.processGroup !== undefined && !(options.processGroup instanceof ProcessGroup))
    throw new TypeError(
      `train(): option 'processGroup' must be a ProcessGroup (torch.distributed.initProcessGroup()), got ${String(options.processGroup)}`,
    );
  const dataFree = dataFreeSettingsOf(options);
  const model = options.model;
  const tileSize = options.tileSize ?? model.defaultTileSize;
  model.outputSize(tileSize); // throws with the nearest valid sizes
  const classes = model.options.classes;
  const postprocess = checkPostprocess(options.postprocess ?? { kind: classes === 2 ? 'cells' : 'classes' }, classes);
  const selectBy = oneOf('train', 'selectBy', options.selectBy ?? (postprocess.kind === 'classes' ? 'iou' : 'seg'), SELECT_BY);
  if (selectBy === 'seg' && postprocess.kind === 'classes')
    throw new RangeError(
      "train(): option 'selectBy' 'seg' scores cells; a network whose output is 'classes' has none (use 'iou' or 'loss')",
    );
  if (selectBy === 'rand' && postprocess.kind !== 'cells')
    throw new RangeError(
      `train(): option 'selectBy' 'rand' (ISBI 2012) scores a 2-class probability map; the output here is '${postprocess.kind}'`,
    );
  // Validation predicts whole images by overlap-tile: its tile must leave the network room (issue: a
  // training tile of 188 leaves 4 useful pixels). Refused here, before any step is spent.
  const validationTileSize = options.validationTileSize ?? model.defaultTileSize;
  try {
    tileGeometry(model, validationTileSize);
  } catch (error) {
    throw new RangeError(
      `train(): option 'validationTileSize' ${validationTileSize} cannot predict with this network: ${(error as Error).message.replace(/^(UNet|predict): /, '')}`,
    );
  }
  return {
    ...dataFree,
    tileSize,
    model: model.options,
    validationTileSize,
    postprocess,
    selectBy,
    worldSize: options.processGroup?.size ?? 1,
  };
}

// Every sample's targets must be classes of the network, its weights >= 0 (the training loss
// does not check them again at every step), and one normalisation must hold for all.
export function checkSamples(samples: TrainingSample[], classes: number, what: string): Normalisation {
  const normalisations = new Set(samples.map((sample) => sample.normalisation ?? 'zscore'));
  if (normalisations.size > 1) throw new RangeError(`train(): the ${what} samples mix normalisations (${[...normalisations].join(', ')})`);
  for (const sample of samples) {
    const top = tidy(() => sample.target.max().item() as number);
    if (top >= classes)
      throw new RangeError(
        `train(): ${what} sample '${sample.name}' has target class ${top}, but the network has ${classes} classes (a 'borders' target needs 3)`,
      );
    if (!tidy(() => sample.weights.ge(0).all().item() as boolean))
      throw new RangeError(`train(): ${what} sample '${sample.name}' has weights that are negative or NaN`);
  }
  return [...normalisations][0] ?? 'zscore';
}

// What a checkpoint written before a setting existed ran with: one process (before data-parallel
// training), the best model kept (before option 'keep').
const SETTINGS_BEFORE_THEY_EXISTED: Partial<Settings> = { worldSize: 1, keep: 'best' };

// Settings that must agree for a checkpoint to continue this run. The step count may grow, and the
// calibration grid may change: it is only tried after the last step, so the steps stay those of an
// uninterrupted run (a run begun before a recipe narrowed its grid continues with the recipe).
export function sameRun(saved: Settings, settings: Settings): string | null {
  const { steps: _steps, calibrationGrid: _calibrationGrid, ...rest } = settings;
  for (const [key, value] of Object.entries(rest)) {
    const was = saved[key as keyof Settings] ?? SETTINGS_BEFORE_THEY_EXISTED[key as keyof Settings];
    if (JSON.stringify(was) !== JSON.stringify(value))
      return `'${key}' was ${JSON.stringify(was)} in the checkpoint, ${JSON.stringify(value)} now`;
  }
  return null;
}
