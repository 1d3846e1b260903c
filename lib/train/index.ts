// Training: the loop, its run folder and checkpoints, tiles, validation and calibration.
export { CALIBRATION_GRID, calibratePostprocess, medianCellArea } from './calibrate';
export type { CalibrationGrid, CalibrationTrial, CellTrial, MembraneTrial } from './calibrate';
export { CheckpointError, loadCheckpoint, saveCheckpoint } from './checkpoint';
export type { Checkpoint } from './checkpoint';
export { RunFolder } from './run-folder';
export type { HistoryEntry } from './run-folder';
export { IMAGE_SAMPLINGS, sampleTiles, TILE_SAMPLING_DEFAULTS } from './tiles';
export type { ImageSampling, TileBatch } from './tiles';
export { PAPER_AUGMENTATION, runTraining, train, ValidationError } from './trainer';
export type { TrainEvent, TrainOptions, TrainResult } from './trainer';
export { KEPT_MODELS, OPTIMIZERS, SCHEDULES, TRAINING_DEFAULTS } from './options';
export type { KeptModel, OptimizerName, ScheduleName, Settings } from './options';
export type { MetricsRecord } from './run-folder';
export { RECIPES, recipe } from './recipes';
export type { Recipe, RecipeName } from './recipes';
export { SELECT_BY, scoreValidation, selectionScore, validate } from './validate';
export type { KnownScores, SelectBy, ValidateOptions, ValidationScores } from './validate';
