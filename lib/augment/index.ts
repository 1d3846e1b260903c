// Augmentation: the paper's elastic deformation (more transforms to come).
export { applyField, elasticField } from './elastic';
export type { ElasticOptions, ResampleMode } from './elastic';
export { SeededRandom } from './random';
