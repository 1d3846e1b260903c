// Prediction: overlap-tile over images of any size, and the files it writes.
export { writePrediction } from './outputs';
export type { PredictionFiles } from './outputs';
export { predictLogits, predictProbabilities, tileGeometry } from './overlap-tile';
export type { PredictOptions } from './overlap-tile';
