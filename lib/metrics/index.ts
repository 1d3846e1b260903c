// Segmentation metrics: image scores, the cell tracking challenge's SEG and DET, ISBI 2012's measures.
export { AOGM_WEIGHTS, ctcFrameScores, ctcScores } from './ctc';
export type { CtcFrame, CtcFrameScores, CtcScores } from './ctc';
export { meanScores, scoreImage } from './evaluate';
export type { ImageScores } from './evaluate';
export { ISBI_THRESHOLDS, isbiScores } from './isbi2012';
export type { IsbiLevel, IsbiMeasure, IsbiScores, IsbiSlice, RandParts, RandSplitMerge } from './isbi2012';
export { adaptedRandError, classScores, segScore, warpingError } from './segmentation';
export type { ClassScores } from './segmentation';
