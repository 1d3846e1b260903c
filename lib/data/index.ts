// Data: folders of images and labels, label kinds, normalisation, training targets, generated cells.
export { guessLabelKind, prepareSamples } from './dataset';
export type { LabelKind, Sample, TrainingSample } from './dataset';
export { DatasetError, listImages, loadFolder, readImages, readLabels, splitSamples } from './folder';
export type { LoadFolderOptions } from './folder';
export { cropMirrored, mirrorIndex } from './mirror';
export { NORMALISATIONS, normaliseImage } from './normalise';
export type { Normalisation } from './normalise';
export { syntheticCells } from './synthetic';
export type { SyntheticOptions, SyntheticSample } from './synthetic';
export { LABEL_KINDS, TARGET_KINDS, WEIGHT_KINDS, checkTargetOptions, classesFor, trainingTargets } from './targets';
export type { TargetKind, TargetOptions, WeightKind } from './targets';
