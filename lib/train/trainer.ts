// The training loop of the paper (one large tile per step, SGD with momentum 0.99, weighted
// soft-max cross-entropy, elastic deformation) with the usual modern options. Every random
// choice of a step derives from (seed, step), so a run resumed from a checkpoint repeats the
// uninterrupted run exactly.
import { setImmediate as nextTurn } from 'node:timers/promises';

import { GradScaler } from '../amp';
import { tensor } from '../creation';
import type { TrainingSample } from '../data/dataset';
import { allReduce, collectiveDevice, type ProcessGroup } from '../distributed';
import { OutOfMemoryError, tileOutOfMemory } from '../errors';
import { loadSafetensors } from '../io/safetensors';
import { dispose, keep, tidy } from '../memory';
import { SyncBatchNorm } from '../nn/modules/norm';
import { DistributedDataParallel } from '../nn/parallel';
import type { PostprocessOptions } from '../predict/instances';
import { UNet } from '../unet/model';
import type { ModelDescription } from '../unet/model-files';
import { calibrateModel, fixedPostprocess, medianCellArea } from './calibrate';
import { checkSamples, sameRun, type Settings, settingsOf, type TrainEvent, type TrainOptions, type TrainResult } from './options';
import { PAPER_AUGMENTATION } from './recipes';
import { type HistoryEntry, RunFolder } from './run-folder';
import { cudaGraphsRefusal, GraphedGradients } from './graphed-step';
import { accumulateGradients, makeOptimizer, makeScheduler, type StepContext, type StepLoss, TrainingBatches } from './step';
import { validate, validateAcross, type ValidationScores } from './validate';

export type { TrainEvent, TrainOptions, TrainResult } from './options';
export { PAPER_AUGMENTATION };

/** Thrown when validation fails; the step's checkpoint was written before it ran. */
export class ValidationError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'ValidationError';
}

/**
 * Trains `options.model`, yielding an event per step, per epoch (with validation scores) and per
 * checkpoint. Between steps it yields to the event loop. `for await (const event of train(o))`,
 * or `await runTraining(o)` for the result alone. With `outDir` the run's folder holds
 * model.json, checkpoint.pt (once an epoch, after validation; also when validation fails, so that
 * no step is lost), best.safetensors (by `selectBy`; not with `keep: 'final'`), final.safetensors,
 * metrics.jsonl and curves.png; with validation images the post-processing is then chosen on them
 * for the kept model and recorded in model.json.
 * With `processGroup` every rank runs this with the same options and only rank 0 writes.
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
  const graphRefusal = options.cudaGraphs ? cudaGraphsRefusal(settings, device) : null;
  if (graphRefusal !== null) throw new RangeError(`train(): option 'cudaGraphs' ${graphRefusal}`);
  if (settings.channelsLast) model.to({ memoryFormat: 'channelsLast' });
  const optimizer = makeOptimizer(model, settings);
  const scheduler = makeScheduler(optimizer, settings);
  const scaler = settings.amp ? new GradScaler({ device: device.split(':')[0]! }) : null;
  const group = options.processGroup ?? null;
  if (group?.backend === 'nccl' && !device.startsWith('cuda')) {
    throw new RangeError(`train(): option 'processGroup' runs over NCCL, which needs a CUDA device, got device '${device}'`);
  }
  const rank = group?.rank ?? 0;
  // Every rank reads the run folder (to resume); rank 0 alone writes it.
  const runFolder = options.outDir ? new RunFolder(options.outDir) : null;
  const folder = rank === 0 ? runFolder : null;
  const description = (postprocess: PostprocessOptions): ModelDescription => ({
    options: model.options,
    normalisation,
    postprocess,
    tta: settings.tta,
    training: { ...options.record, ...settingsRecord(settings) },
  });
  let step = 0;
  let history: HistoryEntry[] = [];
  let resumed = false;
  if (options.resume && runFolder?.hasCheckpoint()) {
    const saved = runFolder.readCheckpoint();
    const difference = sameRun(saved.settings, settings);
    if (difference !== null) throw new RangeError(`train(): ${runFolder.checkpointFile} is from a different run: ${difference}`);
    model.loadStateDict(saved.model);
    optimizer.loadStateDict(saved.optimizer);
    if (scheduler && saved.scheduler) scheduler.loadStateDict(saved.scheduler);
    if (scaler && saved.scaler) scaler.loadStateDict(saved.scaler);
    step = saved.step;
    history = saved.history;
    resumed = true;
  }
  // Wrapping copies rank 0's weights to every rank; backward then averages gradients across ranks.
  // Batch normalisation (the padded preset) then takes its statistics over every rank's tiles.
  // It also checks that the ranks agree: metrics.jsonl is rewritten only after it.
  const wrapped =
    group !== null && group.size > 1
      ? new DistributedDataParallel(SyncBatchNorm.convertSyncBatchnorm(model, group), { processGroup: group })
      : null;
  // metrics.jsonl keeps what the checkpoint covers; later lines of the interrupted run go. The
  // other ranks read the same losses, so that every rank returns the whole run's.
  let losses: number[] = [];
  if (resumed) losses = folder ? folder.truncateMetrics(step) : runFolder!.lossesUpTo(step);
  else folder?.resetMetrics();
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
        settings,
        model: model.stateDict(),
        optimizer: optimizer.stateDict(),
        scheduler: scheduler?.stateDict() ?? null,
        scaler: scaler?.stateDict() ?? null,
        history,
      }),
    );
  };
  // Rank 0 calibrates the kept model at the end; every rank must validate alike before it.
  const calibrates = runFolder !== null && validation.length > 0 && (options.calibrate ?? settings.postprocess.kind !== 'classes');
  // A grid of one setting is what the kept model will be post-processed with: the epochs are
  // scored with it too, so that the curve shows what prediction will do.
  const fixed = calibrates
    ? fixedPostprocess(settings.calibrationGrid, settings.postprocess, settings.selectBy, () => medianCellArea(options.train))
    : null;
  const validationPostprocess = fixed ?? settings.postprocess;
  const validateAt = async (at: number): Promise<ValidationScores> => {
    const validateOptions = {
      tileSize: settings.validationTileSize,
      device,
      postprocess: validationPostprocess,
      selectBy: settings.selectBy,
    };
    try {
      return wrapped && group
        ? await validateAcross(group, model, validation, validateOptions)
        : validate(model, validation, validateOptions);
    } catch (error) {
      writeCheckpoint(); // whatever validation does, the steps are kept
      const kept = folder ? ` The checkpoint of step ${at} is in ${folder.checkpointFile}: continue from it with option 'resume'.` : '';
      throw new ValidationError(`train(): validation at step ${at} failed: ${(error as Error).message}.${kept}`, { cause: error });
    }
  };
  // On a GPU the samples are copied there once, so that tiles are cut on the device; the CPU
  // path uses them as they are.
  const samples = device === 'cpu' ? options.train : options.train.map((sample) => samplesOn(sample, device));
  const batches = new TrainingBatches(samples, settings, device, options.prefetch ?? device.startsWith('cuda'));
  const stepContext: StepContext = { model, batches, settings, scaler, parallel: wrapped ? { wrapped, rank } : null };
  const tilesPerStep = settings.batchSize * settings.accumulate * settings.worldSize;
  const start = Date.now();
  const firstStep = step;
  const graphed = options.cudaGraphs ? new GraphedGradients(stepContext, optimizer, firstStep) : null;
  const deadline = options.minutes === undefined ? Infinity : start + options.minutes * 60_000;
  let timeUp = false;
  let stopping = false;
  try {
    if (options.validateStart && !resumed && validation.length > 0) {
      const scores = await validateAt(0);
      history.push({ epoch: 0, step: 0, validation: scores });
      folder?.appendMetrics({ epoch: 0, step: 0, validation: scores });
      if (settings.keep === 'best') folder?.saveWeights('best', model);
      yield emit({ type: 'epoch', epoch: 0, step: 0, validation: scores });
    }
    model.train();
    while (step < settings.steps && !timeUp) {
      // Across ranks, a stop is agreed after a step (below), so that every rank stops at the same one.
      if (wrapped === null && options.signal?.aborted) stopping = true;
      if (stopping) {
        if (folder) {
          writeCheckpoint();
          yield emit({ type: 'checkpoint', step, file: folder.checkpointFile });
        }
        yield emit({ type: 'stopped', step });
        return { step, stopped: true, history, losses };
      }
      step += 1;
      let stepLoss: StepLoss;
      try {
        if (graphed) stepLoss = graphed.compute(step);
        else {
          optimizer.zeroGrad();
          stepLoss = accumulateGradients(stepContext, step);
        }
      } catch (error) {
        if (!(error instanceof OutOfMemoryError)) throw error;
        const smallerTile = model.smallerInputSize(settings.tileSize);
        throw tileOutOfMemory(
          `train() step ${step}`,
          { tileSize: settings.tileSize, batchSize: settings.batchSize, smallerTile, device },
          error,
        );
      }
      const lr = optimizer.paramGroups[0]!.lr;
      try {
        if (scaler) {
          scaler.step(optimizer);
          scaler.update();
        } else {
          optimizer.step();
        }
        scheduler?.step();
      } catch (error) {
        stepLoss.dispose();
        throw error;
      }
      // Read once the optimizer's work is queued: on a GPU the device is busy while the host waits.
      let loss = stepLoss.read();
      timeUp = Date.now() >= deadline;
      if (wrapped && group) ({ loss, stopping, timeUp } = await agree(group, device, loss, options.signal?.aborted ?? false, timeUp));
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
      if (step % settings.stepsPerEpoch === 0 || step === settings.steps || timeUp) {
        const epoch = Math.ceil(step / settings.stepsPerEpoch);
        const scores = validation.length > 0 ? await validateAt(step) : null;
        model.train();
        history.push({ epoch, step, validation: scores });
        folder?.appendMetrics({ epoch, step, validation: scores });
        // One checkpoint an epoch, with the epoch in its history, before anything else is told of
        // it: a caller that stops at the epoch event keeps it. (Written before validation as well,
        // it cost the paper's network two 237 MB files an epoch.)
        if (folder) {
          writeCheckpoint();
          const best =
            scores !== null &&
            history.every((entry) => entry === history[history.length - 1] || !(entry.validation!.score >= scores.score));
          if (best && settings.keep === 'best') folder.saveWeights('best', model);
        }
        yield emit({ type: 'epoch', epoch, step, validation: scores });
        if (folder) {
          folder.writeCurves(losses, history);
          yield emit({ type: 'checkpoint', step, file: folder.checkpointFile });
        }
      }
      await nextTurn();
    }
  } finally {
    graphed?.dispose();
    batches.dispose();
    if (samples !== options.train) dispose(samples.flatMap((sample) => [sample.image, sample.target, sample.weights]));
    if (wrapped) SyncBatchNorm.revertSyncBatchnorm(wrapped.unwrap());
  }
  let postprocess: PostprocessOptions | undefined;
  if (folder) {
    folder.saveWeights('final', model);
    if (calibrates) {
      const calibrated = calibrateKept(folder, model, options.train, validation, settings, device);
      postprocess = calibrated.postprocess;
      folder.writeDescription(description(postprocess));
      yield emit({ type: 'calibrated', postprocess, validation: calibrated.scores, trials: calibrated.trials });
    }
  }
  return { step, stopped: false, history, losses, ...(postprocess ? { postprocess } : {}) };
}

/**
 * What the ranks agree on after a step, in one all-reduce: the loss averaged over the ranks (the
 * loss of the step's whole batch), and whether any rank was asked to stop or ran out of time.
 */
async function agree(
  group: ProcessGroup,
  device: string,
  loss: number,
  aborted: boolean,
  timeUp: boolean,
): Promise<{ loss: number; stopping: boolean; timeUp: boolean }> {
  const values = tensor([loss, aborted ? 1 : 0, timeUp ? 1 : 0], { dtype: 'float64', device: collectiveDevice(group, device) });
  try {
    await allReduce(values, { group });
    const [sum, stops, late] = values.toArray() as number[];
    return { loss: sum! / group.size, stopping: stops! > 0, timeUp: late! > 0 };
  } finally {
    values.dispose();
  }
}

// The post-processing chosen with the kept model (the one prediction loads) on the validation images.
function calibrateKept(
  folder: RunFolder,
  model: UNet,
  train: TrainingSample[],
  validation: TrainingSample[],
  settings: Settings,
  device: string,
): ReturnType<typeof calibrateModel> {
  const kept = new UNet(model.options).to(device);
  try {
    const file = `${folder.dir}/${settings.keep}.safetensors`;
    tidy(() => kept.loadStateDict(loadSafetensors(file).tensors));
    const predictOptions = { tileSize: settings.validationTileSize, device, tta: settings.tta };
    return calibrateModel(kept, train, validation, predictOptions, settings.postprocess, settings.selectBy, settings.calibrationGrid);
  } finally {
    kept.dispose();
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

/** A training sample whose image, target and weights are copied to `device` (what tiles are cut from). */
function samplesOn(sample: TrainingSample, device: string): TrainingSample {
  return tidy(() => {
    const image = keep(sample.image.to(device));
    const target = keep(sample.target.to(device));
    const weights = keep(sample.weights.to(device));
    return { ...sample, image, target, weights };
  });
}
