// `unet train --data DIR --out RUN`: trains a U-Net on a folder of images and labels.
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { isAvailable as cudaIsAvailable } from '../cuda';
import { prepareSamples, type TrainingSample } from '../data/dataset';
import { loadFolder, splitSamples } from '../data/folder';
import { classesFor } from '../data/targets';
import { dispose } from '../memory';
import { manualSeed, setNumThreads } from '../runtime';
import { runTraining, type TrainEvent, type TrainOptions, type TrainResult } from '../train/trainer';
import { createUNet } from '../unet/presets';
import { numberOption, withFlags } from './args';
import { progressPrinter } from './progress';
import { describeRequest, OPTION_FLAGS, TRAINING_FLAGS, TRAINING_USAGE, trainingRequest, type TrainingRequest } from './training-flags';

const USAGE = `usage: unet train --data DIR --out RUN [options]
  --data DIR            images/ and labels/ with matching names (PNG or TIFF; multi-page TIFF = one sample per page)
  --val DIR             validation images/ and labels/ (default: --val-fraction of --data, seeded)
  --val-fraction F      share of --data held out for validation (default 0.2)
${TRAINING_USAGE}  --resume              continue from RUN/checkpoint.pt exactly where it stopped
Writes RUN/model.json (the network, normalisation and post-processing chosen on the validation
images), checkpoint.pt (every epoch; Ctrl-C writes one too), best.safetensors, final.safetensors,
metrics.jsonl and curves.png.
`;

/** Reads a data folder as a request says (normalisation, label kind, targets). */
export function loadTrainingSamples(folder: string, request: TrainingRequest): TrainingSample[] {
  const kind = request.labels;
  const classes = kind === 'classes' ? request.classes : classesFor('instances', request.targets);
  try {
    return prepareSamples(loadFolder(folder, request.normalisation), kind, classes, request.targets);
  } catch (error) {
    throw withFlags(error, OPTION_FLAGS);
  }
}

/** The network, options and progress of one training run from a request (the caller owns the samples). */
export async function trainRun(
  request: TrainingRequest,
  train: TrainingSample[],
  validation: TrainingSample[],
  out: string,
  extra: { resume?: boolean; onEvent?: (event: TrainEvent) => void; record?: Record<string, unknown> } = {},
): Promise<TrainResult> {
  if (request.threads !== undefined) setNumThreads(request.threads);
  const device = request.train.device ?? 'cpu';
  if (device.startsWith('cuda') && !cudaIsAvailable()) throw new Error(`--device ${device}: CUDA is not available here (see unet info)`);
  const classes = request.labels === 'classes' ? request.classes : classesFor('instances', request.targets);
  manualSeed(request.train.seed ?? 0);
  const model = createUNet(request.preset, { inChannels: train[0]!.image.shape[0]!, classes }).to(device);
  const postprocess = request.labels === 'classes' ? { kind: 'classes' as const } : { kind: request.targets.target ?? 'cells' };
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
    model,
    train,
    validation,
    postprocess,
    outDir: out,
    resume: extra.resume ?? false,
    signal: controller.signal,
    ...(request.minutes === undefined ? {} : { minutes: request.minutes }),
    onEvent: extra.onEvent ?? progressPrinter(),
    record: { ...describeRequest(request), ...extra.record },
  };
  const validationTile = options.validationTileSize ?? model.defaultTileSize;
  if (validation.length > 0) process.stderr.write(`validation predicts whole images with ${validationTile}-pixel tiles (--val-tile), whatever the training tile\n`);
  try {
    return await runTraining(options);
  } catch (error) {
    throw withFlags(error, OPTION_FLAGS);
  } finally {
    process.off('SIGINT', onInterrupt);
    model.dispose();
  }
}

/** Parses `unet train` options into what `train()` needs, reading the data. */
async function trainFromArgs(args: string[]): Promise<{ result: TrainResult; out: string } | number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      ...TRAINING_FLAGS,
      data: { type: 'string' },
      val: { type: 'string' },
      'val-fraction': { type: 'string' },
      resume: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.data === undefined || values.out === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const request = trainingRequest(values);
  const samples = loadTrainingSamples(values.data, request);
  const { train, validation } = values.val !== undefined
    ? { train: samples, validation: loadTrainingSamples(values.val, request) }
    : splitSamples(samples, numberOption('val-fraction', values['val-fraction']) ?? 0.2, request.train.seed ?? 0);
  const device = request.train.device ?? 'cpu';
  process.stderr.write(`training ${request.preset}${request.recipe ? ` (recipe ${request.recipe})` : ''} on ${train.length} image(s), validating on ${validation.length}, device ${device} → ${values.out}\n`);
  try {
    const result = await trainRun(request, train, validation, values.out, { resume: values.resume });
    return { result, out: values.out };
  } finally {
    dispose([...train, ...validation].flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  }
}

/** `unet train` */
export async function runTrain(args: string[]): Promise<number> {
  const outcome = await trainFromArgs(args);
  if (typeof outcome === 'number') return outcome;
  const { result, out } = outcome;
  const last = result.history[result.history.length - 1]?.validation;
  const summary = last ? `, last validation ${last.seg !== undefined ? `SEG ${last.seg.toFixed(4)}` : `IoU ${last.iou[last.iou.length - 1]!.toFixed(4)}`}` : '';
  process.stdout.write(`${result.stopped ? 'stopped' : 'finished'} at step ${result.step}${summary}\n`);
  if (result.postprocess) process.stdout.write(`post-processing chosen on the validation images: ${JSON.stringify(result.postprocess)}\n`);
  process.stdout.write(`model: ${path.join(out, 'model.json')} + best.safetensors; curves: ${path.join(out, 'curves.png')}; metrics: ${path.join(out, 'metrics.jsonl')}\n`);
  return 0;
}
