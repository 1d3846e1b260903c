// `unet accuracy DATA`: the results table of docs/results.md, reproduced. For each data set it
// trains with the set's recipe within a fixed time, predicts frames it never trained or tuned on,
// and prints the challenge's own scores with the steps, the time and the seed. Two protocols:
// `heldout` (the last frames of each sequence; validation frames choose the model and the
// post-processing) and `cross` (train on sequence 01, score all of 02, then the reverse: closer
// to the challenge's hidden test sequences).
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { TrainingSample } from '../data/dataset';
import { writeFileAtomic } from '../io/atomic';
import { dispose } from '../memory';
import { ctcScores } from '../metrics/ctc';
import { labelsFromProbabilities } from '../predict/instances';
import { basePostprocess } from '../raster/postprocess';
import { writePrediction } from '../predict/outputs';
import { predictProbabilities } from '../predict/overlap-tile';
import { getNumThreads } from '../runtime';
import type { TrainEvent } from '../train/trainer';
import { CALIBRATION_GRID, type CalibrationGrid, calibrateModel } from '../train/calibrate';
import { loadCheckpoint } from '../train/checkpoint';
import { type KeptModel, TRAINING_DEFAULTS } from '../train/options';
import { isbiScoresOf, type SelectBy } from '../train/validate';
import { loadTrainedModel, saveModelDescription } from '../unet/model-files';
import { choiceOption, numberOption } from './args';
import { applyCommonFlags } from './common-flags';
import { defineCommand, type FlagValues, UsageError } from './command';
import { progressPrinter } from './progress';
import { loadTrainingSamples, trainRun } from './train';
import { TRAINING_FLAGS, type TrainingRequest, trainingRequest } from './training-flags';

/** A benchmark set: its recipe, how it is scored, and which frames are held out. */
interface BenchmarkSet {
  recipe: string;
  measure: 'ctc' | 'isbi2012';
  /** Frames scored in the held-out protocol (never trained or tuned on). */
  test: string[];
  /** Frames that choose the best model and the post-processing. */
  validation: string[];
  /** Frame names start with their sequence (01_…, 02_…): the cross protocol applies. */
  sequences: boolean;
}

/**
 * The held-out frames: the last two frames of each sequence (time-lapse sets), the last five
 * slices (ISBI 2012), the four nuclei images `npm start` scores plus the last image of each other
 * size (DSB2018); validation takes the frames just before them.
 */
export const BENCHMARK_SETS: Record<string, BenchmarkSet> = {
  'dic-c2dh-hela': {
    recipe: 'dic-c2dh-hela',
    measure: 'ctc',
    test: ['01_t033', '01_t034', '02_t038', '02_t042'],
    validation: ['01_t031', '02_t034'],
    sequences: true,
  },
  'phc-c2dh-u373': {
    recipe: 'phc-c2dh-u373',
    measure: 'ctc',
    test: ['01_t092', '01_t096', '02_t074', '02_t077'],
    validation: ['01_t075', '02_t059'],
    sequences: true,
  },
  isbi2012: { recipe: 'isbi2012', measure: 'isbi2012', test: ['20', '21', '22', '23', '24'], validation: ['18', '19'], sequences: false },
  dsb2018: {
    recipe: 'nuclei',
    measure: 'ctc',
    test: ['edd36ed822e7ed76', 'ee927e8255096971', 'f8e74d4006dd68c1', 'fadeb0ab092833f2', 'd4d88391bc399a37', 'e52960d31f8bddf8'],
    validation: ['e50ac10d1dce6496', 'c169a7782a69ea2f', 'd52958107d0b1f02'],
    sequences: false,
  },
};

const PROTOCOLS = ['heldout', 'cross'] as const;

/** One run's line of the table. */
export interface AccuracyRow {
  set: string;
  protocol: string;
  trainFrames: number;
  validationFrames: number;
  testFrames: string[];
  steps: number;
  trainingMinutes: number;
  threads: number;
  seed: number;
  validation: Record<string, number>;
  test: Record<string, number>;
  postprocess: unknown;
  tta: boolean;
  run: string;
}

/** The samples of `set` named `names` (a benchmark split's frames), in that order; a missing one throws. */
export function stemSet(samples: TrainingSample[], names: string[], set: string): TrainingSample[] {
  return names.map((name) => {
    const sample = samples.find((s) => s.name === name);
    if (sample === undefined) throw new Error(`${set}: frame '${name}' is missing from the data (its images/ and labels/ must hold it)`);
    return sample;
  });
}

/**
 * Chooses a trained run's post-processing again on its validation samples for its `keep` weights,
 * as train() does at its end, among the settings of `grid` (the recipe's) with a watershed when
 * `watershed` (the recipe's, or --watershed) and the output is cells; model.json records both, so
 * that prediction loads those weights.
 */
function recalibrate(
  runDir: string,
  train: TrainingSample[],
  validation: TrainingSample[],
  watershed: boolean,
  keep: KeptModel,
  grid: CalibrationGrid | undefined,
): Record<string, number> {
  const { model, description } = loadTrainedModel(path.join(runDir, `${keep}.safetensors`));
  try {
    const selectBy = (description.training?.selectBy as SelectBy | undefined) ?? 'seg';
    const tileSize = (description.training?.validationTileSize as number | undefined) ?? model.defaultTileSize;
    const { kind } = description.postprocess;
    const base = basePostprocess(kind, watershed && kind === 'cells');
    const predictOptions = { tileSize, tta: description.tta };
    const { postprocess, scores } = calibrateModel(model, train, validation, predictOptions, base, selectBy, grid);
    const training = { ...description.training, keep, calibrationGrid: grid ?? CALIBRATION_GRID };
    saveModelDescription(runDir, { ...description, postprocess, training });
    return rowValidation(scores);
  } finally {
    model.dispose();
  }
}

/** One run of a benchmark set: its protocol and the frames it trains, validates and tests on. */
interface PlannedRun {
  protocol: string;
  train: TrainingSample[];
  validation: TrainingSample[];
  test: TrainingSample[];
}

/**
 * The runs of a set under the protocols asked for: `heldout` trains on every frame but the split's
 * validation and test frames; `cross` (sets of sequences 01 and 02) trains on one sequence, less
 * its validation frames, and tests on every frame of the other, both ways.
 */
function plannedRuns(spec: BenchmarkSet, samples: TrainingSample[], protocols: readonly string[], set: string): PlannedRun[] {
  const runs: PlannedRun[] = [];
  const test = stemSet(samples, spec.test, set);
  const validation = stemSet(samples, spec.validation, set);
  if (protocols.includes('heldout')) {
    runs.push({ protocol: 'heldout', train: samples.filter((s) => !test.includes(s) && !validation.includes(s)), validation, test });
  }
  if (protocols.includes('cross') && spec.sequences) {
    for (const [from, to] of [
      ['01', '02'],
      ['02', '01'],
    ] as const) {
      const own = samples.filter((s) => s.name.startsWith(`${from}_`));
      const val = own.filter((s) => validation.includes(s));
      runs.push({
        protocol: `cross ${from}→${to}`,
        train: own.filter((s) => !val.includes(s)),
        validation: val,
        test: samples.filter((s) => s.name.startsWith(`${to}_`)),
      });
    }
  }
  return runs;
}

/** What a row tells of the training: its steps and time, threads and seed, and the validation scores of the chosen post-processing. */
type TrainingFacts = Pick<AccuracyRow, 'steps' | 'trainingMinutes' | 'threads' | 'seed' | 'validation'>;

/** The calibration's validation scores as a row records them. */
function rowValidation(scores: { seg?: number; det?: number; isbiRandError?: number }): Record<string, number> {
  return {
    ...(scores.seg === undefined ? {} : { seg: scores.seg, det: scores.det! }),
    ...(scores.isbiRandError === undefined ? {} : { isbiRandError: scores.isbiRandError }),
  };
}

/** Trains `run` into `runDir` with the recipe of `request`, printing progress, and times it. */
async function trainAndTime(
  runDir: string,
  run: PlannedRun,
  request: TrainingRequest,
  record: Record<string, string>,
): Promise<TrainingFacts> {
  const print = progressPrinter();
  let validation: Record<string, number> = {};
  const start = Date.now();
  const result = await trainRun(request, run.train, run.validation, runDir, {
    onEvent: (event: TrainEvent) => {
      print(event);
      if (event.type === 'calibrated') validation = rowValidation(event.validation);
    },
    record,
  });
  const trainingMinutes = (Date.now() - start) / 60_000;
  return { steps: result.step, trainingMinutes, threads: getNumThreads(), seed: request.train.seed, validation };
}

/**
 * The trained run in `runDir` as it is, its post-processing chosen again with this code: the
 * training's own steps, time, seed and threads (its results.json row, else its checkpoint).
 */
function rescoreRun(
  runDir: string,
  run: PlannedRun,
  request: TrainingRequest,
  keep: KeptModel,
  previousRows: AccuracyRow[],
): TrainingFacts {
  const previous = previousRows.find((row) => path.resolve(row.run) === path.resolve(runDir));
  const checkpoint = previous === undefined ? loadCheckpoint<{ seed?: number }>(path.join(runDir, 'checkpoint.pt')) : undefined;
  const steps = previous?.steps ?? checkpoint!.step;
  const validation = recalibrate(runDir, run.train, run.validation, request.watershed, keep, request.train.calibrationGrid);
  process.stderr.write(`${runDir}: rescored with the trained weights, ${keep}.safetensors (${steps} steps)\n`);
  return {
    steps,
    trainingMinutes: previous?.trainingMinutes ?? NaN,
    threads: previous?.threads ?? NaN,
    seed: previous?.seed ?? checkpoint!.settings.seed ?? NaN,
    validation,
  };
}

/** Scores a trained run folder on test samples, writing the predictions beside it. */
function scoreRun(
  runDir: string,
  test: TrainingSample[],
  measure: BenchmarkSet['measure'],
): { scores: Record<string, number>; tta: boolean; postprocess: unknown } {
  const { model, description } = loadTrainedModel(runDir);
  const out = path.join(runDir, 'test-predictions');
  fs.mkdirSync(out, { recursive: true });
  try {
    const probabilities = test.map((sample) => predictProbabilities(model, sample.image, { tta: description.tta }));
    try {
      for (const [k, sample] of test.entries()) writePrediction(out, sample.name, sample.image, probabilities[k]!, description.postprocess);
      if (measure === 'isbi2012') {
        const s = isbiScoresOf(test, probabilities, description.postprocess);
        return {
          scores: { pixelError: s.pixelError, randError: s.randError, warpingError: s.warpingError, vRand: s.vRand, vInfo: s.vInfo },
          tta: description.tta,
          postprocess: description.postprocess,
        };
      }
      const predicted = test.map((_sample, k) => labelsFromProbabilities(probabilities[k]!, description.postprocess));
      try {
        const s = ctcScores(test.map((sample, k) => ({ name: sample.name, predicted: predicted[k]!, reference: sample.instances })));
        return {
          scores: {
            seg: s.seg,
            det: s.det,
            objects: s.objects,
            falseNegatives: s.falseNegatives,
            falsePositives: s.falsePositives,
            splits: s.splits,
          },
          tta: description.tta,
          postprocess: description.postprocess,
        };
      } finally {
        dispose(predicted);
      }
    } finally {
      dispose(probabilities);
    }
  } finally {
    model.dispose();
  }
}

function format(value: number | undefined, digits = 4): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** The results as a markdown table. */
export function accuracyTable(rows: AccuracyRow[]): string {
  const header =
    '| set | protocol | train / val / test frames | steps | minutes | seed | val SEG (or Rand error) | test SEG | test DET | ISBI pixel error | ISBI Rand error | ISBI warping error | V_Rand | V_Info |';
  const lines = rows.map(
    (row) =>
      `| ${row.set} | ${row.protocol} | ${row.trainFrames} / ${row.validationFrames} / ${row.testFrames.length} | ${row.steps} | ${row.trainingMinutes.toFixed(1)} | ${row.seed} | ${format(row.validation.isbiRandError ?? row.validation.seg)} | ${format(row.test.seg)} | ${format(row.test.det)} | ${format(row.test.pixelError)} | ${format(row.test.randError)} | ${format(row.test.warpingError, 6)} | ${format(row.test.vRand)} | ${format(row.test.vInfo)} |`,
  );
  return [header, `|${' --- |'.repeat(14)}`, ...lines].join('\n');
}

/** `unet accuracy` */
export const accuracyCommand = defineCommand({
  name: 'accuracy',
  synopsis: 'DATA [options]',
  positionals: [1, 1],
  flags: {
    sets: { type: 'string', placeholder: 'A,B', help: 'the sets to run (default: every one found)' },
    protocols: { type: 'string', placeholder: 'P,Q', help: 'heldout | cross (default both; cross needs sequences 01 and 02)' },
    out: { type: 'string', placeholder: 'DIR', help: 'runs, predictions and results.json (default runs/accuracy)' },
    rescore: {
      type: 'boolean',
      help: "reuse the trained runs found in --out: choose their post-processing again on the\nvalidation frames for the recipe's kept weights (or --keep), among the recipe's settings,\nwith its watershed (or --watershed / --no-watershed), and score the test frames (no training:\na run missing from --out is an error)",
    },
    ...TRAINING_FLAGS,
  },
  epilogue: `DATA: a folder holding ${Object.keys(BENCHMARK_SETS).join(', ')} (each with images/ and labels/), or one of them.
--minutes is the training time of each run (default 60); the training flags override each set's
recipe (the ablations of docs/results.md do). Prints the challenges' scores on the held-out
frames with the steps, the time and the seed, and writes them to results.json.`,
  run(values, positionals) {
    applyCommonFlags(values);
    return accuracy(positionals[0]!, values);
  },
});

/** The benchmark sets in `data` (a folder of them, or one of them) with their folders; none is an error. */
function availableSets(data: string): (readonly [string, string])[] {
  if (!fs.existsSync(data) || !fs.statSync(data).isDirectory()) throw new Error(`${data}: no such folder`);
  const found = Object.keys(BENCHMARK_SETS).filter((set) => fs.existsSync(path.join(data, set, 'images')));
  const single = path.basename(path.resolve(data));
  const available =
    found.length > 0 ? found.map((set) => [set, path.join(data, set)] as const) : single in BENCHMARK_SETS ? [[single, data] as const] : [];
  if (available.length === 0)
    throw new Error(`${data}: holds none of ${Object.keys(BENCHMARK_SETS).join(', ')} (each a folder with images/ and labels/)`);
  return available;
}

async function accuracy(
  data: string,
  values: FlagValues<typeof TRAINING_FLAGS> & { sets?: string; protocols?: string; out?: string; rescore?: boolean },
): Promise<number> {
  const protocols = (values.protocols?.split(',') ?? [...PROTOCOLS]).map((protocol) => choiceOption('protocols', protocol, PROTOCOLS)!);
  const minutes = numberOption('minutes', values.minutes) ?? 60;
  const available = availableSets(data);
  const wanted = values.sets?.split(',') ?? available.map(([set]) => set);
  for (const set of wanted)
    if (!available.some(([name]) => name === set))
      throw new UsageError(`--sets: '${set}' is not in ${data} (found: ${available.map(([name]) => name).join(', ')})`);
  // Every set's request before anything is written: a bad training flag leaves no folder behind.
  const requests = new Map(
    wanted.map((set) => [
      set,
      trainingRequest({ ...values, recipe: values.recipe ?? BENCHMARK_SETS[set]!.recipe, minutes: String(minutes) }),
    ]),
  );
  const outRoot = values.out ?? path.join('runs', 'accuracy');
  fs.mkdirSync(outRoot, { recursive: true });
  const rows: AccuracyRow[] = [];
  const resultsFile = path.join(outRoot, 'results.json');
  const previousRows: AccuracyRow[] = fs.existsSync(resultsFile) ? (JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as AccuracyRow[]) : [];
  for (const [set, folder] of available.filter(([name]) => wanted.includes(name))) {
    const spec = BENCHMARK_SETS[set]!;
    const request = requests.get(set)!;
    const samples = loadTrainingSamples(folder, request);
    try {
      for (const run of plannedRuns(spec, samples, protocols, set)) {
        const runDir = path.join(outRoot, set, run.protocol.replace(/[^a-z0-9]+/gi, '-'));
        const keep = request.train.keep ?? TRAINING_DEFAULTS.keep;
        const keptWeights = path.join(runDir, `${keep}.safetensors`);
        // An hour of training is never what a rescoring call meant: a run it cannot find is an error.
        if (values.rescore && !fs.existsSync(keptWeights))
          throw new Error(
            `${keptWeights}: no trained weights to rescore: --rescore reuses the runs that unet accuracy trained into --out; train this one without --rescore`,
          );
        process.stderr.write(
          `\n${set}, ${run.protocol}: ${values.rescore ? 'rescoring the run trained' : `training for ${minutes} min`} on ${run.train.length} frames (validation ${run.validation.map((s) => s.name).join(', ')}) → ${runDir}\n`,
        );
        const facts = values.rescore
          ? rescoreRun(runDir, run, request, keep, previousRows)
          : await trainAndTime(runDir, run, request, { benchmark: set, protocol: run.protocol });
        const scored = scoreRun(runDir, run.test, spec.measure);
        rows.push({
          set,
          protocol: run.protocol,
          trainFrames: run.train.length,
          validationFrames: run.validation.length,
          testFrames: run.test.map((s) => s.name),
          ...facts,
          test: scored.scores,
          postprocess: scored.postprocess,
          tta: scored.tta,
          run: runDir,
        });
        // Rows of runs this call did not redo stay, so sets run one call at a time share one file.
        const kept = previousRows.filter((row) => !rows.some((redone) => path.resolve(redone.run) === path.resolve(row.run)));
        writeFileAtomic(resultsFile, `${JSON.stringify([...kept, ...rows], null, 2)}\n`);
        process.stdout.write(`${accuracyTable(rows.slice(-1))}\n`);
      }
    } finally {
      dispose(samples.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
    }
  }
  process.stdout.write(`\n${accuracyTable(rows)}\n\nresults: ${path.join(outRoot, 'results.json')}\n`);
  return 0;
}
