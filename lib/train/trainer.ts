// The training loop of the paper (one large tile per step, SGD with momentum 0.99, weighted
// soft-max cross-entropy, elastic deformation) with the usual modern options. Every random
// choice of a step derives from (seed, step), so a run resumed from a checkpoint repeats the
// uninterrupted run exactly.
import { setImmediate as nextTurn } from 'node:timers/promises';

import { GradScaler, autocast } from '../amp';
import { augmentBatch, type AugmentOptions, SeededRandom, validateAugmentOptions } from '../augment';
import type { TrainingSample } from '../data/dataset';
import type { Normalisation } from '../data/normalise';
import { OutOfMemoryError, tileOutOfMemory } from '../errors';
import { loadSafetensors } from '../io/safetensors';
import type { TorchValue } from '../io/torch-file';
import { dispose, tidy } from '../memory';
import { Adam, AdamW, SGD } from '../optim';
import { CosineAnnealingLR, type LRScheduler, PolynomialLR } from '../optim/lr-scheduler';
import type { Optimizer } from '../optim/optimizer';
import { checkPostprocess, type PostprocessOptions } from '../predict/instances';
import { tileGeometry } from '../predict/overlap-tile';
import { manualSeed } from '../runtime';
import { UNet } from '../unet/model';
import type { ModelDescription } from '../unet/model-files';
import { weightedCrossEntropy } from '../weightmap/loss';
import { PAPER_AUGMENTATION } from './recipes';
import { calibratePostprocess, type CalibrationTrial, medianCellArea } from './calibrate';
import { type HistoryEntry, RunFolder } from './run-folder';
import { stepSeed } from './seeds';
import { sampleTiles } from './tiles';
import { SELECT_BY, type SelectBy, validate, validationProbabilities, type ValidationScores } from './validate';

export { PAPER_AUGMENTATION };

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
   * After the last step, choose the threshold and minimum object size on the validation images
   * (default true with validation and cells).
   */
  calibrate?: boolean;
  /** Predict with test-time augmentation by default (recorded in model.json; calibration uses it). */
  tta?: boolean;
  /** Relative chance of a tile centred on background rather than a cell (default 1: uniform; the authors use 0.1). */
  backgroundWeight?: number;
  /** Facts about the run to record in model.json's `training` field (the CLI records its data options). */
  record?: Record<string, unknown>;
  /** Optimizer steps in all (each of `accumulate` batches of `batchSize` tiles). */
  steps: number;
  /** Steps between validations and checkpoints (default 50). */
  stepsPerEpoch?: number;
  /** Input tile extent, valid for the network (default 572 for depth 5 with valid convolutions). */
  tileSize?: number;
  /** Tiles per batch (default 1, the paper's one large tile). */
  batchSize?: number;
  /** Batches whose gradients add up before each optimizer step (default 1). */
  accumulate?: number;
  /** 'sgd' (the paper's, default), 'adam' or 'adamw'. */
  optimizer?: 'sgd' | 'adam' | 'adamw';
  /** Learning rate (default 0.01 for SGD, 1e-3 for Adam/AdamW). */
  lr?: number;
  /** SGD momentum (default 0.99, the paper's). */
  momentum?: number;
  weightDecay?: number;
  /** Learning-rate schedule over `steps`: 'constant' (default), 'poly' (power 0.9) or 'cosine'. */
  schedule?: 'constant' | 'poly' | 'cosine';
  /** Augmentation per tile (default `PAPER_AUGMENTATION`); false for none. */
  augment?: AugmentOptions | false;
  /** Mixed precision (CUDA only): autocast to float16 and a gradient scaler. */
  amp?: boolean;
  /** channels_last memory format for the model and the tiles (CUDA convolutions prefer it). */
  channelsLast?: boolean;
  /** Where the tiles go (default: where the model's parameters are). */
  device?: string;
  /** Seed of every random choice (default 0). */
  seed?: number;
  /** Folder for checkpoint.pt, best/final weights, metrics.jsonl and curves.png (optional). */
  outDir?: string;
  /** Continue from outDir/checkpoint.pt when it exists. */
  resume?: boolean;
  /** When aborted, the loop writes a checkpoint after the current step and stops. */
  signal?: AbortSignal;
  /**
   * Train for at most this many minutes: the step that crosses the limit is the last one, and the
   * run ends as if it were the last of `steps` (validation, final weights, calibration).
   */
  minutes?: number;
  /** Called with every event, as the iteration yields it. */
  onEvent?: (event: TrainEvent) => void;
}

/** What the training loop reports. */
export type TrainEvent =
  | { type: 'step'; step: number; steps: number; loss: number; lr: number; tilesPerSecond: number; elapsedMs: number; etaMs: number }
  | { type: 'epoch'; epoch: number; step: number; validation: ValidationScores | null }
  | { type: 'checkpoint'; step: number; file: string }
  | { type: 'calibrated'; postprocess: PostprocessOptions; validation: ValidationScores; trials: CalibrationTrial[] }
  | { type: 'stopped'; step: number };

/** How the run ended. */
export interface TrainResult {
  step: number;
  stopped: boolean;
  history: HistoryEntry[];
  losses: number[];
  /** The post-processing chosen on the validation images (when calibrated). */
  postprocess?: PostprocessOptions;
}

/** Thrown when validation fails; the step's checkpoint was written before it ran. */
export class ValidationError extends Error {
  override name = 'ValidationError';
}

interface Settings {
  steps: number;
  stepsPerEpoch: number;
  tileSize: number;
  batchSize: number;
  accumulate: number;
  optimizer: 'sgd' | 'adam' | 'adamw';
  lr: number;
  momentum: number;
  weightDecay: number;
  schedule: 'constant' | 'poly' | 'cosine';
  augment: AugmentOptions | false;
  amp: boolean;
  channelsLast: boolean;
  seed: number;
  model: UNet['options'];
  backgroundWeight: number;
  validationTileSize: number;
  postprocess: Required<PostprocessOptions>;
  selectBy: SelectBy;
  tta: boolean;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`train(): option '${name}' must be a positive integer, got ${value}`);
  return value;
}

function settingsOf(options: TrainOptions): Settings {
  const optimizer = options.optimizer ?? 'sgd';
  if (!['sgd', 'adam', 'adamw'].includes(optimizer))
    throw new RangeError(`train(): option 'optimizer' must be 'sgd', 'adam' or 'adamw', got ${JSON.stringify(optimizer)}`);
  const schedule = options.schedule ?? 'constant';
  if (!['constant', 'poly', 'cosine'].includes(schedule))
    throw new RangeError(`train(): option 'schedule' must be 'constant', 'poly' or 'cosine', got ${JSON.stringify(schedule)}`);
  const model = options.model;
  const tileSize = options.tileSize ?? model.defaultTileSize;
  model.outputSize(tileSize); // throws with the nearest valid sizes
  const lr = options.lr ?? (optimizer === 'sgd' ? 0.01 : 1e-3);
  if (!(lr > 0)) throw new RangeError(`train(): option 'lr' must be > 0, got ${lr}`);
  const augment = options.augment ?? PAPER_AUGMENTATION;
  if (augment) validateAugmentOptions(augment);
  const backgroundWeight = options.backgroundWeight ?? 1;
  if (!(backgroundWeight > 0 && backgroundWeight <= 1))
    throw new RangeError(`train(): option 'backgroundWeight' must be in (0, 1], got ${backgroundWeight}`);
  const classes = model.options.classes;
  const postprocess = checkPostprocess(options.postprocess ?? { kind: classes === 2 ? 'cells' : 'classes' }, classes);
  const selectBy = options.selectBy ?? (postprocess.kind === 'classes' ? 'iou' : 'seg');
  if (!SELECT_BY.includes(selectBy))
    throw new RangeError(`train(): option 'selectBy' must be one of ${SELECT_BY.join(', ')}, got ${JSON.stringify(selectBy)}`);
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
    steps: positiveInteger('steps', options.steps),
    stepsPerEpoch: positiveInteger('stepsPerEpoch', options.stepsPerEpoch ?? 50),
    tileSize,
    batchSize: positiveInteger('batchSize', options.batchSize ?? 1),
    accumulate: positiveInteger('accumulate', options.accumulate ?? 1),
    optimizer,
    lr,
    momentum: options.momentum ?? 0.99,
    weightDecay: options.weightDecay ?? 0,
    schedule,
    augment,
    amp: options.amp ?? false,
    channelsLast: options.channelsLast ?? false,
    seed: options.seed ?? 0,
    model: model.options,
    backgroundWeight,
    validationTileSize,
    postprocess,
    selectBy,
    tta: options.tta ?? false,
  };
}

// Every sample's targets must be classes of the network, and one normalisation must hold for all.
function checkSamples(samples: TrainingSample[], classes: number, what: string): Normalisation {
  const normalisations = new Set(samples.map((sample) => sample.normalisation ?? 'zscore'));
  if (normalisations.size > 1) throw new RangeError(`train(): the ${what} samples mix normalisations (${[...normalisations].join(', ')})`);
  for (const sample of samples) {
    const top = tidy(() => sample.target.max().item() as number);
    if (top >= classes)
      throw new RangeError(
        `train(): ${what} sample '${sample.name}' has target class ${top}, but the network has ${classes} classes (a 'borders' target needs 3)`,
      );
  }
  return [...normalisations][0] ?? 'zscore';
}

function makeOptimizer(model: UNet, settings: Settings): Optimizer<{ lr: number }> {
  const parameters = [...model.parameters()];
  if (settings.optimizer === 'sgd')
    return new SGD(parameters, { lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
  const Kind = settings.optimizer === 'adam' ? Adam : AdamW;
  return new Kind(parameters, { lr: settings.lr, weightDecay: settings.weightDecay });
}

function makeScheduler(optimizer: Optimizer<{ lr: number }>, settings: Settings): LRScheduler | null {
  if (settings.schedule === 'poly') return new PolynomialLR(optimizer, settings.steps, 0.9);
  if (settings.schedule === 'cosine') return new CosineAnnealingLR(optimizer, settings.steps);
  return null;
}

// Settings that must agree for a checkpoint to continue this run (the step count may grow).
function sameRun(saved: Record<string, unknown>, settings: Settings): string | null {
  const { steps: _steps, ...rest } = settings;
  for (const [key, value] of Object.entries(rest)) {
    if (JSON.stringify(saved[key]) !== JSON.stringify(value))
      return `'${key}' was ${JSON.stringify(saved[key])} in the checkpoint, ${JSON.stringify(value)} now`;
  }
  return null;
}

/**
 * Trains `options.model`, yielding an event per step, per epoch (with validation scores) and per
 * checkpoint. Between steps it yields to the event loop. `for await (const event of train(o))`,
 * or `await runTraining(o)` for the result alone. With `outDir` the run's folder holds
 * model.json, checkpoint.pt (written before each validation, so a failed validation loses no
 * steps), best.safetensors (by `selectBy`), final.safetensors, metrics.jsonl and curves.png; with
 * validation images the post-processing is then chosen on them and recorded in model.json.
 */
export async function* train(options: TrainOptions): AsyncGenerator<TrainEvent, TrainResult> {
  const settings = settingsOf(options);
  const { model } = options;
  if (options.train.length === 0) throw new RangeError('train(): no training samples');
  const validation = options.validation ?? [];
  const normalisation = checkSamples(options.train, model.options.classes, 'training');
  if (validation.length > 0 && checkSamples(validation, model.options.classes, 'validation') !== normalisation) {
    throw new RangeError('train(): the training and validation samples were normalised differently');
  }
  const device = options.device ?? model.parameters().next().value?.device ?? 'cpu';
  if (settings.amp && !device.startsWith('cuda')) throw new RangeError("train(): option 'amp' needs a CUDA device");
  if (settings.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const optimizer = makeOptimizer(model, settings);
  const scheduler = makeScheduler(optimizer, settings);
  const scaler = settings.amp ? new GradScaler({ device: device.split(':')[0]! }) : null;
  const folder = options.outDir ? new RunFolder(options.outDir) : null;
  const description = (postprocess: PostprocessOptions): ModelDescription => ({
    options: model.options,
    normalisation,
    postprocess,
    tta: settings.tta,
    training: { ...options.record, ...settingsRecord(settings) },
  });
  let step = 0;
  let history: HistoryEntry[] = [];
  let losses: number[] = [];
  if (options.resume && folder?.hasCheckpoint()) {
    const saved = folder.readCheckpoint();
    const difference = sameRun(saved.settings, settings);
    if (difference !== null) throw new RangeError(`train(): ${folder.checkpointFile} is from a different run: ${difference}`);
    model.loadStateDict(saved.model);
    optimizer.loadStateDict(saved.optimizer as never);
    if (scheduler && saved.scheduler) scheduler.loadStateDict(saved.scheduler as never);
    if (scaler && saved.scaler) scaler.loadStateDict(saved.scaler as never);
    step = saved.step;
    history = saved.history as HistoryEntry[];
    // metrics.jsonl keeps what the checkpoint covers; later lines of the interrupted run go.
    losses = folder.truncateMetrics(step);
  } else {
    folder?.resetMetrics();
  }
  folder?.writeDescription(description(settings.postprocess));
  const emit = (event: TrainEvent): TrainEvent => {
    options.onEvent?.(event);
    return event;
  };
  // The state dicts' tensors are views made for the file: freed as soon as it is written.
  const writeCheckpoint = (): void => {
    if (!folder) return;
    tidy(() =>
      folder.writeCheckpoint({
        step,
        epoch: Math.floor(step / settings.stepsPerEpoch),
        settings: settings as unknown as Record<string, unknown>,
        model: model.stateDict(),
        optimizer: optimizer.stateDict() as unknown as TorchValue,
        scheduler: (scheduler?.stateDict() ?? null) as TorchValue,
        scaler: (scaler?.stateDict() ?? null) as TorchValue,
        history,
      }),
    );
  };
  // One step's gradients (batches of tiles, drawn and augmented from the step's seeds); the mean loss.
  const accumulateGradients = (step: number): number => {
    let loss = 0;
    for (let part = 0; part < settings.accumulate; part += 1) {
      loss +=
        tidy(() => {
          manualSeed(stepSeed(settings.seed, step, 2 * part)); // drop-out
          const random = new SeededRandom(stepSeed(settings.seed, step, 2 * part + 1));
          const tiles = sampleTiles(options.train, settings.batchSize, settings.tileSize, random, settings.backgroundWeight);
          const seeds = Array.from({ length: settings.batchSize }, () => Math.floor(random.uniform() * 2 ** 32));
          const batch = settings.augment
            ? augmentBatch(
                { image: tiles.image.to(device), label: tiles.target.to(device), weights: tiles.weights.to(device) },
                seeds,
                settings.augment,
              )
            : { image: tiles.image.to(device), label: tiles.target.to(device), weights: tiles.weights.to(device) };
          const input = settings.channelsLast ? batch.image.contiguous('channelsLast') : batch.image;
          const forward = (): ReturnType<typeof weightedCrossEntropy> =>
            weightedCrossEntropy(model.forward(input), batch.label!, batch.weights!);
          const value = settings.amp ? autocast(forward, { deviceType: 'cuda' }) : forward();
          const scaled = value.div(settings.accumulate);
          (scaler ? scaler.scale(scaled) : scaled).backward();
          return value.item() as number;
        }) / settings.accumulate;
    }
    return loss;
  };
  const validateAt = (at: number): ValidationScores => {
    try {
      return validate(model, validation, {
        tileSize: settings.validationTileSize,
        device,
        postprocess: settings.postprocess,
        selectBy: settings.selectBy,
      });
    } catch (error) {
      const kept = folder
        ? ` The checkpoint of step ${at} is in ${folder.checkpointFile}: resume with resume: true (unet train --resume).`
        : '';
      throw new ValidationError(`train(): validation at step ${at} failed: ${(error as Error).message}.${kept}`, { cause: error });
    }
  };
  const tilesPerStep = settings.batchSize * settings.accumulate;
  const start = Date.now();
  const firstStep = step;
  if (options.minutes !== undefined && !(options.minutes > 0))
    throw new RangeError(`train(): option 'minutes' must be > 0, got ${options.minutes}`);
  const deadline = options.minutes === undefined ? Infinity : start + options.minutes * 60_000;
  let timeUp = false;
  model.train();
  while (step < settings.steps && !timeUp) {
    if (options.signal?.aborted) {
      if (folder) {
        writeCheckpoint();
        yield emit({ type: 'checkpoint', step, file: folder.checkpointFile });
      }
      yield emit({ type: 'stopped', step });
      return { step, stopped: true, history, losses };
    }
    step += 1;
    let loss: number;
    optimizer.zeroGrad();
    try {
      loss = accumulateGradients(step);
    } catch (error) {
      if (!(error instanceof OutOfMemoryError)) throw error;
      const smallerTile = model.smallerInputSize(settings.tileSize);
      throw tileOutOfMemory(
        `train() step ${step}`,
        { tileSize: settings.tileSize, batchSize: settings.batchSize, smallerTile, device },
        error,
      );
    }
    if (scaler) {
      scaler.step(optimizer);
      scaler.update();
    } else {
      optimizer.step();
    }
    const lr = optimizer.paramGroups[0]!.lr;
    scheduler?.step();
    losses.push(loss);
    const elapsedMs = Date.now() - start;
    const rate = ((step - firstStep) * tilesPerStep) / (elapsedMs / 1000);
    folder?.appendMetrics({ step, loss, lr, elapsedMs });
    yield emit({
      type: 'step',
      step,
      steps: settings.steps,
      loss,
      lr,
      tilesPerSecond: rate,
      elapsedMs,
      etaMs: ((settings.steps - step) * tilesPerStep * 1000) / rate,
    });
    timeUp = Date.now() >= deadline;
    if (step % settings.stepsPerEpoch === 0 || step === settings.steps || timeUp) {
      const epoch = Math.ceil(step / settings.stepsPerEpoch);
      // The step's checkpoint comes first: whatever validation does, the steps are kept.
      writeCheckpoint();
      const scores = validation.length > 0 ? validateAt(step) : null;
      model.train();
      history.push({ epoch, step, validation: scores });
      folder?.appendMetrics({ epoch, step, validation: scores });
      yield emit({ type: 'epoch', epoch, step, validation: scores });
      if (folder) {
        if (scores !== null) {
          writeCheckpoint(); // now with this epoch in its history
          const best = history.every((entry) => entry === history[history.length - 1] || !(entry.validation!.score >= scores.score));
          if (best) folder.saveWeights('best', model);
        }
        folder.writeCurves(losses, history);
        yield emit({ type: 'checkpoint', step, file: folder.checkpointFile });
      }
    }
    await nextTurn();
  }
  let postprocess: PostprocessOptions | undefined;
  if (folder) {
    folder.saveWeights('final', model);
    if (validation.length > 0 && (options.calibrate ?? settings.postprocess.kind !== 'classes')) {
      const calibrated = calibrateBest(folder, model, options.train, validation, settings, device);
      postprocess = calibrated.postprocess;
      folder.writeDescription(description(postprocess));
      yield emit({ type: 'calibrated', postprocess, validation: calibrated.scores, trials: calibrated.trials });
    }
  }
  return { step, stopped: false, history, losses, ...(postprocess ? { postprocess } : {}) };
}

// The post-processing chosen with the best model (the one prediction loads) on the validation images.
function calibrateBest(
  folder: RunFolder,
  model: UNet,
  train: TrainingSample[],
  validation: TrainingSample[],
  settings: Settings,
  device: string,
): ReturnType<typeof calibratePostprocess> {
  const best = new UNet(model.options).to(device);
  try {
    const file = `${folder.dir}/best.safetensors`;
    tidy(() => best.loadStateDict(loadSafetensors(file).tensors));
    const probabilities = validationProbabilities(best, validation, { tileSize: settings.validationTileSize, device, tta: settings.tta });
    try {
      return calibratePostprocess(validation, probabilities, settings.postprocess, settings.selectBy, medianCellArea(train));
    } finally {
      dispose(probabilities);
    }
  } finally {
    best.dispose();
  }
}

// The settings worth keeping beside the model (JSON; the network's options are in model.json already).
function settingsRecord(settings: Settings): Record<string, unknown> {
  const { model: _model, postprocess: _postprocess, ...rest } = settings;
  return rest;
}

/** Runs `train(options)` to its end (events go to `options.onEvent`) and returns the result. */
export async function runTraining(options: TrainOptions): Promise<TrainResult> {
  const run = train(options);
  for (;;) {
    const next = await run.next();
    if (next.done) return next.value;
  }
}
