// One optimizer step's gradients: the batches of tiles drawn and augmented from the step's seeds,
// the weighted loss, backward (scaled under AMP). Every random choice comes from (seed, step,
// part), so a resumed run repeats the uninterrupted one exactly.
import { type GradScaler, autocast } from '../amp';
import { augmentBatch, SeededRandom } from '../augment';
import type { TrainingSample } from '../data/dataset';
import { dispose, keep, tidy } from '../memory';
import type { DistributedDataParallel } from '../nn/parallel';
import { Adam, AdamW, SGD } from '../optim';
import { CosineAnnealingLR, type LRScheduler, PolynomialLR } from '../optim/lr-scheduler';
import type { Optimizer } from '../optim/optimizer';
import { manualSeed } from '../runtime';
import type { Tensor } from '../tensor';
import type { UNet } from '../unet/model';
import { weightedLoss } from '../weightmap/loss';
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

/** A batch ready for the network: its tiles drawn, on the device, and augmented. */
export interface ReadyBatch {
  input: Tensor;
  label: Tensor;
  weights: Tensor;
}

/**
 * The training batches, each a function of (seed, step, batch index) alone, optionally prepared
 * one ahead. With `ahead`, the next batch is drawn and its augmentation queued while the current
 * step's backward is still queued on the device, before the step's loss is read: on CUDA the
 * host's work for the next batch then overlaps the device's work for this one, instead of the
 * device waiting for it after every step. On the CPU every op runs when called, so it gains
 * nothing there (and changes nothing: the same batches, bitwise).
 */
export class TrainingBatches {
  private next: { step: number; index: number; batch: ReadyBatch } | null = null;

  /**
   * @param samples the training samples, on `device` (tiles are cut where they lie)
   * @param settings the run's settings (tile size, batch size, sampling, augmentation)
   * @param device where the network runs
   * @param ahead whether `prefetch` prepares a batch (otherwise every batch is prepared when taken)
   */
  constructor(
    private readonly samples: TrainingSample[],
    private readonly settings: Settings,
    private readonly device: string,
    readonly ahead: boolean,
  ) {}

  /** Batch `index` of step `step`; the caller disposes it. */
  take(step: number, index: number): ReadyBatch {
    const held = this.next;
    this.next = null;
    if (held !== null && held.step === step && held.index === index) return held.batch;
    if (held !== null) dispose(held.batch);
    return this.prepare(step, index);
  }

  /** Prepares batch `index` of step `step` now, when batches are prepared ahead. */
  prefetch(step: number, index: number): void {
    if (!this.ahead) return;
    if (this.next !== null) dispose(this.next.batch);
    this.next = { step, index, batch: this.prepare(step, index) };
  }

  /** Frees a batch prepared ahead and not taken (the run ended before its step). */
  dispose(): void {
    if (this.next !== null) dispose(this.next.batch);
    this.next = null;
  }

  private prepare(step: number, index: number): ReadyBatch {
    const { samples, settings, device } = this;
    const batch = tidy((): ReadyBatch => {
      const random = new SeededRandom(stepSeed(settings.seed, step, 2 * index + 1));
      const tiles = sampleTiles(samples, settings.batchSize, settings.tileSize, random, settings.backgroundWeight, settings.imageSampling);
      const seeds = Array.from({ length: settings.batchSize }, () => Math.floor(random.uniform() * 2 ** 32));
      const onDevice = { image: tiles.image.to(device), label: tiles.target.to(device), weights: tiles.weights.to(device) };
      const augmented = settings.augment ? augmentBatch(onDevice, seeds, settings.augment) : onDevice;
      const input = settings.channelsLast ? augmented.image.contiguous('channelsLast') : augmented.image;
      return { input, label: augmented.label!, weights: augmented.weights! };
    });
    // Owned by the caller, whatever tidy() scope takes or prefetches it.
    keep(batch.input);
    keep(batch.label);
    keep(batch.weights);
    return batch;
  }
}

/**
 * Seeds drop-out for batch `index` of step `step`: every way a step runs (eager, resumed, replayed
 * from a CUDA graph) draws the same masks.
 */
export function seedDropout(settings: Settings, step: number, index: number): void {
  manualSeed(stepSeed(settings.seed, step, 2 * index));
}

/** The weighted loss of `batch` through `forward`, the loss every step minimises. */
export function batchLoss(forward: (input: Tensor) => Tensor, batch: ReadyBatch): Tensor {
  return weightedLoss(forward(batch.input), batch.label, batch.weights);
}

/** What a step needs besides its number. */
export interface StepContext {
  model: UNet;
  batches: TrainingBatches;
  settings: Settings;
  scaler: GradScaler | null;
  /** Across ranks: the model wrapped, and this process's rank (its tiles are its own). */
  parallel: { wrapped: DistributedDataParallel<UNet>; rank: number } | null;
}

/**
 * A step's losses, one per accumulated batch, still on the device: read them (`read()`) once the
 * optimizer's step is queued, so that the device has that work while the host waits for them.
 */
export class StepLoss {
  constructor(private readonly parts: Tensor[]) {}

  /** This process's mean loss over the step's batches; frees the parts. */
  read(): number {
    try {
      return this.parts.reduce((sum, part) => sum + (part.item() as number) / this.parts.length, 0);
    } finally {
      this.dispose();
    }
  }

  /** Frees the parts unread (the step failed). */
  dispose(): void {
    dispose(this.parts);
  }
}

/**
 * The batch a rank takes after part `part` of step `step` (its parts are the indices from `first`):
 * the step's next part, else the next step's first, else none after the run's last step. The
 * step prefetches it while the device is busy with this one.
 */
export function batchAfter(settings: Settings, step: number, part: number, first: number): { step: number; index: number } | null {
  if (part + 1 < settings.accumulate) return { step, index: first + part + 1 };
  return step < settings.steps ? { step: step + 1, index: first } : null;
}

/**
 * Accumulates step `step`'s gradients into the model's parameters; returns this process's losses.
 * Across N ranks, rank r draws the tiles that parts r·A … r·A + A − 1 of one process
 * accumulating N·A batches would draw, and backward leaves every rank with the average over all
 * ranks: N ranks × `accumulate` A train as one process with `accumulate` N·A.
 */
export function accumulateGradients({ model, batches, settings, scaler, parallel }: StepContext, step: number): StepLoss {
  const parts: Tensor[] = [];
  const forward = (input: Tensor): Tensor => (parallel ? (parallel.wrapped.forward(input) as Tensor) : model.forward(input));
  const first = (parallel?.rank ?? 0) * settings.accumulate;
  for (let part = 0; part < settings.accumulate; part += 1) {
    const index = first + part;
    const next = batchAfter(settings, step, part, first);
    const run = (): Tensor => {
      const batch = batches.take(step, index);
      try {
        return tidy(() => {
          seedDropout(settings, step, index);
          const lossOf = (): Tensor => batchLoss(forward, batch);
          const value = settings.amp ? autocast(lossOf, { deviceType: 'cuda' }) : lossOf();
          const scaled = value.div(settings.accumulate);
          (scaler ? scaler.scale(scaled) : scaled).backward();
          if (next !== null) batches.prefetch(next.step, next.index); // see TrainingBatches
          return keep(value.detach());
        });
      } finally {
        dispose(batch);
      }
    };
    try {
      // Only the last part's backward all-reduces: the others accumulate locally (DDP's no_sync).
      parts.push(parallel !== null && part < settings.accumulate - 1 ? parallel.wrapped.noSync(run) : run());
    } catch (error) {
      dispose(parts);
      throw error;
    }
  }
  return new StepLoss(parts);
}
