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
  epoch: number;
  step: number;
  validation: ValidationScores | null;
}

/** One line of metrics.jsonl: a step's loss, or an epoch's validation. */
export type MetricsRecord =
  | { step: number; loss: number; lr: number; elapsedMs: number }
  | { epoch: number; step: number; validation: ValidationScores | null };

/** The files of one training run. */
export class RunFolder {
  readonly checkpointFile: string;
  readonly metricsFile: string;

  /** The run folder `dir`, created when missing. */
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.checkpointFile = path.join(dir, 'checkpoint.pt');
    this.metricsFile = path.join(dir, 'metrics.jsonl');
  }

  /** Whether a checkpoint was written (a run to resume). */
  hasCheckpoint(): boolean {
    return fs.existsSync(this.checkpointFile);
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
    if (!fs.existsSync(this.metricsFile)) return [];
    const kept = fs
      .readFileSync(this.metricsFile, 'utf8')
      .split('\n')
      .filter((line) => line !== '' && (JSON.parse(line) as MetricsRecord).step <= step);
    writeFileAtomic(this.metricsFile, kept.map((line) => `${line}\n`).join(''));
    return kept.map((line) => JSON.parse(line) as MetricsRecord).flatMap((record) => ('loss' in record ? [record.loss] : []));
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
