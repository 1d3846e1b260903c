// Training checkpoints: model, optimizer, scheduler and gradient-scaler state with the step and
// the run's settings, in one torch.save file (PyTorch loads it with weights_only=True), written
// atomically so that a process killed while writing leaves the previous checkpoint intact.
import { loadTorch, saveTorch, type TorchValue } from '../io/torch-file';
import type { Tensor } from '../tensor';

const FORMAT = 'unet-torch-checkpoint';

/** What a checkpoint holds. */
export interface Checkpoint {
  step: number;
  epoch: number;
  /** The run's settings (JSON), checked on resume. */
  settings: Record<string, unknown>;
  model: Record<string, Tensor>;
  optimizer: TorchValue;
  scheduler: TorchValue;
  scaler: TorchValue;
  /** Validation results so far (JSON). */
  history: unknown[];
}

/** Thrown for a file that is not a checkpoint of this library. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export function saveCheckpoint(file: string, checkpoint: Checkpoint): void {
  saveTorch(file, {
    format: FORMAT,
    version: 1,
    step: checkpoint.step,
    epoch: checkpoint.epoch,
    settings: JSON.stringify(checkpoint.settings),
    history: JSON.stringify(checkpoint.history),
    model: checkpoint.model,
    optimizer: checkpoint.optimizer,
    scheduler: checkpoint.scheduler,
    scaler: checkpoint.scaler,
  });
}

export function loadCheckpoint(file: string): Checkpoint {
  const value = loadTorch(file) as Record<string, TorchValue>;
  if (value === null || typeof value !== 'object' || value.format !== FORMAT) {
    throw new CheckpointError(`${file}: not a unet-torch training checkpoint (no '${FORMAT}' marker); for weights alone use torch.load`);
  }
  return {
    step: value.step as number,
    epoch: value.epoch as number,
    settings: JSON.parse(value.settings as string) as Record<string, unknown>,
    history: JSON.parse(value.history as string) as unknown[],
    model: value.model as Record<string, Tensor>,
    optimizer: value.optimizer!,
    scheduler: value.scheduler!,
    scaler: value.scaler!,
  };
}
