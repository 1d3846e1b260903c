// The weight map and the weighted loss of the U-Net paper.
export { insertGaps, instancesOf, weightMap } from './weight-map';
export type { LabelImage, WeightMapOptions } from './weight-map';
export { WEIGHT_MAP_PRESETS } from './presets';
export type { BorderTerm, WeightMapPreset } from './presets';
export { WEIGHTED_REDUCTIONS, weightedCrossEntropy } from './loss';
export type { WeightedCrossEntropyOptions, WeightedReduction } from './loss';
