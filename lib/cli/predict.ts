// `unet predict --model RUN --out DIR INPUT...`: segments images of any size by overlap-tile, on
// libtorch (lib/cli/predict-libtorch, loaded when it runs) or, with --engine onnxruntime, on
// onnxruntime-node from a file of `unet export` without loading the addon.
import * as fs from 'node:fs';

import { loadOnnxSegmenter } from '../engine/node';
import type { ImageRaster } from '../raster/image';
import { writePredictionFiles } from '../raster/outputs';
import { PRECISIONS } from '../predict/precision';
import { PRETRAINED } from '../unet/shipped-models';
import { applyMaxPixelsFlag, choiceOption, integerOption, threadsOption } from './args';
import { COMMON_FLAGS, defineCommand, UsageError } from './command';
import { LAUNCH_FLAGS, launchPlan, launchRanks, rankShare } from './launch';
import { inputFiles, pagesFor, type PredictValues, predictPages, ttaFlag } from './predict-files';

/** `unet predict` */
export const predictCommand = defineCommand({
  name: 'predict',
  synopsis: '--model RUN --out DIR INPUT... [options]',
  positionals: [1, Infinity],
  flags: {
    model: {
      type: 'string',
      placeholder: 'RUN',
      help: `a training folder (model.json + best.safetensors), a weights file beside a\nmodel.json (.safetensors, a checkpoint, or a U-Net scripted in PyTorch as TorchScript .pt),\na model shipped in the package (${Object.keys(PRETRAINED).join(', ')}), or with --engine onnxruntime an ONNX file`,
    },
    out: { type: 'string', placeholder: 'DIR', help: 'where the outputs go' },
    tile: { type: 'string', placeholder: 'S', help: "input tile extent (default: the network's default tile, 572 for the paper's depth)" },
    batch: { type: 'string', placeholder: 'B', help: 'tiles per forward pass (default 1)' },
    tta: { type: 'boolean', help: 'average the 8 flips and quarter turns (default: as model.json says)' },
    'no-tta': { type: 'boolean', help: 'do not, whatever model.json says' },
    exact: { type: 'boolean', help: 'CPU: turn oneDNN off so that tiles equal one whole-image pass bitwise (slower)' },
    device: { type: 'string', placeholder: 'D', help: 'cpu (default) | cuda | cuda:N' },
    precision: {
      type: 'string',
      placeholder: 'P',
      help: `the network's number format: ${PRECISIONS.join(' | ')} (default float32);\nthe half formats run it under autocast, faster where the hardware has them\n(bfloat16 on a CPU with AVX-512 BF16, a GPU's tensor cores), slower elsewhere`,
    },
    engine: {
      type: 'string',
      placeholder: 'E',
      help: 'libtorch (default) | onnxruntime: run a file of `unet export` (--model FILE.onnx)\nover onnxruntime-node, with the same tiles, TTA and post-processing',
    },
    ...COMMON_FLAGS,
    ...LAUNCH_FLAGS,
  },
  required: ['model', 'out'],
  epilogue: `INPUT: image files (PNG, TIFF; a multi-page TIFF gives one result per page) or folders of them.
The model's normalisation and post-processing (threshold, minimum size, border growing) come
from its model.json. Writes NAME.png (cell ids, or class ids for a classes network),
NAME.probabilities.npy (float32 C × H × W) and NAME.overlay.png for each image. A colour image
for a one-channel model is predicted from the mean of its three channels (its first, where all
three are equal: a gray image stored as colour); a gray image for a three-channel model from its
channel three times. A file that cannot be read (not an image, over --max-pixels, or of channels
the model cannot take) is reported and skipped; the exit status is then 1. Across ranks
(--nproc-per-node, or torchrun) image k goes to rank k mod N; the outputs are those of one
process.`,
  run(values, positionals) {
    const plan = launchPlan(values);
    if (plan) return launchRanks(plan, process.argv.slice(1));
    const engine = choiceOption('engine', values.engine, ['libtorch', 'onnxruntime'] as const) ?? 'libtorch';
    if (engine === 'onnxruntime') return predictFilesOnnx(values, positionals);
    // Loaded here, so that the onnxruntime engine never loads the addon.
    return (require('./predict-libtorch') as typeof import('./predict-libtorch')).predictFiles(values, positionals);
  },
});

// The same outputs over onnxruntime-node, from a file of `unet export`: the tile rule, the
// normalisation, the post-processing and the TTA default come from its metadata.
async function predictFilesOnnx(
  values: PredictValues & { threads?: string; 'max-pixels'?: string },
  positionals: string[],
): Promise<number> {
  if (values.device !== undefined || values.exact || values.precision !== undefined)
    throw new UsageError('--device, --exact and --precision are for --engine libtorch');
  const threads = threadsOption(values);
  applyMaxPixelsFlag(values);
  if (!values.model!.endsWith('.onnx'))
    throw new UsageError(`--engine onnxruntime takes an ONNX file (unet export), got --model ${values.model}`);
  const files = rankShare(inputFiles(positionals));
  const ttaChoice = ttaFlag(values);
  const segmenter = await loadOnnxSegmenter(values.model!, threads === undefined ? {} : { intraOpNumThreads: threads });
  const { model } = segmenter.metadata;
  const tta = ttaChoice ?? model.tta;
  fs.mkdirSync(values.out!, { recursive: true });
  process.stderr.write(
    `model ${values.model} on onnxruntime-node: ${model.normalisation} normalisation, ${JSON.stringify(model.postprocess)}${tta ? ', test-time augmentation' : ''}\n`,
  );
  const tileSize = integerOption('tile', values.tile);
  const batchSize = integerOption('batch', values.batch);
  try {
    return await predictPages(files, pagesFor(model.options.inChannels), async (page: ImageRaster, name) => {
      const segmentation = await segmenter.segment(page, { tileSize, batchSize, tta });
      return {
        written: writePredictionFiles(values.out!, name, segmentation, model.postprocess),
        width: page.width,
        height: page.height,
      };
    });
  } finally {
    await segmenter.release();
  }
}
