// The training loop of the paper (one large tile per step, SGD with momentum 0.99, weighted
// soft-max cross-entropy, elastic deformation) with the usual modern options. Every random
// choice of a step derives from (seed, step), so a run resumed from a checkpoint repeats the
// uninterrupted run exactly.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';

import { GradScaler, autocast } from '../amp';
import { augmentBatch, type AugmentOptions, SeededRandom, validateAugmentOptions } from '../augment';
import type { TrainingSample } from '../data/dataset';
import { saveSafetensors } from '../io/safetensors';
import { writeFileAtomic } from '../io/atomic';
import { OutOfMemoryError, tileOutOfMemory } from '../errors';
import { tidy } from '../memory';
import { Adam, AdamW, SGD } from '../optim';
import { CosineAnnealingLR, type LRScheduler, PolynomialLR } from '../optim/lr-scheduler';
import type { Optimizer } from '../optim/optimizer';
import { manualSeed } from '../runtime';
import type { TorchValue } from '../io/torch-file';
import type { UNet } from '../unet/model';
import { weightedCrossEntropy } from '../weightmap/loss';
import { loadCheckpoint, saveCheckpoint } from './checkpoint';
import { writeCurves } from './curves';
import { stepSeed } from './seeds';
import { sampleTiles } from './tiles';
import { validate, type ValidationScores } from './validate';

/** The paper's augmentation: elastic deformation (3 × 3, σ = 10), any rotation, flips, mild gray values. */
export const PAPER_AUGMENTATION: AugmentOptions = { rotation: 180, flip: true, brightness: 0.1, contrast: 0.1 };

/** Options of `train`. */
export interface TrainOptions {
  /** The network to train (on `device`); its state is updated in place. */
  model: UNet;
  /** Training samples (see `prepareSamples`). */
  train: TrainingSample[];
  /** Held-out samples scored after every epoch (optional). */
  validation?: TrainingSample[];
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
  /** Called with every event, as the iteration yields it. */
  onEvent?: (event: TrainEvent) => void;
}

/** What the training loop reports. */
export type TrainEvent =
  | { type: 'step'; step: number; steps: number; loss: number; lr: number; tilesPerSecond: number; elapsedMs: number; etaMs: number }
  | { type: 'epoch'; epoch: number; step: number; validation: ValidationScores | null }
  | { type: 'checkpoint'; step: number; file: string }
  | { type: 'stopped'; step: number };

/** How the run ended. */
export interface TrainResult {
  step: number;
  stopped: boolean;
  history: { epoch: number; step: number; validation: ValidationScores | null }[];
  losses: number[];
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
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`train(): option '${name}' must be a positive integer, got ${value}`);
  return value;
}

function settingsOf(options: TrainOptions): Settings {
  const optimizer = options.optimizer ?? 'sgd';
  if (!['sgd', 'adam', 'adamw'].includes(optimizer)) throw new RangeError(`train(): option 'optimizer' must be 'sgd', 'adam' or 'adamw', got ${JSON.stringify(optimizer)}`);
  const schedule = options.schedule ?? 'constant';
  if (!['constant', 'poly', 'cosine'].includes(schedule)) throw new RangeError(`train(): option 'schedule' must be 'constant', 'poly' or 'cosine', got ${JSON.stringify(schedule)}`);
  const model = options.model;
  const tileSize = options.tileSize ?? model.defaultTileSize;
  model.outputSize(tileSize); // throws with the nearest valid sizes
  const lr = options.lr ?? (optimizer === 'sgd' ? 0.01 : 1e-3);
  if (!(lr > 0)) throw new RangeError(`train(): option 'lr' must be > 0, got ${lr}`);
  const augment = options.augment ?? PAPER_AUGMENTATION;
  if (augment) validateAugmentOptions(augment);
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
  };
}

function makeOptimizer(model: UNet, settings: Settings): Optimizer<{ lr: number }> {
  const parameters = [...model.parameters()];
  if (settings.optimizer === 'sgd') return new SGD(parameters, { lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
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
    if (JSON.stringify(saved[key]) !== JSON.stringify(value)) return `'${key}' was ${JSON.stringify(saved[key])} in the checkpoint, ${JSON.stringify(value)} now`;
  }
  return null;
}

/**
 * Trains `options.model`, yielding an event per step, per epoch (with validation scores) and per
 * checkpoint. Between steps it yields to the event loop. `for await (const event of train(o))`,
 * or `await runTraining(o)` for the result alone.
 */
export async function* train(options: TrainOptions): AsyncGenerator<TrainEvent, TrainResult> {
  const settings = settingsOf(options);
  const { model } = options;
  if (options.train.length === 0) throw new RangeError('train(): no training samples');
  const device = options.device ?? model.parameters().next().value?.device ?? 'cpu';
  if (settings.amp && !device.startsWith('cuda')) throw new RangeError('train(): option \'amp\' needs a CUDA device');
  if (settings.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const optimizer = makeOptimizer(model, settings);
  const scheduler = makeScheduler(optimizer, settings);
  const scaler = settings.amp ? new GradScaler({ device: device.split(':')[0]! }) : null;
  const outDir = options.outDir;
  const checkpointFile = outDir ? path.join(outDir, 'checkpoint.pt') : null;
  const metricsFile = outDir ? path.join(outDir, 'metrics.jsonl') : null;
  if (outDir) fs.mkdirSync(outDir, { recursive: true });
  let step = 0;
  let history: TrainResult['history'] = [];
  const losses: number[] = [];
  if (options.resume && checkpointFile && fs.existsSync(checkpointFile)) {
    const saved = loadCheckpoint(checkpointFile);
    const difference = sameRun(saved.settings, settings);
    if (difference !== null) throw new RangeError(`train(): ${checkpointFile} is from a different run: ${difference}`);
    model.loadStateDict(saved.model);
    optimizer.loadStateDict(saved.optimizer as never);
    if (scheduler && saved.scheduler) scheduler.loadStateDict(saved.scheduler as never);
    if (scaler && saved.scaler) scaler.loadStateDict(saved.scaler as never);
    step = saved.step;
    history = saved.history as TrainResult['history'];
    // metrics.jsonl keeps what the checkpoint covers; later lines of the interrupted run go.
    if (metricsFile && fs.existsSync(metricsFile)) {
      const kept = fs.readFileSync(metricsFile, 'utf8').split('\n').filter((line) => line !== '' && (JSON.parse(line) as { step: number }).step <= step);
      writeFileAtomic(metricsFile, kept.map((line) => `${line}\n`).join(''));
      for (const line of kept) {
        const record = JSON.parse(line) as { loss?: number };
        if (record.loss !== undefined) losses.push(record.loss);
      }
    }
  } else if (metricsFile) {
    writeFileAtomic(metricsFile, '');
  }
  const emit = (event: TrainEvent): TrainEvent => {
    options.onEvent?.(event);
    return event;
  };
  const writeCheckpoint = (file: string): void => {
    saveCheckpoint(file, {
      step,
      epoch: Math.floor(step / settings.stepsPerEpoch),
      settings: settings as unknown as Record<string, unknown>,
      model: model.stateDict(),
      optimizer: optimizer.stateDict() as unknown as TorchValue,
      scheduler: (scheduler?.stateDict() ?? null) as TorchValue,
      scaler: (scaler?.stateDict() ?? null) as TorchValue,
      history,
    });
  };
  // One step's gradients (batches of tiles, drawn and augmented from the step's seeds); the mean loss.
  const accumulateGradients = (step: number): number => {
    let loss = 0;
    for (let part = 0; part < settings.accumulate; part += 1) {
      loss += tidy(() => {
        manualSeed(stepSeed(settings.seed, step, 2 * part)); // drop-out
        const random = new SeededRandom(stepSeed(settings.seed, step, 2 * part + 1));
        const tiles = sampleTiles(options.train, settings.batchSize, settings.tileSize, random);
        const seeds = Array.from({ length: settings.batchSize }, () => Math.floor(random.uniform() * 2 ** 32));
        const batch = settings.augment
          ? augmentBatch({ image: tiles.image.to(device), label: tiles.target.to(device), weights: tiles.weights.to(device) }, seeds, settings.augment)
          : { image: tiles.image.to(device), label: tiles.target.to(device), weights: tiles.weights.to(device) };
        const input = settings.channelsLast ? batch.image.contiguous('channelsLast') : batch.image;
        const forward = (): ReturnType<typeof weightedCrossEntropy> => weightedCrossEntropy(model.forward(input), batch.label!, batch.weights!);
        const value = settings.amp ? autocast(forward, { deviceType: 'cuda' }) : forward();
        const scaled = value.div(settings.accumulate);
        (scaler ? scaler.scale(scaled) : scaled).backward();
        return value.item() as number;
      }) / settings.accumulate;
    }
    return loss;
  };
  const tilesPerStep = settings.batchSize * settings.accumulate;
  const start = Date.now();
  const firstStep = step;
  model.train();
  while (step < settings.steps) {
    if (options.signal?.aborted) {
      if (checkpointFile) {
        writeCheckpoint(checkpointFile);
        yield emit({ type: 'checkpoint', step, file: checkpointFile });
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
      throw tileOutOfMemory(`train() step ${step}`, { tileSize: settings.tileSize, batchSize: settings.batchSize, smallerTile, device }, error);
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
    if (metricsFile) fs.appendFileSync(metricsFile, `${JSON.stringify({ step, loss, lr, elapsedMs })}\n`);
    yield emit({ type: 'step', step, steps: settings.steps, loss, lr, tilesPerSecond: rate, elapsedMs, etaMs: ((settings.steps - step) * tilesPerStep * 1000) / rate });
    if (step % settings.stepsPerEpoch === 0 || step === settings.steps) {
      const epoch = Math.ceil(step / settings.stepsPerEpoch);
      const validation = options.validation && options.validation.length > 0 ? validate(model, options.validation, { tileSize: settings.tileSize, device }) : null;
      model.train();
      history.push({ epoch, step, validation });
      if (metricsFile) fs.appendFileSync(metricsFile, `${JSON.stringify({ epoch, step, validation })}\n`);
      yield emit({ type: 'epoch', epoch, step, validation });
      if (outDir && checkpointFile) {
        writeCheckpoint(checkpointFile);
        const foreground = (entry: (typeof history)[number]): number => entry.validation?.iou[entry.validation.iou.length - 1] ?? -Infinity;
        if (validation && history.every((entry) => entry === history[history.length - 1] || foreground(entry) < foreground(history[history.length - 1]!))) {
          saveSafetensors(path.join(outDir, 'best.safetensors'), model.stateDict());
        }
        writeCurves(path.join(outDir, 'curves.png'), losses, history);
        yield emit({ type: 'checkpoint', step, file: checkpointFile });
      }
    }
    await nextTurn();
  }
  if (outDir) saveSafetensors(path.join(outDir, 'final.safetensors'), model.stateDict());
  return { step, stopped: false, history, losses };
}

/** Runs `train(options)` to its end (events go to `options.onEvent`) and returns the result. */
export async function runTraining(options: TrainOptions): Promise<TrainResult> {
  const run = train(options);
  for (;;) {
    const next = await run.next();
    if (next.done) return next.value;
  }
}
