// Prediction: overlap-tile over images of any size, probabilities into labels, and the files it writes.
export { checkPostprocess, classesOf, labelsFromProbabilities, notMembraneProbability } from './instances';
export type { OutputKind, PostprocessOptions, Watershed } from './instances';
export { writePrediction } from './outputs';
export type { PredictionFiles } from './outputs';
export { predictLogits, predictProbabilities, tileGeometry } from './overlap-tile';
export type { PredictOptions } from './overlap-tile';
export type { TileGeometry } from '../raster/tiles';
export { PRECISIONS } from './precision';
export type { Precision } from './precision';
