// `unet train --data DIR --out RUN`: trains a U-Net on a folder of images and labels.
import * as path from 'node:path';

import { isAvailable as cudaIsAvailable } from '../cuda';
import { prepareSamples, type TrainingSample } from '../data/dataset';
import { loadFolder, splitSamples } from '../data/folder';
import { backendFor, destroyProcessGroup, initProcessGroup, localDevice, type ProcessGroup } from '../distributed';
import { classesFor } from '../data/targets';
import { dispose } from '../memory';
import { manualSeed } from '../runtime';
import { RunFolder } from '../train/run-folder';
import { runTraining, type TrainEvent, type TrainOptions, type TrainResult } from '../train/trainer';
import type { UNet } from '../unet/model';
import { folderWeights, loadTrainedModel, modelDescriptionAt, readModelDescription } from '../unet/model-files';
import { resolveModel } from '../unet/shipped-models';
import { basePostprocess } from '../raster/postprocess';
import { createUNet } from '../unet/presets';
import { numberOption } from './args';
import { applyCommonFlags } from './common-flags';
import { defineCommand, UsageError, withFlags } from './command';
import { LAUNCH_FLAGS, launchPlan, launchRanks } from './launch';
import { progressPrinter } from './progress';
import { describeRequest, OPTION_FLAGS, TRAINING_FLAGS, trainingRequest, type TrainingRequest } from './training-flags';

/** `load` of the model `--init` names (a location or a shipped name), its errors naming the flag. */
function fromInit<T>(init: string, load: (location: string) => T): T {
  try {
    return load(resolveModel(init));
  } catch (error) {
    throw new Error(`--init ${init}: ${(error as Error).message}`);
  }
}

/**
 * Reads a data folder as a request says (normalisation, label kind, targets); with `--init`, each
 * image given the channels of that network, as `unet predict` gives them.
 */
export function loadTrainingSamples(folder: string, request: TrainingRequest): TrainingSample[] {
  const kind = request.labels;
  const classes = kind === 'classes' ? request.classes : classesFor('instances', request.targets);
  const fit = request.init === null ? {} : { channels: fromInit(request.init, modelDescriptionAt).options.inChannels };
  try {
    return prepareSamples(loadFolder(folder, request.normalisation, fit), kind, classes, request.targets);
  } catch (error) {
    throw withFlags(error, OPTION_FLAGS);
  }
}

/**
 * The network a run starts from: a fresh one of the request's preset, or with `--init` a trained
 * model's (its options and weights), which must give the classes the targets need. `report`: say
 * on stderr which weights it starts from, and where their normalisation differs from the request's.
 */
function initialNetwork(request: TrainingRequest, inChannels: number, classes: number, report: boolean): UNet {
  if (request.init === null) return createUNet(request.preset, { inChannels, classes });
  const { model, description, weights } = fromInit(request.init, loadTrainedModel);
  // The data were read with its channels (loadTrainingSamples); the classes must fit the targets.
  if (model.options.classes !== classes) {
    model.dispose();
    throw new Error(
      `--init ${request.init}: its network gives ${model.options.classes} classes, the targets need ${classes} (--target, --labels, --classes)`,
    );
  }
  if (report) {
    process.stderr.write(`starting from ${weights}\n`);
    if (description.normalisation !== request.normalisation)
      process.stderr.write(
        `note: --init ${request.init} was trained on ${description.normalisation}-normalised images, this run normalises with ${request.normalisation} (--normalise)\n`,
      );
  }
  return model;
}

/** The network, options and progress of one training run from a request (the caller owns the samples). */
export async function trainRun(
  request: TrainingRequest,
  train: TrainingSample[],
  validation: TrainingSample[],
  out: string,
  extra: { resume?: boolean; onEvent?: (event: TrainEvent) => void; record?: Record<string, unknown>; processGroup?: ProcessGroup } = {},
): Promise<TrainResult> {
  const rank = extra.processGroup?.rank ?? 0;
  const device = localDevice(request.train.device ?? 'cpu');
  if (device.startsWith('cuda') && !cudaIsAvailable()) throw new Error(`--device ${device}: CUDA is not available here (see unet info)`);
  const classes = request.labels === 'classes' ? request.classes : classesFor('instances', request.targets);
  manualSeed(request.train.seed);
  const model = initialNetwork(request, train[0]!.image.shape[0]!, classes, rank === 0).to(device);
  const quiet = (): void => {};
  const postprocess =
    request.labels === 'classes'
      ? basePostprocess('classes', false)
      : basePostprocess(request.targets.target ?? 'cells', request.watershed);
  const controller = new AbortController();
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  const options: TrainOptions = {
    ...request.train,
    device,
    model,
    train,
    validation,
    postprocess,
    // A fine-tuned network as it starts is a candidate for the best model.
    validateStart: request.init !== null,
    outDir: out,
    resume: extra.resume ?? false,
    signal: controller.signal,
    ...(request.minutes === undefined ? {} : { minutes: request.minutes }),
    onEvent: extra.onEvent ?? (rank === 0 ? progressPrinter() : quiet),
    record: { ...describeRequest(request), ...extra.record },
    ...(extra.processGroup ? { processGroup: extra.processGroup } : {}),
  };
  const validationTile = options.validationTileSize ?? model.defaultTileSize;
  if (validation.length > 0 && rank === 0)
    process.stderr.write(`validation predicts whole images with ${validationTile}-pixel tiles (--val-tile), whatever the training tile\n`);
  try {
    return await runTraining(options);
  } catch (error) {
    throw withFlags(error, OPTION_FLAGS);
  } finally {
    process.off('SIGINT', onInterrupt);
    model.dispose();
  }
}

/** `unet train` */
export const trainCommand = defineCommand({
  name: 'train',
  synopsis: '--data DIR --out RUN [options]',
  flags: {
    data: {
      type: 'string',
      placeholder: 'DIR',
      help: 'images/ and labels/ with matching names (PNG or TIFF; multi-page TIFF = one sample per page)',
    },
    out: { type: 'string', placeholder: 'RUN', help: 'the run folder' },
    val: { type: 'string', placeholder: 'DIR', help: 'validation images/ and labels/ (default: --val-fraction of --data, seeded)' },
    'val-fraction': { type: 'string', placeholder: 'F', help: 'share of --data held out for validation (default 0.2)' },
    ...TRAINING_FLAGS,
    resume: { type: 'boolean', help: 'continue from RUN/checkpoint.pt exactly where it stopped' },
    overwrite: { type: 'boolean', help: 'train afresh in a RUN that holds a run, replacing its checkpoint, weights and metrics' },
    ...LAUNCH_FLAGS,
  },
  required: ['data', 'out'],
  epilogue: `Writes RUN/model.json (the network, normalisation and post-processing chosen on the validation
images), checkpoint.pt (every epoch; Ctrl-C writes one too), best.safetensors, final.safetensors,
metrics.jsonl and curves.png. A RUN that holds a run (its checkpoint.pt) is continued with --resume
or replaced with --overwrite; without either it is refused, so that no trained run is lost.

Across ranks (--nproc-per-node, or started by torchrun, which sets RANK and WORLD_SIZE): each rank
draws its own tiles, gradients are averaged as DistributedDataParallel averages them, validation is
split over the ranks, and rank 0 alone prints and writes RUN. N ranks × --accumulate A train as one
process with --accumulate N·A. --resume needs the same number of ranks.`,
  async run(values) {
    const out = values.out!;
    if (values.resume && values.overwrite) throw new UsageError('--resume and --overwrite contradict each other');
    if (!values.resume && !values.overwrite && RunFolder.holdsRun(out))
      throw new Error(`${out} holds a training run (checkpoint.pt): continue it with --resume, or replace it with --overwrite`);
    const plan = launchPlan(values);
    if (plan) return launchRanks(plan, process.argv.slice(1));
    applyCommonFlags(values);
    const request = trainingRequest(values);
    const samples = loadTrainingSamples(values.data!, request);
    const { train, validation } =
      values.val !== undefined
        ? { train: samples, validation: loadTrainingSamples(values.val, request) }
        : splitSamples(samples, numberOption('val-fraction', values['val-fraction']) ?? 0.2, request.train.seed);
    const device = request.train.device ?? 'cpu';
    // A rank of several (ours or torchrun's) joins the others through torchrun's variables, over
    // NCCL on GPUs where this build has it, as PyTorch scripts choose.
    const processGroup =
      process.env.RANK !== undefined && Number(process.env.WORLD_SIZE ?? 1) > 1
        ? await initProcessGroup({ backend: backendFor(device) })
        : null;
    const rank = processGroup?.rank ?? 0;
    if (rank === 0)
      process.stderr.write(
        `training ${request.init === null ? request.preset : `from ${request.init}`}${request.recipe ? ` (recipe ${request.recipe})` : ''} on ${train.length} image(s), validating on ${validation.length}, device ${device}${processGroup ? `, ${processGroup.size} ranks over ${processGroup.backend}` : ''} → ${out}\n`,
      );
    let result: TrainResult;
    try {
      result = await trainRun(request, train, validation, out, {
        resume: values.resume ?? false,
        ...(processGroup ? { processGroup } : {}),
      });
    } finally {
      dispose([...train, ...validation].flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
      if (processGroup) destroyProcessGroup(processGroup);
    }
    if (rank !== 0) return 0;
    const last = result.history[result.history.length - 1]?.validation;
    const summary = last
      ? `, last validation ${last.seg !== undefined ? `SEG ${last.seg.toFixed(4)}` : `IoU ${last.iou[last.iou.length - 1]!.toFixed(4)}`}`
      : '';
    process.stdout.write(`${result.stopped ? 'stopped' : 'finished'} at step ${result.step}${summary}\n`);
    if (result.postprocess)
      process.stdout.write(`post-processing chosen on the validation images: ${JSON.stringify(result.postprocess)}\n`);
    // The weights prediction loads: model.json says which the run kept.
    const description = readModelDescription(path.join(out, 'model.json'));
    process.stdout.write(
      `model: ${path.join(out, 'model.json')} + ${path.basename(folderWeights(out, description) ?? 'no weights yet')}; curves: ${path.join(out, 'curves.png')}; metrics: ${path.join(out, 'metrics.jsonl')}\n`,
    );
    return 0;
  },
});
