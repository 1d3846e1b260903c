// Segmentation metrics.
export { meanScores, scoreImage } from './evaluate';
export type { ImageScores } from './evaluate';
export { adaptedRandError, classScores, segScore, warpingError } from './segmentation';
export type { ClassScores } from './segmentation';
