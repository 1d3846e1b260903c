// One optimizer step's gradients: the batches of tiles drawn and augmented from the step's seeds,
// the weighted loss, backward (scaled under AMP). Every random choice comes from (seed, step,
// part), so a resumed run repeats the uninterrupted one exactly.
import { type GradScaler, autocast } from '../amp';
import { augmentBatch, SeededRandom } from '../augment';
import type { TrainingSample } from '../data/dataset';
import { tidy } from '../memory';
import type { DistributedDataParallel } from '../nn/parallel';
import { Adam, AdamW, SGD } from '../optim';
import { CosineAnnealingLR, type LRScheduler, PolynomialLR } from '../optim/lr-scheduler';
import type { Optimizer } from '../optim/optimizer';
import { manualSeed } from '../runtime';
import type { Tensor } from '../tensor';
import type { UNet } from '../unet/model';
import { weightedCrossEntropy } from '../weightmap/loss';
import type { Settings } from './options';
import { stepSeed } from './seeds';
import { sampleTiles } from './tiles';

/** The optimizer the settings name, over the model's parameters. */
export function makeOptimizer(model: UNet, settings: Settings): Optimizer<{ lr: number }> {
  const parameters = [...model.parameters()];
  if (settings.optimizer === 'sgd')
    return new SGD(parameters, { lr: settings.lr, momentum: settings.momentum, weightDecay: settings.weightDecay });
  const Kind = settings.optimizer === 'adam' ? Adam : AdamW;
  return new Kind(parameters, { lr: settings.lr, weightDecay: settings.weightDecay });
}

/** The learning-rate schedule the settings name (null: constant). */
export function makeScheduler(optimizer: Optimizer<{ lr: number }>, settings: Settings): LRScheduler | null {
  if (settings.schedule === 'poly') return new PolynomialLR(optimizer, settings.steps, 0.9);
  if (settings.schedule === 'cosine') return new CosineAnnealingLR(optimizer, settings.steps);
  return null;
}

/** What a step needs besides its number. */
export interface StepContext {
  model: UNet;
  samples: TrainingSample[];
  settings: Settings;
  device: string;
  scaler: GradScaler | null;
  /** Across ranks: the model wrapped, and this process's rank (its tiles are its own). */
  parallel: { wrapped: DistributedDataParallel<UNet>; rank: number } | null;
}

/**
 * Accumulates step `step`'s gradients into the model's parameters; returns this process's mean
 * loss. Across N ranks, rank r draws the tiles that parts r·A … r·A + A − 1 of one process
 * accumulating N·A batches would draw, and backward leaves every rank with the average over all
 * ranks: N ranks × `accumulate` A train as one process with `accumulate` N·A.
 */
export function accumulateGradients({ model, samples, settings, device, scaler, parallel }: StepContext, step: number): number {
  let loss = 0;
  const forward = (input: Tensor): Tensor => (parallel ? (parallel.wrapped.forward(input) as Tensor) : model.forward(input));
  for (let part = 0; part < settings.accumulate; part += 1) {
    const index = part + (parallel?.rank ?? 0) * settings.accumulate;
    const run = (): number =>
      tidy(() => {
        manualSeed(stepSeed(settings.seed, step, 2 * index)); // drop-out
        const random = new SeededRandom(stepSeed(settings.seed, step, 2 * index + 1));
        const tiles = sampleTiles(
          samples,
          settings.batchSize,
          settings.tileSize,
          random,
          settings.backgroundWeight,
          settings.imageSampling,
        );
        const seeds = Array.from({ length: settings.batchSize }, () => Math.floor(random.uniform() * 2 ** 32));
        const onDevice = { image: tiles.image.to(device), label: tiles.target.to(device), weights: tiles.weights.to(device) };
        const batch = settings.augment ? augmentBatch(onDevice, seeds, settings.augment) : onDevice;
        const input = settings.channelsLast ? batch.image.contiguous('channelsLast') : batch.image;
        const lossOf = (): ReturnType<typeof weightedCrossEntropy> => weightedCrossEntropy(forward(input), batch.label!, batch.weights!);
        const value = settings.amp ? autocast(lossOf, { deviceType: 'cuda' }) : lossOf();
        const scaled = value.div(settings.accumulate);
        (scaler ? scaler.scale(scaled) : scaled).backward();
        return value.item() as number;
      });
    // Only the last part's backward all-reduces: the others accumulate locally (DDP's no_sync).
    loss += (parallel !== null && part < settings.accumulate - 1 ? parallel.wrapped.noSync(run) : run()) / settings.accumulate;
  }
  return loss;
}
