// Training: the loop, its checkpoints, tiles, validation and trained-model files.
export { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint';
export type { Checkpoint } from './checkpoint';
export { loadTrainedModel, saveModelConfig } from './model-files';
export { cropMirrored, mirrorIndex, sampleTiles } from './tiles';
export type { TileBatch } from './tiles';
export { PAPER_AUGMENTATION, runTraining, train } from './trainer';
export type { TrainEvent, TrainOptions, TrainResult } from './trainer';
export { instancesOfClasses, validate } from './validate';
export type { ValidationScores } from './validate';
