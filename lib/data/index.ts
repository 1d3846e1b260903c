// Data: folders of images and labels, label kinds, training targets, generated cells.
export { guessLabelKind, normaliseImage, prepareSamples, trainingTargets } from './dataset';
export type { LabelKind, Sample, TrainingSample } from './dataset';
export { DatasetError, listImages, loadFolder, readImages, readLabels, splitSamples } from './folder';
export { syntheticCells } from './synthetic';
export type { SyntheticOptions, SyntheticSample } from './synthetic';
