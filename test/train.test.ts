// Training end to end on generated cells: the loss falls and the IoU is reached; a resumed run
// equals the uninterrupted one; checkpoints; Ctrl-C; the train/predict/eval command line.
import { type SpawnSyncReturns, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { readLabelPng, syntheticCells, torch, unet, UNet, writeGrayPng, writeLabelPng } from '../lib';
import { labelsFromProbabilities, type PostprocessOptions } from '../lib/predict/instances';
import { loadTrainedModel, readModelDescription } from '../lib/unet/model-files';
import { ValidationError } from '../lib/train/trainer';
import { normaliseImage, prepareSamples, type TrainingSample } from '../lib/data/dataset';
import {
  CALIBRATION_GRID,
  type CellTrial,
  calibratePostprocess,
  fixedPostprocess,
  type MembraneTrial,
  medianCellArea,
} from '../lib/train/calibrate';
import { RECIPES } from '../lib/train/recipes';
import { loadCheckpoint } from '../lib/train/checkpoint';
import type { HistoryEntry } from '../lib/train/run-folder';
import { runTraining, type TrainOptions } from '../lib/train/trainer';
import type { Tensor } from '../lib/tensor';
import { TrainingBatches } from '../lib/train/step';
import { sampleTiles } from '../lib/train/tiles';
import { TRAINING_DEFAULTS } from '../lib/train/options';
import { SeededRandom } from '../lib/augment/random';
import { writeGrayAsRgbPng } from './support/colour';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

function samples(count: number, size = 96, targets: Parameters<typeof prepareSamples>[3] = {}): TrainingSample[] {
  const raw = Array.from({ length: count }, (_, k) => {
    const { image, label } = syntheticCells(k + 1, { height: size, width: size, radius: [6, 12] });
    const normalised = normaliseImage(image);
    image.dispose();
    return { name: `cells${k + 1}`, image: normalised, label };
  });
  return prepareSamples(raw, 'instances', targets.target === 'borders' ? 3 : 2, targets);
}

function release(data: TrainingSample[]): void {
  torch.dispose(data.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
}

function tinyNetwork(): UNet {
  torch.manualSeed(0);
  return new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 8, dropout: 0.2 });
}

/** A short Adam run of the tiny network on two training samples, validated every `stepsPerEpoch` steps. */
function tinyRun(model: UNet, data: TrainingSample[], steps: number, stepsPerEpoch: number) {
  return { model, train: data.slice(0, 2), steps, stepsPerEpoch, tileSize: model.inputSizeFor(20), optimizer: 'adam' as const };
}

function writeFolder(root: string, count: number, size: number, firstSeed = 1): void {
  for (const sub of ['images', 'labels']) fs.mkdirSync(path.join(root, sub), { recursive: true });
  for (let k = 0; k < count; k += 1) {
    const { image, label } = syntheticCells(firstSeed + k, { height: size, width: size + 6, radius: [6, 12] });
    writeGrayPng(path.join(root, 'images', `cells${k}.png`), image.squeeze(0));
    writeLabelPng(path.join(root, 'labels', `cells${k}.png`), label);
    torch.dispose([image, label]);
  }
}

/** `unet accuracy` over a folder of stand-in sets, briefly: 3 seconds of training on 188-pixel tiles, one thread, no TTA. */
function quickAccuracy(bench: string, out: string): SpawnSyncReturns<string> {
  return spawnSync(
    process.execPath,
    [cli, 'accuracy', bench, '--minutes', '0.05', '--tile', '188', '--epoch-steps', '3', '--threads', '1', '--no-tta', '--out', out],
    { encoding: 'utf8' },
  );
}

// The thread count is process-wide and jest reuses its worker processes: leave it as found, so
// that later test files compare with PyTorch at its default.
const threads = torch.getNumThreads();
afterAll(() => torch.setNumThreads(threads));

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-train-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

describe('train()', () => {
  test('on generated touching cells the loss falls and the validation IoU of the cells reaches 0.9', async () => {
    torch.setNumThreads(1);
    const data = samples(5);
    const model = tinyNetwork();
    const events: string[] = [];
    const result = await runTraining({
      model,
      train: data.slice(0, 4),
      validation: data.slice(4),
      steps: 150,
      stepsPerEpoch: 50,
      tileSize: model.inputSizeFor(60),
      optimizer: 'adam',
      lr: 3e-3,
      augment: { rotation: 180, flip: true },
      outDir: folder,
      onEvent: (e) => events.push(e.type),
    });
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(result.losses.slice(-10))).toBeLessThan(mean(result.losses.slice(0, 10)) / 3);
    const last = result.history[result.history.length - 1]!.validation!;
    expect(last.iou[1]).toBeGreaterThanOrEqual(0.9);
    expect(result.history.map((h) => h.step)).toEqual([50, 100, 150]);
    expect(events.filter((e) => e === 'step')).toHaveLength(150);
    for (const file of ['checkpoint.pt', 'best.safetensors', 'final.safetensors', 'metrics.jsonl', 'curves.png'])
      expect(fs.existsSync(path.join(folder, file))).toBe(true);
    const lines = fs
      .readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { step: number; loss?: number; validation?: unknown });
    expect(lines.filter((line) => line.loss !== undefined)).toHaveLength(150);
    expect(lines.filter((line) => line.validation !== undefined)).toHaveLength(3);
    const checkpoint = loadCheckpoint(path.join(folder, 'checkpoint.pt'));
    expect(checkpoint.step).toBe(150);
    expect(Object.keys(checkpoint.model)).toEqual(Object.keys(model.stateDict()));
    torch.dispose(data.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  }, 120_000);

  test('a run resumed from its checkpoint repeats the uninterrupted run exactly (SGD with momentum, poly schedule, drop-out, augmentation)', async () => {
    torch.setNumThreads(1);
    const data = samples(3, 72);
    const options = (model: UNet, steps: number, outDir: string): TrainOptions => ({
      model,
      train: data,
      steps,
      stepsPerEpoch: 3,
      tileSize: model.inputSizeFor(40),
      optimizer: 'sgd',
      lr: 0.01,
      momentum: 0.99,
      schedule: 'poly',
      batchSize: 2,
      accumulate: 2,
      outDir,
      resume: true,
      seed: 7,
    });
    const whole = tinyNetwork();
    const uninterrupted = await runTraining(options(whole, 9, path.join(folder, 'whole')));
    // Interrupted after step 5 (as Ctrl-C does), then resumed by a fresh network: the checkpoint must carry everything.
    const controller = new AbortController();
    const stopped = await runTraining({
      ...options(tinyNetwork(), 9, path.join(folder, 'parts')),
      signal: controller.signal,
      onEvent: (e) => e.type === 'step' && e.step === 5 && controller.abort(),
    });
    expect(stopped).toMatchObject({ step: 5, stopped: true });
    const resumedModel = tinyNetwork();
    const resumed = await runTraining(options(resumedModel, 9, path.join(folder, 'parts')));
    expect(resumed.losses).toEqual(uninterrupted.losses);
    const a = whole.stateDict();
    const b = resumedModel.stateDict();
    for (const key of Object.keys(a)) expect(a[key]!.equal(b[key]!)).toBe(true);
    const metrics = fs
      .readFileSync(path.join(folder, 'parts', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(metrics.filter((line) => line.includes('"loss"'))).toHaveLength(9);
    torch.dispose(data.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  }, 120_000);

  test('batches prepared one step ahead (prefetch) train bitwise as batches prepared when taken, and leave no tensor behind', async () => {
    torch.setNumThreads(1);
    const data = samples(3, 72);
    // Every batch prepared, to see that each is freed (counting live tensors would also count
    // earlier tests' tensors that the garbage collector happens to finalise meanwhile).
    const prepare = jest.spyOn(TrainingBatches.prototype as unknown as { prepare: () => Record<string, Tensor> }, 'prepare');
    const run = async (prefetch: boolean): Promise<{ losses: number[]; weights: ReturnType<UNet['stateDict']>; prepared: number }> => {
      prepare.mockClear();
      const model = tinyNetwork();
      // Stopped after step 4 of 5: the batch prepared ahead for step 5 is never taken, and must be freed.
      const controller = new AbortController();
      const { losses } = await runTraining({
        model,
        train: data,
        steps: 5,
        tileSize: model.inputSizeFor(40),
        batchSize: 2,
        accumulate: 2,
        backgroundWeight: 0.5,
        augment: { rotation: 180, flip: true, brightness: 0.1, contrast: 0.1, noise: 0.05 },
        seed: 3,
        prefetch,
        signal: controller.signal,
        onEvent: (event) => event.type === 'step' && event.step === 4 && controller.abort(),
      });
      const batches = prepare.mock.results.map((result) => result.value as Record<string, Tensor>);
      for (const batch of batches) for (const tensor of Object.values(batch)) expect(tensor.isDisposed).toBe(true);
      return { losses, weights: model.stateDict(), prepared: batches.length };
    };
    const taken = await run(false);
    const ahead = await run(true);
    prepare.mockRestore();
    expect(taken.losses).toHaveLength(4);
    expect(ahead.losses).toEqual(taken.losses);
    for (const key of Object.keys(taken.weights)) expect(ahead.weights[key]!.equal(taken.weights[key]!)).toBe(true);
    // 4 steps × 2 batches, and ahead one more: step 5's first, prepared during step 4 and freed unused.
    expect(taken.prepared).toBe(8);
    expect(ahead.prepared).toBe(9);
    await expect(runTraining({ model: tinyNetwork(), train: data, steps: 1, prefetch: 'yes' as unknown as boolean })).rejects.toThrow(
      /option 'prefetch' must be a boolean, got "yes"/,
    );
    release(data);
  }, 120_000);

  test("option 'cudaGraphs' is refused by name where a graph cannot replay the step", async () => {
    const data = samples(1, 64);
    const model = tinyNetwork();
    const options = { model, train: data, steps: 1, tileSize: model.inputSizeFor(20) };
    await expect(runTraining({ ...options, cudaGraphs: 'yes' as unknown as boolean })).rejects.toThrow(
      /train\(\): option 'cudaGraphs' must be a boolean, got "yes"/,
    );
    await expect(runTraining({ ...options, cudaGraphs: true, accumulate: 2 })).rejects.toThrow(
      /train\(\): option 'cudaGraphs' needs 'accumulate' 1 \(one backward per step\), got 2/,
    );
    await expect(runTraining({ ...options, cudaGraphs: true, device: 'cpu' })).rejects.toThrow(
      /train\(\): option 'cudaGraphs' needs a CUDA device, got 'cpu'/,
    );
    release(data);
  });

  (torch.cuda.isAvailable() && torch.info().cudaKernels ? test : test.skip)(
    "with option 'cudaGraphs' the steps after the second replay one captured step, and give the eager steps' losses and weights",
    async () => {
      const data = samples(2, 96);
      const run = async (cudaGraphs: boolean): Promise<{ losses: number[]; weights: ReturnType<UNet['stateDict']> }> => {
        const model = tinyNetwork().to('cuda'); // drop-out 0.2: seeded before each replay as before each eager step
        const { losses } = await runTraining({
          model,
          train: data,
          steps: 8,
          tileSize: model.inputSizeFor(40),
          augment: { rotation: 180, flip: true, elastic: { sigma: 5 } },
          schedule: 'poly',
          seed: 5,
          device: 'cuda',
          cudaGraphs,
        });
        return { losses, weights: model.stateDict() };
      };
      const eager = await run(false);
      const graphed = await run(true);
      for (const [k, loss] of eager.losses.entries())
        expect([k, Math.abs(graphed.losses[k]! - loss) <= 1e-4 * Math.abs(loss)]).toEqual([k, true]);
      for (const key of Object.keys(eager.weights))
        expect([key, torch.tidy(() => eager.weights[key]!.sub(graphed.weights[key]!).abs().max().item() as number) <= 1e-4]).toEqual([
          key,
          true,
        ]);
      release(data);
    },
    120_000,
  );

  test('the event loop turns between steps; an aborted run writes a checkpoint and stops; defaults fill what is not given; bad options are refused by name', async () => {
    const data = samples(2, 64);
    const model = tinyNetwork();
    const controller = new AbortController();
    const ticksAtStep: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 0);
    const result = await runTraining({
      model,
      train: data,
      steps: 100,
      tileSize: model.inputSizeFor(20),
      outDir: folder,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type !== 'step') return;
        ticksAtStep.push(ticks);
        if (e.step === 4) controller.abort();
      },
    });
    clearInterval(timer);
    expect(ticksAtStep[3]!).toBeGreaterThan(ticksAtStep[0]!);
    expect(result).toMatchObject({ step: 4, stopped: true });
    const checkpoint = loadCheckpoint(path.join(folder, 'checkpoint.pt'));
    expect(checkpoint.step).toBe(4);
    // What was not given is TRAINING_DEFAULTS' (the command line's help names the same constant).
    const { lr, optimizer, ...rest } = TRAINING_DEFAULTS;
    expect(checkpoint.settings).toMatchObject({ ...rest, optimizer, lr: lr[optimizer] });
    await expect(runTraining({ model, train: data, steps: 1, learningRate: 0.1 } as TrainOptions)).rejects.toThrow(
      /train\(\): unknown option 'learningRate'; known options: model, train, validation,/,
    );
    // Refused before the run folder is touched: the aborted run's metrics stay.
    const metrics = fs.readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8');
    await expect(runTraining({ model, train: data, steps: 1, outDir: folder, minutes: 0 })).rejects.toThrow(
      /train\(\): option 'minutes' must be > 0, got 0/,
    );
    expect(fs.readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8')).toBe(metrics);
    await expect(runTraining({ model, train: data, steps: 0 })).rejects.toThrow(/option 'steps' must be a positive integer/);
    await expect(runTraining({ model, train: data, steps: 1, tileSize: 41 })).rejects.toThrow(/nearest valid/);
    await expect(runTraining({ model, train: data, steps: 1, optimizer: 'lbfgs' as never })).rejects.toThrow(
      /train\(\): option 'optimizer' must be one of 'sgd', 'adam', 'adamw', got 'lbfgs'/,
    );
    await expect(runTraining({ model, train: data, steps: 1, amp: true })).rejects.toThrow(/option 'amp' needs a CUDA device/);
    await expect(runTraining({ model, train: [], steps: 1 })).rejects.toThrow(/no training samples/);
    torch.dispose(data.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  }, 60_000);
});

describe('validation never loses steps; bad combinations fail before the first step', () => {
  // The paper's depth with few channels: its smallest training tile (188) leaves 4 useful
  // pixels, too few to predict with, so validation must pick its own tile.
  const paperDepth = (): UNet => {
    torch.manualSeed(0);
    return new UNet({ ...unet.presetOptions('compact'), baseChannels: 4 });
  };

  test('training with the smallest valid tile validates with the default prediction tile and checkpoints', async () => {
    torch.setNumThreads(1);
    const data = samples(3, 64);
    const model = paperDepth();
    const result = await runTraining({
      model,
      train: data.slice(0, 2),
      validation: data.slice(2),
      steps: 4,
      stepsPerEpoch: 2,
      tileSize: 188,
      optimizer: 'adam',
      outDir: folder,
    });
    expect(result.history.map((entry) => entry.step)).toEqual([2, 4]);
    expect(result.history.every((entry) => entry.validation !== null && Number.isFinite(entry.validation.seg))).toBe(true);
    expect(loadCheckpoint(path.join(folder, 'checkpoint.pt')).step).toBe(4);
    for (const file of ['best.safetensors', 'final.safetensors', 'model.json']) expect(fs.existsSync(path.join(folder, file))).toBe(true);
    expect(readModelDescription(path.join(folder, 'model.json')).postprocess).toEqual(result.postprocess);
    release(data);
  }, 120_000);

  test("keep 'final' keeps the last step's weights: no best.safetensors, model.json says so, and the folder loads final.safetensors", async () => {
    torch.setNumThreads(1);
    const data = samples(3, 64);
    const model = tinyNetwork();
    const options = tinyRun(model, data, 4, 2);
    const result = await runTraining({ ...options, validation: data.slice(2), keep: 'final', outDir: folder });
    expect(result.history.map((entry) => entry.step)).toEqual([2, 4]);
    expect(fs.existsSync(path.join(folder, 'best.safetensors'))).toBe(false);
    const description = readModelDescription(path.join(folder, 'model.json'));
    expect(description.training?.keep).toBe('final');
    expect(description.postprocess).toEqual(result.postprocess);
    // A best.safetensors beside it (a run trained with keep 'best', then rescored) is not the model kept.
    fs.writeFileSync(path.join(folder, 'best.safetensors'), 'not the kept weights');
    const loaded = loadTrainedModel(folder);
    expect(path.basename(loaded.weights)).toBe('final.safetensors');
    torch.tidy(() => {
      const trained = model.stateDict();
      for (const [name, value] of Object.entries(loaded.model.stateDict()))
        expect([name, value.equal(trained[name]!)]).toEqual([name, true]);
    });
    loaded.model.dispose();
    await expect(runTraining({ ...options, keep: 'last' as 'final' })).rejects.toThrow(
      /train\(\): option 'keep' must be one of 'best', 'final', got 'last'/,
    );
    await expect(runTraining({ ...options, calibrationGrid: { thresholds: [], sizeFractions: [0], sigmas: [1] } })).rejects.toThrow(
      /train\.calibrationGrid\(\): option 'thresholds' must be a list of one or more numbers in \[0, 1\), got \[\]/,
    );
    release(data);
  }, 120_000);

  test('validateStart scores the network before the first step, and keeps it as the best model when training only makes it worse', async () => {
    torch.setNumThreads(1);
    const data = samples(3);
    const model = tinyNetwork();
    const options = { ...tinyRun(model, data, 40, 40), validation: data.slice(2), lr: 3e-3, augment: false as const, calibrate: false };
    await runTraining({ ...options, outDir: path.join(folder, 'pretrained') });
    const start = new Map([...model.namedParameters()].map(([name, value]) => [name, value.clone()]));
    // Adam at a learning rate of 1: two steps wreck what the first run learnt.
    const events: string[] = [];
    const tuned = await runTraining({
      ...options,
      steps: 2,
      stepsPerEpoch: 1,
      lr: 1,
      validateStart: true,
      outDir: path.join(folder, 'tuned'),
      onEvent: (event) => event.type === 'epoch' && events.push(`${event.epoch}@${event.step}`),
    });
    expect(events).toEqual(['0@0', '1@1', '2@2']);
    const [first, ...later] = tuned.history.map((entry) => entry.validation!.score);
    expect(later.every((score) => score < first!)).toBe(true);
    const best = loadTrainedModel(path.join(folder, 'tuned'));
    try {
      expect(path.basename(best.weights)).toBe('best.safetensors');
      for (const [name, value] of best.model.namedParameters()) expect([name, value.equal(start.get(name)!)]).toEqual([name, true]);
    } finally {
      best.model.dispose();
      torch.dispose([...start.values()]);
      release(data);
    }
    const lines = fs
      .readFileSync(path.join(folder, 'tuned', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ epoch: 0, step: 0 });
    await expect(runTraining({ ...options, validateStart: 'yes' as never })).rejects.toThrow(
      "train(): option 'validateStart' must be a boolean",
    );
  }, 120_000);

  test('a resumed run may change its calibration grid, which model.json then records, but no setting of its steps', async () => {
    torch.setNumThreads(1);
    const data = samples(3, 64);
    const options = { ...tinyRun(tinyNetwork(), data, 4, 2), validation: data.slice(2), outDir: folder };
    await runTraining(options);
    const grid = { thresholds: [0.6], sizeFractions: [0], sigmas: [1] };
    const resumed = await runTraining({ ...options, model: tinyNetwork(), steps: 6, resume: true, calibrationGrid: grid });
    expect(resumed.step).toBe(6);
    expect(resumed.history.map((entry) => entry.step)).toEqual([2, 4, 6]);
    expect(resumed.postprocess).toMatchObject({ threshold: 0.6, minSize: 0 });
    expect(readModelDescription(path.join(folder, 'model.json')).training?.calibrationGrid).toEqual(grid);
    await expect(runTraining({ ...options, model: tinyNetwork(), steps: 8, resume: true, lr: 0.01 })).rejects.toThrow(
      /checkpoint\.pt is from a different run: 'lr' was 0\.001 in the checkpoint, 0\.01 now/,
    );
    release(data);
  }, 120_000);

  test("a validation that throws leaves the step's checkpoint, and resume continues from it", async () => {
    torch.setNumThreads(1);
    const data = samples(3, 64);
    const broken = { ...data[2]!, image: data[2]!.image.clone() };
    const model = tinyNetwork();
    const options = {
      ...tinyRun(model, data, 6, 3),
      outDir: folder,
      resume: true,
    };
    // The validation image is freed during step 3, as a failing disk read or a bug would leave it.
    const run = runTraining({
      ...options,
      validation: [broken],
      onEvent: (e) => e.type === 'step' && e.step === 3 && broken.image.dispose(),
    });
    await expect(run).rejects.toThrow(ValidationError);
    await expect(
      runTraining({
        ...options,
        validation: [broken],
        resume: false,
        onEvent: (e) => e.type === 'step' && e.step === 3 && broken.image.dispose(),
      }),
    ).rejects.toThrow(
      /validation at step 3 failed: .*disposed.*The checkpoint of step 3 is in .*checkpoint.pt: continue from it with option 'resume'/,
    );
    expect(loadCheckpoint(path.join(folder, 'checkpoint.pt')).step).toBe(3);
    const resumed = await runTraining({ ...options, model: tinyNetwork(), validation: data.slice(2) });
    expect(resumed.step).toBe(6);
    expect(resumed.losses).toHaveLength(6);
    expect(resumed.history.map((entry) => entry.step)).toEqual([6]);
    release(data);
  }, 120_000);

  test('each epoch writes one checkpoint, with the epoch in its history, before the epoch event', async () => {
    torch.setNumThreads(1);
    const data = samples(3, 64);
    // The real module, whose renameSync the atomic writer calls (the namespace import above copies it).
    const nodeFs: typeof fs = jest.requireActual('node:fs');
    const renames = jest.spyOn(nodeFs, 'renameSync');
    const seenAtEpochs: number[][] = [];
    try {
      await runTraining({
        ...tinyRun(tinyNetwork(), data, 6, 3),
        validation: data.slice(2),
        outDir: folder,
        onEvent: (e) => {
          if (e.type === 'epoch')
            seenAtEpochs.push(loadCheckpoint<unknown, HistoryEntry>(path.join(folder, 'checkpoint.pt')).history.map((entry) => entry.step));
        },
      });
      const checkpoints = renames.mock.calls.filter(([, target]) => String(target).endsWith('checkpoint.pt'));
      expect(checkpoints).toHaveLength(2);
      expect(seenAtEpochs).toEqual([[3], [3, 6]]);
    } finally {
      renames.mockRestore();
      release(data);
    }
  }, 120_000);

  test('combinations that cannot work are refused before the first step, naming the options', async () => {
    const data = samples(2, 48);
    const model = paperDepth();
    const steps: number[] = [];
    const onEvent = (e: { type: string; step?: number }): void => void (e.type === 'step' && steps.push(e.step!));
    await expect(
      runTraining({ model, train: data, validation: data, steps: 2, tileSize: 188, validationTileSize: 188, onEvent }),
    ).rejects.toThrow(/option 'validationTileSize' 188 cannot predict with this network: a 188-pixel tile leaves 4 useful pixels/);
    await expect(runTraining({ model, train: data, steps: 2, tileSize: 188, postprocess: { kind: 'borders' }, onEvent })).rejects.toThrow(
      /'borders' needs a network with 3 classes, this one has 2/,
    );
    await expect(
      runTraining({ model, train: data, steps: 2, tileSize: 188, selectBy: 'rand', postprocess: { kind: 'classes' }, onEvent }),
    ).rejects.toThrow(/option 'selectBy' 'rand'/);
    await expect(runTraining({ model, train: data, steps: 2, tileSize: 188, backgroundWeight: 0, onEvent })).rejects.toThrow(
      /option 'backgroundWeight' must be in \(0, 1\]/,
    );
    await expect(runTraining({ model, train: data, steps: 2, tileSize: 188, imageSampling: 'pixels' as 'area', onEvent })).rejects.toThrow(
      /train\(\): option 'imageSampling' must be one of 'area', 'equal', got 'pixels'/,
    );
    const borders = samples(2, 48, { target: 'borders' });
    await expect(runTraining({ model, train: borders, steps: 2, tileSize: 188, onEvent })).rejects.toThrow(
      /has target class 2, but the network has 2 classes/,
    );
    // The loss does not check the weights at every step (that would wait for the GPU): train() does, once per sample.
    const negative = samples(1, 48).map((sample) => ({ ...sample, weights: sample.weights.neg() }));
    await expect(runTraining({ model, train: negative, steps: 2, tileSize: 188, onEvent })).rejects.toThrow(
      /train\(\): training sample '.+' has weights that are negative or NaN/,
    );
    expect(steps).toEqual([]);
    release([...data, ...borders, ...negative]);
  }, 60_000);

  test('unet train --tile 188 on the compact network validates, checkpoints and says which tile validation uses; --val-tile 188 is refused by its flag', () => {
    writeFolder(path.join(folder, 'data'), 3, 64);
    const run = path.join(folder, 'run');
    const common = [
      'train',
      '--data',
      path.join(folder, 'data'),
      '--out',
      run,
      '--preset',
      'compact',
      '--tile',
      '188',
      '--steps',
      '2',
      '--epoch-steps',
      '2',
      '--threads',
      '1',
    ];
    const ok = spawnSync(process.execPath, [cli, ...common], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stderr).toMatch(/validation predicts whole images with 572-pixel tiles \(--val-tile\), whatever the training tile/);
    expect(loadCheckpoint(path.join(run, 'checkpoint.pt')).step).toBe(2);
    const refused = spawnSync(process.execPath, [cli, ...common, '--val-tile', '188', '--out', path.join(folder, 'run2')], {
      encoding: 'utf8',
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/option 'validationTileSize' \(--val-tile\) 188 cannot predict with this network/);
    expect(fs.existsSync(path.join(folder, 'run2', 'checkpoint.pt'))).toBe(false);
  }, 180_000);
});

describe('separating touching cells', () => {
  test('a borders network: three classes, tiles drawn on cells, its post-processing chosen on validation and applied by unet predict', async () => {
    torch.setNumThreads(1);
    const data = samples(4, 80, { target: 'borders', borderWidth: 1 });
    torch.manualSeed(0);
    const model = new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 8, classes: 3 });
    const events: string[] = [];
    const result = await runTraining({
      model,
      train: data.slice(0, 3),
      validation: data.slice(3),
      steps: 60,
      stepsPerEpoch: 30,
      tileSize: model.inputSizeFor(60),
      optimizer: 'adam',
      lr: 3e-3,
      postprocess: { kind: 'borders' },
      backgroundWeight: 0.1,
      outDir: folder,
      onEvent: (e) => events.push(e.type),
    });
    expect(events).toContain('calibrated');
    expect(result.postprocess!.kind).toBe('borders');
    const description = readModelDescription(path.join(folder, 'model.json'));
    expect(description.postprocess).toEqual(result.postprocess);
    expect(description.options.classes).toBe(3);
    expect(description.training).toMatchObject({ backgroundWeight: 0.1, selectBy: 'seg' });
    const last = result.history[result.history.length - 1]!.validation!;
    expect(last.seg).toBeGreaterThan(0.3);
    // unet predict reads the recipe from model.json: its labels are the recorded post-processing of its probabilities.
    fs.mkdirSync(path.join(folder, 'images'));
    torch.tidy(() =>
      writeGrayPng(
        path.join(folder, 'images', 'cells.png'),
        syntheticCells(4, { height: 80, width: 80, radius: [6, 12] }).image.squeeze(0),
      ),
    );
    const predicted = spawnSync(
      process.execPath,
      [cli, 'predict', '--model', folder, '--out', path.join(folder, 'pred'), '--threads', '1', path.join(folder, 'images')],
      { encoding: 'utf8' },
    );
    expect(predicted.stderr).toMatch(/zscore normalisation, \{"kind":"borders","threshold":0\.\d,"minSize":\d+\}/);
    torch.tidy(() => {
      const probabilities = torch.loadNpy(path.join(folder, 'pred', 'cells.probabilities.npy'));
      expect(probabilities.shape).toEqual([3, 80, 80]);
      const labels = readLabelPng(path.join(folder, 'pred', 'cells.png'));
      expect(labels.equal(labelsFromProbabilities(probabilities, description.postprocess))).toBe(true);
    });
    release(data);
  }, 180_000);

  test('tiles drawn with background weight 0.1 are centred on cells far more often, the same for the same seed', () => {
    const data = samples(2, 96);
    const centres = (weight: number, seed: number): number => {
      let onCells = 0;
      for (let k = 0; k < 200; k += 1) {
        const batch = sampleTiles(data, 1, 5, new SeededRandom(seed * 1000 + k), weight);
        onCells += torch.tidy(() => batch.target.select(0, 0).select(0, 2).select(0, 2).item() as number);
        torch.dispose(batch);
      }
      return onCells / 200;
    };
    const share = torch.tidy(() => data.reduce((sum, s) => sum + (s.target.to('float32').mean().item() as number), 0) / data.length);
    const uniform = centres(1, 1);
    const favoured = centres(0.1, 1);
    expect(Math.abs(uniform - share)).toBeLessThan(0.1);
    // With weight 0.1 the chance of a cell is share / (share + 0.1 (1 - share)).
    expect(favoured).toBeGreaterThan(Math.min(0.95, share / (share + 0.1 * (1 - share)) - 0.1));
    expect(centres(0.1, 1)).toBe(favoured);
    release(data);
  }, 60_000);

  test("image sampling 'area' draws a 16 times larger image 16 times as often; 'equal' draws both alike", () => {
    // Two images whose gray value names them: 0 for the 32² image, 1 for the 128² one.
    const raw = [32, 128].map((size, k) => {
      const { label } = syntheticCells(k + 1, { height: size, width: size, radius: [4, 6] });
      return { name: `image${k}`, image: torch.full([1, size, size], k, { dtype: 'float32' }), label };
    });
    const data = prepareSamples(raw, 'instances', 2, {});
    const smallShare = (sampling: 'area' | 'equal'): number => {
      let small = 0;
      for (let k = 0; k < 400; k += 1) {
        const batch = sampleTiles(data, 1, 5, new SeededRandom(k), 1, sampling);
        small += torch.tidy(() => (batch.image.mean().item() as number) === 0) ? 1 : 0;
        torch.dispose(batch);
      }
      return small / 400;
    };
    expect(Math.abs(smallShare('area') - 1 / 17)).toBeLessThan(0.04);
    expect(Math.abs(smallShare('equal') - 1 / 2)).toBeLessThan(0.08);
    expect(() => sampleTiles(data, 1, 5, new SeededRandom(0), 1, 'pixels' as 'area')).toThrow(
      /sampleTiles\(\): option 'imageSampling' must be one of 'area', 'equal', got 'pixels'/,
    );
    expect(() => sampleTiles(data, 1, 5, new SeededRandom(0), 0)).toThrow(
      /sampleTiles\(\): option 'backgroundWeight' must be in \(0, 1\], got 0/,
    );
    release(data);
  }, 60_000);
});

describe('unet train, predict and eval', () => {
  test('train → predict → eval on a folder of PNGs, then --resume continues; a run is not trained over without --overwrite', () => {
    writeFolder(path.join(folder, 'data'), 4, 80);
    const run = path.join(folder, 'run');
    const common = [
      '--data',
      path.join(folder, 'data'),
      '--out',
      run,
      '--tile',
      '220',
      '--optimizer',
      'adam',
      '--epoch-steps',
      '5',
      '--threads',
      '1',
    ];
    const trained = execFileSync(process.execPath, [cli, 'train', ...common, '--steps', '10'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(trained).toMatch(/finished at step 10, last validation SEG \d\.\d{4}/);
    expect(trained).toMatch(/post-processing chosen on the validation images: \{"kind":"cells","threshold":0\.\d,"minSize":\d+\}/);
    const resumed = execFileSync(process.execPath, [cli, 'train', ...common, '--steps', '15', '--resume'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(resumed).toMatch(/finished at step 15/);
    // Without --resume, a folder that holds a run is refused and left as it was.
    const checkpoint = fs.readFileSync(path.join(run, 'checkpoint.pt'));
    const refused = spawnSync(process.execPath, [cli, 'train', ...common, '--steps', '5'], { encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(
      `unet: ${run} holds a training run (checkpoint.pt): continue it with --resume, or replace it with --overwrite`,
    );
    expect(fs.readFileSync(path.join(run, 'checkpoint.pt')).equals(checkpoint)).toBe(true);
    const contradiction = spawnSync(process.execPath, [cli, 'train', ...common, '--resume', '--overwrite'], { encoding: 'utf8' });
    expect(contradiction.status).toBe(2);
    expect(contradiction.stderr).toMatch(/unet train: --resume and --overwrite contradict each other/);
    const predicted = execFileSync(
      process.execPath,
      [cli, 'predict', '--model', run, '--out', path.join(folder, 'pred'), '--tile', '220', path.join(folder, 'data', 'images')],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(predicted.trim().split('\n')).toHaveLength(4);
    for (const suffix of ['.png', '.overlay.png', '.probabilities.npy'])
      expect(fs.existsSync(path.join(folder, 'pred', `cells0${suffix}`))).toBe(true);
    const probabilities = torch.loadNpy(path.join(folder, 'pred', 'cells0.probabilities.npy'));
    expect(probabilities.shape).toEqual([2, 80, 86]);
    expect(probabilities.sum(0).sub(1).abs().max().item()).toBeLessThan(1e-5);
    const scored = execFileSync(
      process.execPath,
      [
        cli,
        'eval',
        '--pred',
        path.join(folder, 'pred'),
        '--truth',
        path.join(folder, 'data', 'labels'),
        '--json',
        path.join(folder, 'eval.json'),
      ],
      { encoding: 'utf8' },
    );
    expect(scored).toMatch(
      /\| image \| IoU background \| IoU cell \| Dice background \| Dice cell \| pixel error \| Rand error \| warping error \| SEG \|/,
    );
    expect(scored).toMatch(/\| mean of 4 \|/);
    const json = JSON.parse(fs.readFileSync(path.join(folder, 'eval.json'), 'utf8')) as { images: unknown[]; mean: { iou: number[] } };
    expect(json.images).toHaveLength(4);
    expect(json.mean.iou[1]).toBeGreaterThan(0);
    probabilities.dispose();
    // --overwrite trains afresh in the folder.
    const again = execFileSync(process.execPath, [cli, 'train', ...common, '--steps', '5', '--overwrite'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(again).toMatch(/finished at step 5/);
    expect(loadCheckpoint(path.join(run, 'checkpoint.pt')).step).toBe(5);
  }, 180_000);

  test("unet eval --protocol ctc and isbi2012 print the challenges' scores", () => {
    writeFolder(path.join(folder, 'data'), 2, 64);
    const pred = path.join(folder, 'pred');
    fs.mkdirSync(pred);
    // A perfect prediction: the true labels, and probabilities that put every cell pixel at 0.95.
    for (const name of ['cells0', 'cells1']) {
      fs.copyFileSync(path.join(folder, 'data', 'labels', `${name}.png`), path.join(pred, `${name}.png`));
      torch.tidy(() => {
        const cell = readLabelPng(path.join(folder, 'data', 'labels', `${name}.png`))
          .gt(0)
          .to('float32')
          .mul(0.9)
          .add(0.05);
        torch.saveNpy(path.join(pred, `${name}.probabilities.npy`), torch.stack([torch.onesLike(cell).sub(cell), cell]));
      });
    }
    const ctc = execFileSync(
      process.execPath,
      [cli, 'eval', '--protocol', 'ctc', '--pred', pred, '--truth', path.join(folder, 'data', 'labels')],
      { encoding: 'utf8' },
    );
    expect(ctc).toMatch(/\| all 2 \(pooled\) \| \d+ \| 1\.0000 \| 0 \| 0 \| 0 \|/);
    expect(ctc).toMatch(/SEG 1\.0000 {2}DET 1\.0000/);
    const isbi = execFileSync(
      process.execPath,
      [
        cli,
        'eval',
        '--protocol',
        'isbi2012',
        '--pred',
        pred,
        '--truth',
        path.join(folder, 'data', 'labels'),
        '--json',
        path.join(folder, 'isbi.json'),
      ],
      { encoding: 'utf8' },
    );
    expect(isbi).toMatch(/\| randError \| 0\.000000 \| 0\.1 \|/);
    expect(isbi).toMatch(/\| pixelError \| 0\.000000 \| 0\.1 \|/);
    expect((JSON.parse(fs.readFileSync(path.join(folder, 'isbi.json'), 'utf8')) as { levels: unknown[] }).levels).toHaveLength(10);
    const bad = spawnSync(
      process.execPath,
      [cli, 'eval', '--protocol', 'dice', '--pred', pred, '--truth', path.join(folder, 'data', 'labels')],
      { encoding: 'utf8' },
    );
    expect(bad.stderr).toMatch(/--protocol must be one of ctc, isbi2012, got 'dice'/);
    expect(bad.status).toBe(2);
  }, 60_000);

  test("unet accuracy trains a benchmark set's recipe, scores its held-out frames and writes results.json", () => {
    // A stand-in for DSB2018 with its frame names: generated cells, so that CI needs no shared data.
    const set = path.join(folder, 'bench', 'dsb2018');
    const names = [
      'edd36ed822e7ed76',
      'ee927e8255096971',
      'f8e74d4006dd68c1',
      'fadeb0ab092833f2',
      'd4d88391bc399a37',
      'e52960d31f8bddf8',
      'e50ac10d1dce6496',
      'c169a7782a69ea2f',
      'd52958107d0b1f02',
      'train0',
      'train1',
    ];
    for (const sub of ['images', 'labels']) fs.mkdirSync(path.join(set, sub), { recursive: true });
    for (const [k, name] of names.entries()) {
      torch.tidy(() => {
        const { image, label } = syntheticCells(30 + k, { height: 64, width: 64, radius: [5, 9] });
        writeGrayPng(path.join(set, 'images', `${name}.png`), image.squeeze(0));
        writeLabelPng(path.join(set, 'labels', `${name}.png`), label);
      });
    }
    const out = path.join(folder, 'accuracy');
    const result = quickAccuracy(path.join(folder, 'bench'), out);
    expect(result.stderr).toMatch(/dsb2018, heldout: training for [\d.]+ min on 2 frames/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\| dsb2018 \| heldout \| 2 \/ 3 \/ 6 \| \d+ \| [\d.]+ \| 0 \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
    const rows = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      test: { seg: number; det: number };
      steps: number;
      testFrames: string[];
    }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.testFrames).toHaveLength(6);
    expect(rows[0]!.steps).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(out, 'dsb2018', 'heldout', 'test-predictions', 'edd36ed822e7ed76.png'))).toBe(true);
    // --rescore chooses the trained run's post-processing again and scores it, without training:
    // the same steps and the training's seed (whatever --seed says now), the row replaced rather
    // than added; without results.json, the checkpoint tells them.
    const rescore = (): SpawnSyncReturns<string> =>
      spawnSync(
        process.execPath,
        [
          cli,
          'accuracy',
          path.join(folder, 'bench'),
          '--rescore',
          '--seed',
          '9',
          '--tile',
          '188',
          '--threads',
          '1',
          '--no-tta',
          '--out',
          out,
        ],
        { encoding: 'utf8' },
      );
    for (const withRows of [true, false]) {
      if (!withRows) fs.rmSync(path.join(out, 'results.json'));
      const rescored = rescore();
      expect(rescored.stderr).toMatch(/dsb2018, heldout: rescoring the run trained on 2 frames/);
      expect(rescored.stderr).toMatch(/rescored with the trained weights/);
      expect(rescored.status).toBe(0);
      const after = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as { steps: number; seed: number }[];
      expect(after.map((row) => [row.steps, row.seed])).toEqual([[rows[0]!.steps, 0]]);
    }
    // Rescoring a folder without the run is an error naming the weights it looked for, not a training.
    const empty = path.join(folder, 'accuracy-empty');
    const notTrained = spawnSync(process.execPath, [cli, 'accuracy', path.join(folder, 'bench'), '--rescore', '--out', empty], {
      encoding: 'utf8',
    });
    expect(notTrained.status).toBe(1);
    expect(notTrained.stderr).toContain(`${path.join(empty, 'dsb2018', 'heldout', 'best.safetensors')}: no trained weights to rescore`);
    expect(fs.existsSync(path.join(empty, 'dsb2018', 'heldout'))).toBe(false);
    const missing = spawnSync(process.execPath, [cli, 'accuracy', path.join(folder, 'nowhere')], { encoding: 'utf8' });
    expect(missing.stderr).toMatch(/nowhere: no such folder/);
  }, 180_000);

  test("unet accuracy on an ISBI 2012 stand-in: the final model kept, the recipe's watershed scored by the Rand error, the test slices scored by the challenge's measures, as unet eval scores them", () => {
    // ISBI's encoding (8-bit, 255: not membrane, 0: membrane) and slice names; generated cells stand for the neurites.
    const set = path.join(folder, 'isbi-bench', 'isbi2012');
    for (const sub of ['images', 'labels']) fs.mkdirSync(path.join(set, sub), { recursive: true });
    for (let k = 16; k <= 24; k += 1) {
      torch.tidy(() => {
        const { image, label } = syntheticCells(60 + k, { height: 64, width: 64, radius: [5, 9] });
        writeGrayPng(path.join(set, 'images', `${k}.png`), image.squeeze(0));
        writeGrayPng(path.join(set, 'labels', `${k}.png`), label.gt(0).to('float32'));
      });
    }
    const out = path.join(folder, 'isbi-accuracy');
    const result = quickAccuracy(path.join(folder, 'isbi-bench'), out);
    expect(result.stderr).toMatch(/isbi2012, heldout: training for [\d.]+ min on 2 frames/);
    expect(result.stderr).toMatch(/ISBI Rand error \d\.\d+/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\| isbi2012 \| heldout \| 2 \/ 2 \/ 5 \|/);
    const [row] = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as {
      validation: { isbiRandError: number };
      test: Record<string, number>;
      postprocess: PostprocessOptions;
    }[];
    expect(row!.validation.isbiRandError).toBeGreaterThanOrEqual(0);
    expect(row!.validation.isbiRandError).toBeLessThanOrEqual(1);
    for (const measure of ['pixelError', 'randError', 'warpingError', 'vRand', 'vInfo']) {
      expect([measure, row!.test[measure]! >= 0 && row!.test[measure]! <= 1]).toEqual([measure, true]);
    }
    // The recipe keeps the final model, and its one watershed setting is the post-processing recorded.
    const run = path.join(out, 'isbi2012', 'heldout');
    expect(fs.existsSync(path.join(run, 'best.safetensors'))).toBe(false);
    const { training } = readModelDescription(path.join(run, 'model.json'));
    expect(training?.keep).toBe('final');
    const grid = RECIPES.isbi2012.calibrationGrid;
    expect(training?.calibrationGrid).toEqual(grid);
    expect(row!.postprocess.watershed).toEqual({ sigma: grid.sigmas[0] });
    expect(row!.postprocess.threshold).toBe(grid.thresholds[0]);
    // The test slices' maps of "not membrane" are on disk, and unet eval scores them alike.
    const predictions = path.join(out, 'isbi2012', 'heldout', 'test-predictions');
    expect(fs.readdirSync(predictions).filter((file) => file.endsWith('.not-membrane.npy'))).toHaveLength(5);
    const scored = execFileSync(
      process.execPath,
      [cli, 'eval', '--protocol', 'isbi2012', '--pred', predictions, '--truth', path.join(set, 'labels')],
      { encoding: 'utf8' },
    );
    expect(scored).toContain(`| randError | ${row!.test.randError!.toFixed(6)} |`);
    expect(scored).toContain(`| pixelError | ${row!.test.pixelError!.toFixed(6)} |`);
    // Then the Rand error slice by slice, and pooled as above.
    expect(scored.match(/^\| 2[0-4] \| \d\.\d{6} \| \d\.\d{6} \| \d\.\d{6} \|$/gm)).toHaveLength(5);
    expect(scored).toContain(`| all | ${row!.test.randError!.toFixed(6)} |`);
  }, 180_000);

  test('Ctrl-C during unet train saves a checkpoint and exits cleanly', async () => {
    writeFolder(path.join(folder, 'data'), 2, 64);
    const run = path.join(folder, 'run');
    const child = spawn(
      process.execPath,
      [
        cli,
        'train',
        '--data',
        path.join(folder, 'data'),
        '--out',
        run,
        '--tile',
        '220',
        '--steps',
        '100000',
        '--epoch-steps',
        '100000',
        '--threads',
        '1',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/step \d+\/100000/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toMatch(/interrupted: finishing this step and writing a checkpoint/);
    expect(stderr).toMatch(/stopped at step \d+; the checkpoint holds everything to continue with --resume/);
    expect(loadCheckpoint(path.join(run, 'checkpoint.pt')).step).toBeGreaterThan(0);
    // The summary names the weights a prediction would load: no validation ran, so no best model.
    const named = /model: .*model\.json \+ (\S+);/.exec(stdout)?.[1];
    expect(named).toBeDefined();
    expect(named).not.toBe('best.safetensors');
    expect(fs.existsSync(path.join(run, named!))).toBe(true);
  }, 120_000);

  test('unet train --keep final names final.safetensors as the model, though a best.safetensors lies in the folder', () => {
    writeFolder(path.join(folder, 'data'), 3, 64);
    const run = path.join(folder, 'kept-final');
    fs.mkdirSync(run, { recursive: true });
    fs.writeFileSync(path.join(run, 'best.safetensors'), 'left by an earlier run');
    const args = ['train', '--data', path.join(folder, 'data'), '--out', run, '--tile', '220', '--steps', '2', '--epoch-steps', '2'];
    const result = spawnSync(process.execPath, [cli, ...args, '--keep', 'final', '--threads', '1'], { encoding: 'utf8' });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    // The summary names what prediction loads: model.json says the final model was kept.
    expect(/model: .*model\.json \+ (\S+);/.exec(result.stdout)?.[1]).toBe('final.safetensors');
    const loaded = loadTrainedModel(run);
    expect(path.basename(loaded.weights)).toBe('final.safetensors');
    loaded.model.dispose();
  }, 120_000);

  test("unet train --init starts from a trained model's network and weights, records it, and refuses a network that does not fit", () => {
    writeFolder(path.join(folder, 'data'), 3, 64);
    const data = ['--data', path.join(folder, 'data'), '--tile', '64', '--epoch-steps', '1', '--keep', 'final', '--threads', '1'];
    const first = path.join(folder, 'first');
    const trained = spawnSync(process.execPath, [cli, 'train', ...data, '--out', first, '--preset', 'padded', '--steps', '2'], {
      encoding: 'utf8',
    });
    expect({ status: trained.status, stderr: trained.status === 0 ? '' : trained.stderr }).toEqual({ status: 0, stderr: '' });
    // A step at a learning rate of 1e-12 leaves the parameters where they start (to 1e-9): the
    // first run's, in its network (the padded preset's), though this command names no preset.
    const tuned = path.join(folder, 'tuned');
    const result = spawnSync(
      process.execPath,
      [cli, 'train', ...data, '--out', tuned, '--init', first, '--steps', '1', '--optimizer', 'sgd', '--momentum', '0', '--lr', '1e-12'],
      { encoding: 'utf8' },
    );
    expect(result.status).toBe(0);
    expect(result.stderr).toContain(`training from ${first} on 2 image(s)`);
    expect(result.stderr).toContain(`starting from ${path.join(first, 'final.safetensors')}`);
    // The network as it starts is validated, a candidate for the best model.
    expect(result.stderr).toMatch(/epoch 0 \(step 0\): validation IoU/);
    const [before, after] = [loadTrainedModel(first), loadTrainedModel(tuned)];
    try {
      expect(after.model.options).toEqual(before.model.options);
      expect(after.model.options.padding).toBe('same');
      // The parameters; the batch norms' running statistics move with every forward pass.
      const weights = new Map(before.model.namedParameters());
      const tunedWeights = new Map(after.model.namedParameters());
      expect([...tunedWeights.keys()]).toEqual([...weights.keys()]);
      for (const [name, value] of weights)
        expect([name, tunedWeights.get(name)!.sub(value).abs().max().item()]).toEqual([name, expect.closeTo(0, 9)]);
      expect(after.description.training).toMatchObject({ init: first });
      expect(after.description.training).not.toHaveProperty('preset');
    } finally {
      before.model.dispose();
      after.model.dispose();
    }
    // The same images stored as RGB are read with the network's one channel, as unet predict reads them.
    const colour = path.join(folder, 'colour');
    fs.cpSync(path.join(folder, 'data', 'labels'), path.join(colour, 'labels'), { recursive: true });
    fs.mkdirSync(path.join(colour, 'images'));
    for (const file of fs.readdirSync(path.join(folder, 'data', 'images')))
      writeGrayAsRgbPng(path.join(folder, 'data', 'images', file), path.join(colour, 'images', file));
    const fromColour = spawnSync(
      process.execPath,
      [cli, 'train', ...data, '--data', colour, '--out', path.join(folder, 'from-colour'), '--init', first, '--steps', '1'],
      { encoding: 'utf8' },
    );
    expect({ status: fromColour.status, stderr: fromColour.status === 0 ? '' : fromColour.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readModelDescription(path.join(folder, 'from-colour', 'model.json')).options.inChannels).toBe(1);
    const refused = (...args: string[]) =>
      spawnSync(process.execPath, [cli, 'train', ...data, '--out', tuned, '--overwrite', ...args], { encoding: 'utf8' });
    const borders = refused('--init', first, '--target', 'borders');
    expect(borders.status).toBe(1);
    expect(borders.stderr).toContain(`--init ${first}: its network gives 2 classes, the targets need 3 (--target, --labels, --classes)`);
    // A shipped model by its name: the nuclei model has a border class.
    expect(refused('--init', 'nuclei').stderr).toContain('--init nuclei: its network gives 3 classes, the targets need 2');
    expect(refused('--init', path.join(folder, 'nowhere')).stderr).toMatch(/--init \S*nowhere: \S*nowhere: no such model folder or file/);
    const both = refused('--init', first, '--preset', 'compact');
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--init and --preset contradict each other: the network is --init's model's");
  }, 120_000);

  test('missing folders, unmatched names and bad options are clear errors', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    expect(run('train', '--data', path.join(folder, 'nowhere'), '--out', folder).stderr).toMatch(/nowhere.images: no such folder/);
    writeFolder(path.join(folder, 'data'), 2, 64);
    fs.renameSync(path.join(folder, 'data', 'labels', 'cells1.png'), path.join(folder, 'data', 'labels', 'other.png'));
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder).stderr).toMatch(
      /no label in labels\/ for cells1 \(names must match, extensions may differ\)/,
    );
    fs.renameSync(path.join(folder, 'data', 'labels', 'other.png'), path.join(folder, 'data', 'labels', 'cells1.png'));
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--preset', 'huge').stderr).toMatch(
      /--preset must be one of ronneberger2015, compact, padded/,
    );
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--tile', '301').stderr).toMatch(/301.*nearest valid/);
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--steps', 'many').stderr).toMatch(
      /--steps must be a number, got 'many'/,
    );
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--device', 'cuda:7').stderr).toMatch(
      /CUDA is not available here|invalid device|cuda:7/,
    );
    expect(run('predict', '--model', path.join(folder, 'data'), '--out', folder, path.join(folder, 'data', 'images')).stderr).toMatch(
      /model.json is missing/,
    );
    expect(run('eval', '--pred', path.join(folder, 'data', 'images'), '--truth', path.join(folder, 'nowhere')).stderr).toMatch(
      /nowhere: no such folder/,
    );
    expect(run('train').status).toBe(2);
  }, 60_000);
});

describe('the post-processing chosen at the end', () => {
  test('a grid of one setting is the post-processing every epoch is validated with, so the last epoch scores what calibration scores', async () => {
    const one = { thresholds: [0.6], sizeFractions: [0.1], sigmas: [1] };
    expect(fixedPostprocess(one, { kind: 'cells' }, 'seg', () => 200)).toEqual({ kind: 'cells', threshold: 0.6, minSize: 20 });
    expect(fixedPostprocess(one, { kind: 'cells', watershed: { sigma: 2 } }, 'rand', () => 200)).toEqual({
      kind: 'cells',
      threshold: 0.6,
      minSize: 20,
      watershed: { sigma: 1 },
    });
    // A choice left, a class map, or a membrane map whose threshold the scores give: nothing is fixed.
    expect(fixedPostprocess({ ...one, thresholds: [0.5, 0.6] }, { kind: 'cells' }, 'seg', () => 200)).toBeNull();
    expect(fixedPostprocess({ ...one, sigmas: [0, 1] }, { kind: 'cells', watershed: { sigma: 2 } }, 'rand', () => 200)).toBeNull();
    expect(fixedPostprocess(one, { kind: 'classes' }, 'iou', () => 200)).toBeNull();
    expect(fixedPostprocess(one, { kind: 'cells' }, 'rand', () => 200)).toBeNull();
    // Sizes that round alike are one setting.
    expect(fixedPostprocess({ ...one, sizeFractions: [0, 0.001] }, { kind: 'cells' }, 'seg', () => 200)).toEqual({
      kind: 'cells',
      threshold: 0.6,
      minSize: 0,
    });

    // Threshold 0 makes the whole image one cell, which matches every cell a little: a SEG that
    // the default threshold 0.5 of a barely trained network would not give.
    torch.setNumThreads(1);
    const data = samples(3, 64);
    const calibrated: number[] = [];
    const result = await runTraining({
      ...tinyRun(tinyNetwork(), data, 4, 2),
      validation: data.slice(2),
      keep: 'final',
      tta: false,
      calibrationGrid: { thresholds: [0], sizeFractions: [0], sigmas: [1] },
      outDir: folder,
      onEvent: (event) => event.type === 'calibrated' && calibrated.push(event.validation.seg!),
    });
    expect(result.postprocess).toEqual({ kind: 'cells', threshold: 0, minSize: 0 });
    expect(calibrated).toHaveLength(1);
    expect(calibrated[0]).toBeGreaterThan(0);
    expect(result.history.map((entry) => entry.validation!.seg)).toEqual([expect.any(Number), calibrated[0]]);
    release(data);
  }, 120_000);

  test('it maximises (SEG + DET) / 2: specks of foreground that SEG cannot see are removed by the minimum size', () => {
    // Two images of two separate square cells each.
    const data = prepareSamples(
      [0, 1].map((k) => {
        const label = torch.zeros([48, 48], { dtype: 'int32' });
        label
          .narrow(0, 4 + k, 12)
          .narrow(1, 4, 12)
          .fill_(1);
        label
          .narrow(0, 26, 14)
          .narrow(1, 24 + k, 14)
          .fill_(2);
        return { name: `squares${k}`, image: label.gt(0).to('float32').unsqueeze(0), label };
      }),
      'instances',
      2,
      {},
    );
    try {
      // Perfect cells, plus eight one-pixel specks of foreground in the background of each image.
      const probabilities = data.map((sample) =>
        torch.tidy(() => {
          const background = sample.instances.eq(0).to('float32');
          const specks = torch.zeros(sample.instances.shape, { dtype: 'float32' });
          for (let k = 0; k < 8; k += 1)
            specks
              .narrow(0, 1 + k * 6, 1)
              .narrow(1, 45, 1)
              .fill_(1);
          const speckled = background.mul(specks.neg().add(1));
          return torch.stack([speckled, speckled.neg().add(1)]);
        }),
      );
      const typicalArea = medianCellArea(data);
      const { postprocess, scores, trials } = calibratePostprocess(data, probabilities, { kind: 'cells' }, 'seg', typicalArea);
      torch.dispose(probabilities);
      // Every setting finds the cells (SEG 1 whatever the size); only a minimum size drops the specks.
      const unfiltered = trials.find((trial) => trial.postprocess.minSize === 0 && trial.postprocess.threshold === 0.5) as CellTrial;
      expect(unfiltered.seg).toBeCloseTo(1, 6);
      expect(unfiltered.det).toBeLessThan(1);
      expect(postprocess.minSize).toBeGreaterThan(1);
      expect(scores.seg).toBeCloseTo(1, 6);
      expect(scores.det).toBeCloseTo(1, 6);
    } finally {
      release(data);
    }
  });

  /** Two membrane masks (1: not membrane) of four regions split by a cross one pixel wide. */
  const crossedMembranes = (): TrainingSample[] =>
    prepareSamples(
      [0, 1].map((k) => {
        const label = torch.ones([48, 48], { dtype: 'int32' });
        label.narrow(0, 24 + k, 1).fill_(0);
        label.narrow(1, 24, 1).fill_(0);
        return { name: `membranes${k}`, image: label.to('float32').unsqueeze(0), label };
      }),
      'mask',
      2,
      {},
    );

  /** Probabilities that are the truth, except that the upper membrane fades to `faded` over 10 rows. */
  const fadedMembrane = (data: TrainingSample[], faded: number): Tensor[] =>
    data.map((sample) =>
      torch.tidy(() => {
        const notMembrane = sample.target.to('float32');
        notMembrane.narrow(0, 2, 10).narrow(1, 24, 1).fill_(faded);
        return torch.stack([notMembrane.neg().add(1), notMembrane]);
      }),
    );

  test("ISBI 2012 ('rand'): the threshold of the best Rand error on the not-membrane probability, no minimum size", () => {
    const data = crossedMembranes();
    try {
      // At a threshold below 0.65 the faded membrane breaks and merges two regions; from 0.7 on it holds.
      const probabilities = fadedMembrane(data, 0.65);
      const { postprocess, scores } = calibratePostprocess(data, probabilities, { kind: 'cells' }, 'rand', medianCellArea(data));
      torch.dispose(probabilities);
      expect(postprocess.threshold).toBeGreaterThanOrEqual(0.7);
      expect(postprocess.minSize).toBe(0);
      expect(scores.isbiRandError).toBeCloseTo(0, 6);
      expect(scores.score).toBeCloseTo(1, 6);
    } finally {
      release(data);
    }
  });

  test("ISBI 2012 ('rand') with a watershed: its smoothing, seeds and smallest seed chosen by the Rand error of the map it leaves", () => {
    const data = crossedMembranes();
    try {
      // Faded to 0.92, the membrane is open at every level of the challenge (0.0–0.9).
      const probabilities = fadedMembrane(data, 0.92);
      const plain = calibratePostprocess(data, probabilities, { kind: 'cells' }, 'rand', medianCellArea(data));
      const closed = calibratePostprocess(data, probabilities, { kind: 'cells', watershed: { sigma: 2 } }, 'rand', medianCellArea(data));
      // A grid of one setting is that setting, scored as the whole grid scored it.
      const fixed = calibratePostprocess(data, probabilities, { kind: 'cells', watershed: { sigma: 2 } }, 'rand', medianCellArea(data), {
        thresholds: [0.8],
        sizeFractions: [0.1],
        sigmas: [1],
      });
      expect(() =>
        calibratePostprocess(data, probabilities, { kind: 'cells' }, 'rand', 1, { thresholds: [0.5], sizeFractions: [0], sigmas: [-1] }),
      ).toThrow(/calibratePostprocess\.grid\(\): option 'sigmas' must be a list of one or more numbers in \[0, \d+\], got \[-1\]/);
      torch.dispose(probabilities);
      expect(plain.scores.isbiRandError).toBeGreaterThan(0.1);
      // Seeds above 0.92 only: the gap is a line between two basins, as the truth's membrane is.
      expect(closed.postprocess.watershed).toEqual({ sigma: 0 });
      expect(closed.postprocess.threshold).toBe(0.95);
      expect(closed.scores.isbiRandError).toBeCloseTo(0, 6);
      const sizes = new Set(closed.trials.map((trial) => trial.postprocess.minSize)).size;
      expect(closed.trials).toHaveLength(CALIBRATION_GRID.sigmas.length * CALIBRATION_GRID.thresholds.length * sizes);
      expect(closed.trials.every((trial) => 'randError' in trial)).toBe(true);
      const minSize = Math.round(0.1 * medianCellArea(data));
      expect(fixed.postprocess).toEqual({ kind: 'cells', threshold: 0.8, minSize, watershed: { sigma: 1 } });
      expect(fixed.trials).toHaveLength(1);
      const same = closed.trials.find((trial) => JSON.stringify(trial.postprocess) === JSON.stringify(fixed.postprocess)) as MembraneTrial;
      expect(fixed.scores.isbiRandError).toBe(same.randError);
    } finally {
      release(data);
    }
  });

  test('borders: a part of the foreground that no seed reaches is a cell of its own', () => {
    torch.tidy(() => {
      // Two blobs of foreground; the cell class passes the threshold only in the left one.
      const background = torch.ones([1, 12, 12]);
      background.narrow(1, 1, 4).narrow(2, 1, 4).fill_(0);
      background.narrow(1, 7, 4).narrow(2, 7, 4).fill_(0);
      const cell = torch.zeros([1, 12, 12]);
      cell.narrow(1, 1, 4).narrow(2, 1, 4).fill_(0.9);
      cell.narrow(1, 7, 4).narrow(2, 7, 4).fill_(0.4);
      const border = background.neg().add(1).sub(cell);
      const labels = labelsFromProbabilities(torch.cat([background, cell, border]), { kind: 'borders', threshold: 0.5, minSize: 0 });
      const left = labels.narrow(0, 1, 4).narrow(1, 1, 4);
      const right = labels.narrow(0, 7, 4).narrow(1, 7, 4);
      expect([left.min().item(), left.max().item()]).toEqual([1, 1]);
      expect([right.min().item(), right.max().item()]).toEqual([2, 2]);
      expect(labels.max().item()).toBe(2);
    });
  });
});
