// Augmentation as the paper describes it: elastic deformation, rotation, flips, shifts, scaling
// and gray values, per-sample seeded, batched on the tensors' device.
export { adjustGray } from './gray';
export { loadField, saveField } from './field-file';
export { augmentBatch } from './pipeline';
export type { AugmentBatch, AugmentBatchOptions, AugmentResult } from './pipeline';
export { SeededRandom } from './random';
export { applyField, applyFieldTo, cudaResampling, type FieldTarget } from './resample';
export type { CudaResampling, ResampleMode } from './resample';
export { drawTransform, elasticField, transformField, validateAugmentOptions } from './transform';
export type { AugmentOptions, ElasticOptions, SampleTransform } from './transform';
