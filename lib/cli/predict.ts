// `unet predict --model RUN --out DIR INPUT...`: segments images of any size by overlap-tile.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { listImages, readImages, stemOf } from '../data/folder';
import { normaliseImage } from '../data/normalise';
import { tidy } from '../memory';
import { writePrediction } from '../predict/outputs';
import { predictProbabilities } from '../predict/overlap-tile';
import { loadTrainedModel } from '../unet/model-files';
import { PRETRAINED, resolveModel } from '../unet/pretrained';
import { ImageTooLargeError } from '../io/limits';
import { PngError } from '../io/png';
import { TiffError } from '../io/tiff';
import type { Tensor } from '../tensor';
import { loadOnnxSegmenter } from '../engine/node';
import type { Segmentation } from '../engine/segmenter';
import { decodeImages } from '../raster/files';
import type { ImageRaster } from '../raster/image';
import { writePredictionFiles } from '../raster/outputs';
import { applyCommonFlags, choiceOption, integerOption, withFlags } from './args';
import { COMMON_FLAGS, defineCommand, UsageError } from './command';

/** `unet predict` */
export const predictCommand = defineCommand({
  name: 'predict',
  summary: 'segment images of any size by overlap-tile with a trained or shipped model (labels, probabilities, overlay)',
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
    engine: {
      type: 'string',
      placeholder: 'E',
      help: 'libtorch (default) | onnxruntime: run a file of `unet export` (--model FILE.onnx)\nover onnxruntime-node, with the same tiles, TTA and post-processing',
    },
    ...COMMON_FLAGS,
  },
  required: ['model', 'out'],
  epilogue: `INPUT: image files (PNG, TIFF; a multi-page TIFF gives one result per page) or folders of them.
The model's normalisation and post-processing (threshold, minimum size, border growing) come
from its model.json. Writes NAME.png (cell ids, or class ids for a classes network),
NAME.probabilities.npy (float32 C × H × W) and NAME.overlay.png for each image. A file that
cannot be read (not an image, or over --max-pixels) is reported and skipped; the exit status is
then 1.`,
  run(values, positionals) {
    applyCommonFlags(values);
    const engine = choiceOption('engine', values.engine, ['libtorch', 'onnxruntime'] as const) ?? 'libtorch';
    return engine === 'onnxruntime' ? predictFilesOnnx(values, positionals) : predictFiles(values, positionals);
  },
});

interface PredictValues {
  model?: string;
  out?: string;
  tile?: string;
  batch?: string;
  tta?: boolean;
  'no-tta'?: boolean;
  exact?: boolean;
  device?: string;
}

function inputFiles(positionals: string[]): string[] {
  const files = positionals.flatMap((input) => {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`);
    return fs.statSync(input).isDirectory() ? listImages(input) : [input];
  });
  if (files.length === 0) throw new Error(`no PNG or TIFF images in ${positionals.join(', ')}`);
  return files;
}

/** --tta / --no-tta, or undefined for the model's own choice. */
function ttaFlag(values: PredictValues): boolean | undefined {
  if (values.tta && values['no-tta']) throw new UsageError('--tta and --no-tta contradict each other');
  return values['no-tta'] ? false : values.tta;
}

function unreadable(error: unknown): boolean {
  return error instanceof ImageTooLargeError || error instanceof PngError || error instanceof TiffError;
}

function predictFiles(values: PredictValues, positionals: string[]): number {
  const files = inputFiles(positionals);
  const device = values.device ?? 'cpu';
  const ttaChoice = ttaFlag(values);
  const { model, weights, description } = loadTrainedModel(resolveModel(values.model!));
  const tta = ttaChoice ?? description.tta;
  model.to(device);
  fs.mkdirSync(values.out!, { recursive: true });
  process.stderr.write(
    `model ${weights} on ${device}: ${description.normalisation} normalisation, ${JSON.stringify(description.postprocess)}${tta ? ', test-time augmentation' : ''}\n`,
  );
  const tileSize = integerOption('tile', values.tile);
  const batchSize = integerOption('batch', values.batch);
  // A file that cannot be read or segmented is reported and skipped; the others are still done.
  const failed: string[] = [];
  for (const file of files) {
    let pages: Tensor[];
    try {
      pages = readImages(file);
    } catch (error) {
      if (!unreadable(error)) throw error;
      process.stderr.write(`unet: ${(withFlags(error, { maxPixels: '--max-pixels' }) as Error).message}; skipped\n`);
      failed.push(file);
      continue;
    }
    pages.forEach((page, index) => {
      const stem = stemOf(file);
      const name = pages.length > 1 ? `${stem}#${index}` : stem;
      const start = Date.now();
      tidy(() => {
        const image = normaliseImage(page, description.normalisation);
        let probabilities: Tensor;
        try {
          probabilities = predictProbabilities(model, image, { tileSize, batchSize, tta, exact: values.exact, device });
        } catch (error) {
          throw withFlags(error, { tileSize: '--tile', batchSize: '--batch' });
        }
        const written = writePrediction(values.out!, name, image, probabilities, description.postprocess);
        process.stdout.write(
          `${file}${pages.length > 1 ? ` page ${index}` : ''}: ${page.shape[2]}×${page.shape[1]} in ${((Date.now() - start) / 1000).toFixed(1)} s → ${written.labels}, ${path.basename(written.overlay)}, ${path.basename(written.probabilities)}\n`,
        );
      });
      page.dispose();
    });
  }
  if (failed.length > 0) {
    process.stderr.write(`unet: ${failed.length} of ${files.length} file(s) could not be read: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}

// The same outputs over onnxruntime-node, from a file of `unet export`: the tile rule, the
// normalisation, the post-processing and the TTA default come from its metadata.
async function predictFilesOnnx(values: PredictValues, positionals: string[]): Promise<number> {
  if (values.device !== undefined || values.exact) throw new UsageError('--device and --exact are for --engine libtorch');
  if (!values.model!.endsWith('.onnx'))
    throw new UsageError(`--engine onnxruntime takes an ONNX file (unet export), got --model ${values.model}`);
  const files = inputFiles(positionals);
  const ttaChoice = ttaFlag(values);
  const segmenter = await loadOnnxSegmenter(values.model!);
  const { model } = segmenter.metadata;
  const tta = ttaChoice ?? model.tta;
  fs.mkdirSync(values.out!, { recursive: true });
  process.stderr.write(
    `model ${values.model} on onnxruntime-node: ${model.normalisation} normalisation, ${JSON.stringify(model.postprocess)}${tta ? ', test-time augmentation' : ''}\n`,
  );
  const tileSize = integerOption('tile', values.tile);
  const batchSize = integerOption('batch', values.batch);
  const failed: string[] = [];
  try {
    for (const file of files) {
      let pages: ImageRaster[];
      try {
        pages = decodeImages(file);
      } catch (error) {
        if (!unreadable(error)) throw error;
        process.stderr.write(`unet: ${(withFlags(error, { maxPixels: '--max-pixels' }) as Error).message}; skipped\n`);
        failed.push(file);
        continue;
      }
      for (const [index, page] of pages.entries()) {
        const name = pages.length > 1 ? `${stemOf(file)}#${index}` : stemOf(file);
        const start = Date.now();
        let segmentation: Segmentation;
        try {
          segmentation = await segmenter.segment(page, { tileSize, batchSize, tta });
        } catch (error) {
          throw withFlags(error, { tileSize: '--tile', batchSize: '--batch' });
        }
        const written = writePredictionFiles(values.out!, name, segmentation);
        process.stdout.write(
          `${file}${pages.length > 1 ? ` page ${index}` : ''}: ${page.width}×${page.height} in ${((Date.now() - start) / 1000).toFixed(1)} s → ${written.labels}, ${path.basename(written.overlay)}, ${path.basename(written.probabilities)}\n`,
        );
      }
    }
  } finally {
    await segmenter.release();
  }
  if (failed.length > 0) {
    process.stderr.write(`unet: ${failed.length} of ${files.length} file(s) could not be read: ${failed.join(', ')}\n`);
    return 1;
  }
  return 0;
}
