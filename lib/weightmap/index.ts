// The weight map and the weighted loss of the U-Net paper.
export { insertGaps, instancesOf, labelTensor, weightMap } from './weight-map';
export type { LabelImage, WeightMapOptions } from './weight-map';
export { weightedCrossEntropy } from './loss';
export type { WeightedCrossEntropyOptions, WeightedReduction } from './loss';
