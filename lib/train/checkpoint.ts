// Training checkpoints: model, optimizer, scheduler and gradient-scaler state with the step and
// the run's settings, in one torch.save file (PyTorch loads it with weights_only=True), written
// atomically so that a process killed while writing leaves the previous checkpoint intact.
import { pathArg } from '../arguments';
import { objectArg } from '../check';
import { loadTorch, saveTorch, type TorchValue } from '../io/torch-file';
import type { SchedulerStateDict } from '../optim/lr-scheduler';
import type { OptimizerStateDict } from '../optim/optimizer';
import { Tensor } from '../tensor';

const FORMAT = 'unet-torch-checkpoint';

/** What a checkpoint holds. */
export interface Checkpoint<Settings, History> {
  /** The last step done: a resumed run goes on from the next. */
  step: number;
  /** The epochs completed by then. */
  epoch: number;
  /** The run's settings (stored as JSON), checked on resume. */
  settings: Settings;
  /** The network's state dict. */
  model: Record<string, Tensor>;
  /** The optimizer's state dict (momenta, PyTorch's layout). */
  optimizer: OptimizerStateDict;
  /** The learning-rate schedule's state dict; null with a constant rate. */
  scheduler: SchedulerStateDict | null;
  /** The AMP gradient scaler's state; null without AMP. */
  scaler: Record<string, number> | null;
  /** Validation results so far (stored as JSON). */
  history: History[];
}

/** Thrown for a file that is not a checkpoint of this library. */
export class CheckpointError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'CheckpointError';
}

/** Writes a checkpoint as one torch.save file, atomically; PyTorch reads it with weights_only=True. */
export function saveCheckpoint<S, H>(file: string, checkpoint: Checkpoint<S, H>): void {
  pathArg('saveCheckpoint', 'file', file);
  objectArg('saveCheckpoint', 'checkpoint', checkpoint);
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

function isRecord(value: TorchValue | undefined): value is { [key: string]: TorchValue } {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Tensor);
}

function field<T>(
  file: string,
  name: string,
  value: TorchValue | undefined,
  check: (v: TorchValue | undefined) => v is T & TorchValue,
  expected: string,
): T {
  if (!check(value)) throw new CheckpointError(`${file}: the checkpoint's '${name}' is not ${expected}`);
  return value;
}

const isNumber = (v: TorchValue | undefined): v is number => typeof v === 'number';
const isString = (v: TorchValue | undefined): v is string => typeof v === 'string';
const isTensors = (v: TorchValue | undefined): v is Record<string, Tensor> =>
  isRecord(v) && Object.values(v).every((t) => t instanceof Tensor);
const isOptimizerState = (v: TorchValue | undefined): v is OptimizerStateDict & TorchValue =>
  isRecord(v) && isRecord(v.state) && Array.isArray(v.param_groups) && v.param_groups.every((group) => isRecord(group));
const isScheduler = (v: TorchValue | undefined): v is SchedulerStateDict | null => v === null || isRecord(v);
const isScaler = (v: TorchValue | undefined): v is Record<string, number> | null =>
  v === null || (isRecord(v) && Object.values(v).every((x) => typeof x === 'number'));

/**
 * Reads a checkpoint, checking the kind of every part (a file of another kind is a
 * CheckpointError naming the part). The settings and history are the JSON the run wrote.
 */
export function loadCheckpoint<S = Record<string, unknown>, H = unknown>(file: string): Checkpoint<S, H> {
  const value = loadTorch(file);
  if (!isRecord(value) || value.format !== FORMAT) {
    throw new CheckpointError(`${file}: not a unet-torch training checkpoint (no '${FORMAT}' marker); for weights alone use torch.load`);
  }
  return {
    step: field(file, 'step', value.step, isNumber, 'a number'),
    epoch: field(file, 'epoch', value.epoch, isNumber, 'a number'),
    settings: JSON.parse(field(file, 'settings', value.settings, isString, 'JSON text')) as S,
    history: JSON.parse(field(file, 'history', value.history, isString, 'JSON text')) as H[],
    model: field(file, 'model', value.model, isTensors, 'a state dict of tensors'),
    optimizer: field(file, 'optimizer', value.optimizer, isOptimizerState, "an optimizer's state dict"),
    scheduler: field(file, 'scheduler', value.scheduler, isScheduler, "a scheduler's state dict or null"),
    scaler: field(file, 'scaler', value.scaler, isScaler, "a gradient scaler's state dict or null"),
  };
}
