// A trained model on disk: `model.json` beside its weights. model.json holds everything
// prediction must repeat: the network's options, how images were normalised, how probabilities
// become labels (chosen on the validation images at the end of training), and whether to average
// over flips and turns. `unet predict --model RUN` applies all of it with no extra flag, and
// PyTorch rebuilds the network from the same options (reference/unet.py).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { pathArg } from '../arguments';
import { objectArg } from '../check';
import type { Normalisation } from '../data/normalise';
import { writeFileAtomic } from '../io/atomic';
import { loadSafetensors } from '../io/safetensors';
import { loadTorch, type TorchValue } from '../io/torch-file';
import { ZipReader } from '../io/zip';
import { ScriptModule } from '../nn/script-module';
import { tidy } from '../memory';
import type { Tensor } from '../tensor';
import { UNet, type UNetOptions, unetArg } from './model';

/**
 * What the classes of a network mean, and so how its probabilities become labels:
 * - `cells` (2 classes: background, cell): the connected components of the cell class;
 * - `borders` (3 classes: background, cell, border between touching cells): the components of
 *   the cell class are seeds, grown into the border pixels by nearest seed;
 * - `classes` (any number): the class of highest probability per pixel, no instances.
 */
export type OutputKind = 'cells' | 'borders' | 'classes';

/** Post-processing of probabilities into labels. */
export interface PostprocessOptions {
  /** What the network's classes are and how they become labels (see OutputKind). */
  kind: OutputKind;
  /**
   * `cells`: a pixel is a cell when its background probability is below 1 − threshold; `borders`:
   * a pixel seeds a cell when its cell probability is above it (the foreground is where the
   * background probability is below one half). Default 0.5.
   */
  threshold?: number;
  /**
   * Objects of fewer pixels are dropped (default 0); seeds of `borders` below a quarter of it too,
   * and with `watershed`, seeds below it.
   */
  minSize?: number;
  /**
   * `cells` only, for membrane maps (ISBI 2012), where every pixel off a membrane belongs to some
   * cell: the cells are the basins of a seeded watershed of the background probability, seeded
   * where the cell probability passes `threshold`, and parted by one-pixel lines. Closes the
   * gaps where a membrane is drawn faintly.
   */
  watershed?: Watershed;
}

/** The seeded watershed of a membrane map. */
export interface Watershed {
  /** σ in pixels of the Gaussian that smooths the probabilities first (0: none). */
  sigma: number;
}

/** Everything prediction needs besides the weights. */
export interface ModelDescription {
  /** The network. */
  options: UNetOptions;
  /** How images are normalised before the network sees them. */
  normalisation: Normalisation;
  /** How probabilities become labels. */
  postprocess: PostprocessOptions;
  /** Average over the 8 flips and quarter turns by default. */
  tta: boolean;
  /** How the model was trained (for the record; prediction does not read it). */
  training?: Record<string, unknown>;
}

const FORMAT = 'unet-torch-model';

/** The description of a network with the defaults: z-score normalisation, plain components, no TTA. */
export function defaultDescription(options: UNetOptions): ModelDescription {
  objectArg('defaultDescription', 'options', options);
  return { options, normalisation: 'zscore', postprocess: { kind: options.classes === 2 ? 'cells' : 'classes' }, tta: false };
}

/** Writes `folder/model.json` (atomically). */
export function saveModelDescription(folder: string, description: ModelDescription): void {
  writeFileAtomic(path.join(folder, 'model.json'), `${JSON.stringify({ format: FORMAT, version: 2, ...description }, null, 2)}\n`);
}

/** Writes `folder/model.json` for a network with the default description. */
export function saveModelConfig(folder: string, model: UNet): void {
  pathArg('saveModelConfig', 'folder', folder);
  unetArg('saveModelConfig', "argument 'model'", model);
  saveModelDescription(folder, defaultDescription(model.options));
}

/** Reads `folder/model.json`; older files without the prediction fields get the defaults. */
export function readModelDescription(configFile: string): ModelDescription {
  pathArg('readModelDescription', 'configFile', configFile);
  if (!fs.existsSync(configFile)) throw new Error(`${configFile} is missing: it holds the network's options (training writes it)`);
  let config: Partial<ModelDescription> & { format?: string };
  try {
    config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as typeof config;
  } catch (error) {
    throw new Error(`${configFile} is not valid JSON: ${(error as Error).message}`);
  }
  if (config === null || typeof config !== 'object' || config.format !== FORMAT || config.options === undefined)
    throw new Error(`${configFile} is not a unet-torch model description`);
  const defaults = defaultDescription(config.options);
  return {
    options: config.options,
    normalisation: config.normalisation ?? defaults.normalisation,
    postprocess: config.postprocess ?? defaults.postprocess,
    tta: config.tta ?? defaults.tta,
    ...(config.training === undefined ? {} : { training: config.training }),
  };
}

/** Whether a .pt file is a TorchScript module (its archive holds `code/`) rather than a torch.save file. */
function isTorchScript(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    return new ZipReader(fd, file).names().some((name) => name.split('/')[1] === 'code');
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

// The state of a .pt file: a training checkpoint's model state (read without the checkpoint
// module, which sits above this one), or the parameters and buffers of a TorchScript module
// (a U-Net scripted in PyTorch from reference/unet.py has the same names).
function ptModel(file: string): Record<string, Tensor> {
  if (isTorchScript(file)) {
    const scripted = ScriptModule.load(file);
    try {
      return Object.fromEntries(Object.entries(scripted.stateDict()).map(([key, value]) => [key, value.clone()]));
    } finally {
      scripted.dispose();
    }
  }
  return checkpointModel(file);
}

// A checkpoint's model state without the checkpoint module (which sits above this one).
function checkpointModel(file: string): Record<string, Tensor> {
  const value = loadTorch(file) as Record<string, TorchValue> | null;
  if (value === null || typeof value !== 'object' || typeof value.model !== 'object' || value.model === null)
    throw new Error(`${file}: not a unet-torch training checkpoint (no model state)`);
  return value.model as Record<string, Tensor>;
}

/** The weights files of a model folder, in the order `loadTrainedModel` prefers them. */
const FOLDER_WEIGHTS = ['model.safetensors', 'best.safetensors', 'final.safetensors', 'checkpoint.pt'];

/**
 * The weights file `loadTrainedModel` takes from a model folder, or undefined when it holds none:
 * a run that kept its final model (model.json's `training.keep`) loads final.safetensors, never
 * best.safetensors.
 */
export function folderWeights(folder: string, description: ModelDescription): string | undefined {
  // Its best.safetensors, where it has one (a run rescored under that rule, or a folder trained
  // over with --overwrite), is not the model kept.
  const order = description.training?.keep === 'final' ? FOLDER_WEIGHTS.filter((name) => name !== 'best.safetensors') : FOLDER_WEIGHTS;
  return order.map((name) => path.join(folder, name)).find((file) => fs.existsSync(file));
}

/** A trained network as `loadTrainedModel` and `loadPretrained` give it. */
export interface TrainedModel {
  /** The network, its weights loaded (on the CPU, in float32). */
  model: UNet;
  /** The file the weights came from. */
  weights: string;
  /** What model.json says: the network's options, normalisation, post-processing, TTA. */
  description: ModelDescription;
}

function isFolder(location: string): boolean {
  return fs.existsSync(location) && fs.statSync(location).isDirectory();
}

/** The description (`model.json`) of a model folder, or of the folder a weights file lies in. */
export function modelDescriptionAt(location: string): ModelDescription {
  pathArg('modelDescriptionAt', 'location', location);
  return readModelDescription(path.join(isFolder(location) ? location : path.dirname(location), 'model.json'));
}

/**
 * The network of a model folder (its `model.json` and, in this order of preference,
 * `model.safetensors` (a shipped model), `best.safetensors`, `final.safetensors` or
 * `checkpoint.pt`; not best where the run kept its final model), or of a weights file
 * (.safetensors, a checkpoint .pt, or a U-Net scripted or traced in PyTorch and saved as
 * TorchScript .pt) with `model.json` beside it, with its description.
 */
export function loadTrainedModel(location: string): TrainedModel {
  pathArg('loadTrainedModel', 'location', location);
  const description = modelDescriptionAt(location);
  const weights = isFolder(location) ? folderWeights(location, description) : location;
  if (weights === undefined || !fs.existsSync(weights)) throw new Error(`${location}: no weights (${FOLDER_WEIGHTS.join(', ')})`);
  const model = new UNet(description.options);
  // Loaded tensors (and a checkpoint's optimizer state) are copied into the model, then freed;
  // float16 weights (a shipped model) are widened to the parameters' float32 by the copy.
  tidy(() => model.loadStateDict(weights.endsWith('.safetensors') ? loadSafetensors(weights).tensors : ptModel(weights)));
  return { model, weights, description };
}
