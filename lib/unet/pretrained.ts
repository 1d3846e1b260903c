// Models that ship in the package, loaded: `loadPretrained('nuclei')`, `unet predict --model nuclei`.
import { loadTrainedModel, type TrainedModel } from './model-files';
import { type PretrainedName, pretrainedFolder } from './shipped-models';

export { PRETRAINED, pretrainedFolder, resolveModel } from './shipped-models';
export type { PretrainedName } from './shipped-models';

/**
 * A shipped model, ready to predict (its float16 weights are loaded into float32 parameters),
 * with its description (normalisation, post-processing, TTA).
 */
export function loadPretrained(name: PretrainedName | string): TrainedModel {
  return loadTrainedModel(pretrainedFolder(name));
}
