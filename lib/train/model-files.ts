// A trained model on disk: `model.json` (the network's options) beside its weights, so that
// `unet predict` and PyTorch can rebuild it.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { writeFileAtomic } from '../io/atomic';
import { loadSafetensors } from '../io/safetensors';
import { tidy } from '../memory';
import { UNet, type UNetOptions } from '../unet/model';
import { loadCheckpoint } from './checkpoint';

/** Writes `folder/model.json` for a network. */
export function saveModelConfig(folder: string, model: UNet): void {
  writeFileAtomic(path.join(folder, 'model.json'), `${JSON.stringify({ format: 'unet-torch-model', options: model.options }, null, 2)}\n`);
}

/**
 * The network of a training run's folder (its `model.json` and, in this order of preference,
 * `best.safetensors`, `final.safetensors` or `checkpoint.pt`), or of a weights file
 * (.safetensors or checkpoint .pt) with `model.json` beside it.
 */
export function loadTrainedModel(location: string): { model: UNet; weights: string } {
  const isFolder = fs.existsSync(location) && fs.statSync(location).isDirectory();
  const folder = isFolder ? location : path.dirname(location);
  const configFile = path.join(folder, 'model.json');
  if (!fs.existsSync(configFile)) throw new Error(`${configFile} is missing: it holds the network's options (unet train writes it)`);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { format?: string; options?: UNetOptions };
  if (config.format !== 'unet-torch-model' || config.options === undefined) throw new Error(`${configFile} is not a unet-torch model description`);
  const weights = isFolder ? ['best.safetensors', 'final.safetensors', 'checkpoint.pt'].map((name) => path.join(folder, name)).find((file) => fs.existsSync(file)) : location;
  if (weights === undefined || !fs.existsSync(weights)) throw new Error(`${location}: no weights (best.safetensors, final.safetensors or checkpoint.pt)`);
  const model = new UNet(config.options);
  // Loaded tensors (and a checkpoint's optimizer state) are copied into the model, then freed.
  tidy(() => model.loadStateDict(weights.endsWith('.safetensors') ? loadSafetensors(weights).tensors : loadCheckpoint(weights).model));
  return { model, weights };
}
