// A training run's folder: model.json, checkpoint.pt, metrics.jsonl, curves.png and the best
// and final weights. Every file is written atomically except metrics.jsonl, which only grows
// (and is cut back to the checkpoint's step on resume).
import * as fs from 'node:fs';
import * as path from 'node:path';

import { writeFileAtomic } from '../io/atomic';
import { saveSafetensors } from '../io/safetensors';
import { tidy } from '../memory';
import { type ModelDescription, saveModelDescription } from '../unet/model-files';
import type { UNet } from '../unet/model';
import { type Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { writeCurves } from './curves';
import type { Settings } from './options';
import type { ValidationScores } from './validate';

/** One validation in a run's history. */
export interface HistoryEntry {
  /** The epoch (1 first) that ended here. */
  epoch: number;
  /** The step it ended at. */
  step: number;
  /** The scores on the validation images; null without any. */
  validation: ValidationScores | null;
}

/** One line of metrics.jsonl: a step's loss, or an epoch's validation. */
export type MetricsRecord =
  | {
      /** The step (1 first). */
      step: number;
      /** Its training loss. */
      loss: number;
      /** The learning rate it used. */
      lr: number;
      /** Milliseconds since this run (or its resumption) started. */
      elapsedMs: number;
    }
  | HistoryEntry;

/** The step losses among lines of metrics.jsonl. */
function lossesOf(lines: string[]): number[] {
  return lines.map((line) => JSON.parse(line) as MetricsRecord).flatMap((record) => ('loss' in record ? [record.loss] : []));
}

/** The checkpoint's name in a run folder: its presence says a run was trained there. */
const CHECKPOINT_FILE = 'checkpoint.pt';

/** The files of one training run. */
export class RunFolder {
  /** The checkpoint's path (`checkpoint.pt`), rewritten atomically each epoch. */
  readonly checkpointFile: string;
  /** The path of the history, one JSON line per epoch (`metrics.jsonl`). */
  readonly metricsFile: string;

  /**
   * The run folder `dir`, created when missing.
   * @param dir The folder's path.
   */
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.checkpointFile = path.join(dir, CHECKPOINT_FILE);
    this.metricsFile = path.join(dir, 'metrics.jsonl');
  }

  /** Whether a checkpoint was written (a run to resume). */
  hasCheckpoint(): boolean {
    return RunFolder.holdsRun(this.dir);
  }

  /** Whether the folder `dir` holds a training run (its checkpoint), without creating it. */
  static holdsRun(dir: string): boolean {
    return fs.existsSync(path.join(dir, CHECKPOINT_FILE));
  }

  /** The checkpoint, checked part by part. */
  readCheckpoint(): Checkpoint<Settings, HistoryEntry> {
    return loadCheckpoint<Settings, HistoryEntry>(this.checkpointFile);
  }

  /** Writes the checkpoint atomically: a process killed meanwhile leaves the previous one. */
  writeCheckpoint(checkpoint: Checkpoint<Settings, HistoryEntry>): void {
    saveCheckpoint(this.checkpointFile, checkpoint);
  }

  /** Writes model.json: what prediction needs besides the weights. */
  writeDescription(description: ModelDescription): void {
    saveModelDescription(this.dir, description);
  }

  /** Starts metrics.jsonl afresh. */
  resetMetrics(): void {
    writeFileAtomic(this.metricsFile, '');
  }

  /** Keeps the lines of metrics.jsonl up to `step` (what a checkpoint covers) and returns their losses. */
  truncateMetrics(step: number): number[] {
    const kept = this.metricsUpTo(step);
    if (fs.existsSync(this.metricsFile)) writeFileAtomic(this.metricsFile, kept.map((line) => `${line}\n`).join(''));
    return lossesOf(kept);
  }

  /** The losses of metrics.jsonl up to `step`, the file left as it is (what a rank other than 0 reads on resuming). */
  lossesUpTo(step: number): number[] {
    return lossesOf(this.metricsUpTo(step));
  }

  private metricsUpTo(step: number): string[] {
    if (!fs.existsSync(this.metricsFile)) return [];
    return fs
      .readFileSync(this.metricsFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && (JSON.parse(line) as MetricsRecord).step <= step);
  }

  /** Adds a line to metrics.jsonl. */
  appendMetrics(record: MetricsRecord): void {
    fs.appendFileSync(this.metricsFile, `${JSON.stringify(record)}\n`);
  }

  /** Writes the model's weights as `best.safetensors` or `final.safetensors`; returns the file. */
  saveWeights(name: 'best' | 'final', model: UNet): string {
    const file = path.join(this.dir, `${name}.safetensors`);
    tidy(() => saveSafetensors(file, model.stateDict()));
    return file;
  }

  /** Draws the loss and the validation scores into curves.png. */
  writeCurves(losses: number[], history: HistoryEntry[]): void {
    writeCurves(path.join(this.dir, 'curves.png'), losses, history);
  }
}
