// `unet train --data DIR --out RUN`: trains a U-Net on a folder of images and labels.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { isAvailable as cudaIsAvailable } from '../cuda';
import { type LabelKind, prepareSamples } from '../data/dataset';
import { loadFolder, splitSamples } from '../data/folder';
import { dispose } from '../memory';
import { manualSeed, setNumThreads } from '../runtime';
import { saveModelConfig } from '../train/model-files';
import { PAPER_AUGMENTATION, runTraining, type TrainOptions, type TrainResult } from '../train/trainer';
import { createUNet, PRESETS, type PresetName } from '../unet/presets';
import { integerOption, numberOption } from './args';
import { progressPrinter } from './progress';

const USAGE = `usage: unet train --data DIR --out RUN [options]
  --data DIR            images/ and labels/ with matching names (PNG or TIFF; multi-page TIFF = one sample per page)
  --val DIR             validation images/ and labels/ (default: --val-fraction of --data, seeded)
  --val-fraction F      share of --data held out for validation (default 0.2)
  --labels KIND         auto (default) | instances | mask | classes
  --preset NAME         ${Object.keys(PRESETS).join(' | ')} (default compact)
  --classes N           classes of the network (default 2: background, cell)
  --steps N             optimizer steps (default 2000)
  --minutes M           stop (with a checkpoint) after M minutes, even before --steps
  --epoch-steps N       steps between validations and checkpoints (default 50)
  --tile S              input tile extent, valid for the network (default 572, or the nearest to 256 + margins)
  --batch B             tiles per batch (default 1)   --accumulate K   batches per step (default 1)
  --optimizer NAME      sgd (the paper's, default) | adam | adamw
  --lr X --momentum X --weight-decay X   (defaults 0.01 for SGD, 1e-3 for Adam; momentum 0.99)
  --schedule NAME       constant (default) | poly | cosine
  --no-augment          no elastic deformation, rotation, flips or gray values
  --device D            cpu (default) | cuda | cuda:N     --amp  --channels-last  (CUDA)
  --threads N           CPU threads for libtorch
  --seed N              seed of every random choice (default 0)
  --resume              continue from RUN/checkpoint.pt exactly where it stopped
Writes RUN/model.json, checkpoint.pt (every epoch; Ctrl-C writes one too), best.safetensors,
final.safetensors, metrics.jsonl and curves.png.
`;

/** Parses `unet train` options into what `train()` needs, reading the data. */
async function trainFromArgs(args: string[]): Promise<{ result: TrainResult; out: string } | number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      data: { type: 'string' },
      val: { type: 'string' },
      'val-fraction': { type: 'string' },
      labels: { type: 'string' },
      preset: { type: 'string' },
      classes: { type: 'string' },
      steps: { type: 'string' },
      minutes: { type: 'string' },
      'epoch-steps': { type: 'string' },
      tile: { type: 'string' },
      batch: { type: 'string' },
      accumulate: { type: 'string' },
      optimizer: { type: 'string' },
      lr: { type: 'string' },
      momentum: { type: 'string' },
      'weight-decay': { type: 'string' },
      schedule: { type: 'string' },
      'no-augment': { type: 'boolean', default: false },
      device: { type: 'string' },
      amp: { type: 'boolean', default: false },
      'channels-last': { type: 'boolean', default: false },
      threads: { type: 'string' },
      seed: { type: 'string' },
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
  const preset = (values.preset ?? 'compact') as PresetName;
  if (!(preset in PRESETS)) throw new Error(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got '${preset}'`);
  const kind = (values.labels ?? 'auto') as LabelKind | 'auto';
  if (!['auto', 'instances', 'mask', 'classes'].includes(kind)) throw new Error(`--labels must be auto, instances, mask or classes, got '${kind}'`);
  const classes = integerOption('classes', values.classes) ?? 2;
  const seed = integerOption('seed', values.seed) ?? 0;
  const threads = integerOption('threads', values.threads);
  if (threads !== undefined) setNumThreads(threads);
  const device = values.device ?? 'cpu';
  if (device.startsWith('cuda') && !cudaIsAvailable()) throw new Error(`--device ${device}: CUDA is not available here (see unet info)`);

  const samples = prepareSamples(loadFolder(values.data), kind, classes);
  const { train, validation } = values.val !== undefined
    ? { train: samples, validation: prepareSamples(loadFolder(values.val), kind, classes) }
    : splitSamples(samples, numberOption('val-fraction', values['val-fraction']) ?? 0.2, seed);
  manualSeed(seed);
  const model = createUNet(preset, { inChannels: samples[0]!.image.shape[0]!, classes }).to(device);
  fs.mkdirSync(values.out, { recursive: true });
  saveModelConfig(values.out, model);
  process.stderr.write(`training ${preset} (${classes} classes) on ${train.length} image(s), validating on ${validation.length}, device ${device} → ${values.out}\n`);

  const controller = new AbortController();
  const minutes = numberOption('minutes', values.minutes);
  const timer = minutes === undefined ? null : setTimeout(() => controller.abort(), minutes * 60_000);
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\ninterrupted: finishing this step and writing a checkpoint (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  const options: TrainOptions = {
    model,
    train,
    validation,
    steps: integerOption('steps', values.steps) ?? 2000,
    stepsPerEpoch: integerOption('epoch-steps', values['epoch-steps']),
    tileSize: integerOption('tile', values.tile),
    batchSize: integerOption('batch', values.batch),
    accumulate: integerOption('accumulate', values.accumulate),
    optimizer: values.optimizer as TrainOptions['optimizer'],
    lr: numberOption('lr', values.lr),
    momentum: numberOption('momentum', values.momentum),
    weightDecay: numberOption('weight-decay', values['weight-decay']),
    schedule: values.schedule as TrainOptions['schedule'],
    augment: values['no-augment'] ? false : PAPER_AUGMENTATION,
    amp: values.amp,
    channelsLast: values['channels-last'],
    device,
    seed,
    outDir: values.out,
    resume: values.resume,
    signal: controller.signal,
    onEvent: progressPrinter(),
  };
  try {
    const result = await runTraining(options);
    return { result, out: values.out };
  } finally {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onInterrupt);
    dispose([...train, ...validation].flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  }
}

/** `unet train` */
export async function runTrain(args: string[]): Promise<number> {
  const outcome = await trainFromArgs(args);
  if (typeof outcome === 'number') return outcome;
  const { result, out } = outcome;
  const last = result.history[result.history.length - 1]?.validation;
  const summary = last ? `, last validation IoU ${last.iou[last.iou.length - 1]!.toFixed(4)}` : '';
  process.stdout.write(`${result.stopped ? 'stopped' : 'finished'} at step ${result.step}${summary}\n`);
  process.stdout.write(`model: ${path.join(out, 'model.json')} + best.safetensors; curves: ${path.join(out, 'curves.png')}; metrics: ${path.join(out, 'metrics.jsonl')}\n`);
  return 0;
}

