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

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.checkpointFile = path.join(dir, 'checkpoint.pt');
    this.metricsFile = path.join(dir, 'metrics.jsonl');
  }

  hasCheckpoint(): boolean {
    return fs.existsSync(this.checkpointFile);
  }

  readCheckpoint(): Checkpoint<Settings, HistoryEntry> {
    return loadCheckpoint<Settings, HistoryEntry>(this.checkpointFile);
  }

  writeCheckpoint(checkpoint: Checkpoint<Settings, HistoryEntry>): void {
    saveCheckpoint(this.checkpointFile, checkpoint);
  }

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

  appendMetrics(record: MetricsRecord): void {
    fs.appendFileSync(this.metricsFile, `${JSON.stringify(record)}\n`);
  }

  saveWeights(name: 'best' | 'final', model: UNet): string {
    const file = path.join(this.dir, `${name}.safetensors`);
    tidy(() => saveSafetensors(file, model.stateDict()));
    return file;
  }

  writeCurves(losses: number[], history: HistoryEntry[]): void {
    writeCurves(path.join(this.dir, 'curves.png'), losses, history);
  }
}
