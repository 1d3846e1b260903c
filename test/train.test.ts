// Training end to end on generated cells: the loss falls and the IoU is reached; a resumed run
// equals the uninterrupted one; checkpoints; Ctrl-C; the train/predict/eval command line.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { syntheticCells, torch, unet, UNet, writeGrayPng, writeLabelPng } from '../lib';
import { normaliseImage, prepareSamples, type TrainingSample } from '../lib/data/dataset';
import { loadCheckpoint } from '../lib/train/checkpoint';
import { runTraining, type TrainOptions } from '../lib/train/trainer';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

function samples(count: number, size = 96): TrainingSample[] {
  const raw = Array.from({ length: count }, (_, k) => {
    const { image, label } = syntheticCells(k + 1, { height: size, width: size, radius: [6, 12] });
    const normalised = normaliseImage(image);
    image.dispose();
    return { name: `cells${k + 1}`, image: normalised, label };
  });
  return prepareSamples(raw, 'instances', 2);
}

function tinyNetwork(): UNet {
  torch.manualSeed(0);
  return new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 8, dropout: 0.2 });
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
      model, train: data.slice(0, 4), validation: data.slice(4), steps: 150, stepsPerEpoch: 50, tileSize: model.inputSizeFor(60),
      optimizer: 'adam', lr: 3e-3, augment: { rotation: 180, flip: true }, outDir: folder, onEvent: (e) => events.push(e.type),
    });
    const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean(result.losses.slice(-10))).toBeLessThan(mean(result.losses.slice(0, 10)) / 3);
    const last = result.history[result.history.length - 1]!.validation!;
    expect(last.iou[1]).toBeGreaterThanOrEqual(0.9);
    expect(result.history.map((h) => h.step)).toEqual([50, 100, 150]);
    expect(events.filter((e) => e === 'step')).toHaveLength(150);
    for (const file of ['checkpoint.pt', 'best.safetensors', 'final.safetensors', 'metrics.jsonl', 'curves.png']) expect(fs.existsSync(path.join(folder, file))).toBe(true);
    const lines = fs.readFileSync(path.join(folder, 'metrics.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { step: number; loss?: number; validation?: unknown });
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
      model, train: data, steps, stepsPerEpoch: 3, tileSize: model.inputSizeFor(40), optimizer: 'sgd', lr: 0.01, momentum: 0.99,
      schedule: 'poly', batchSize: 2, accumulate: 2, outDir, resume: true, seed: 7,
    });
    const whole = tinyNetwork();
    const uninterrupted = await runTraining(options(whole, 9, path.join(folder, 'whole')));
    // Interrupted after step 5 (as Ctrl-C does), then resumed by a fresh network: the checkpoint must carry everything.
    const controller = new AbortController();
    const stopped = await runTraining({ ...options(tinyNetwork(), 9, path.join(folder, 'parts')), signal: controller.signal, onEvent: (e) => e.type === 'step' && e.step === 5 && controller.abort() });
    expect(stopped).toMatchObject({ step: 5, stopped: true });
    const resumedModel = tinyNetwork();
    const resumed = await runTraining(options(resumedModel, 9, path.join(folder, 'parts')));
    expect(resumed.losses).toEqual(uninterrupted.losses);
    const a = whole.stateDict();
    const b = resumedModel.stateDict();
    for (const key of Object.keys(a)) expect(a[key]!.equal(b[key]!)).toBe(true);
    const metrics = fs.readFileSync(path.join(folder, 'parts', 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(metrics.filter((line) => line.includes('"loss"'))).toHaveLength(9);
    torch.dispose(data.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  }, 120_000);

  test('the event loop turns between steps; an aborted run writes a checkpoint and stops; bad options are refused by name', async () => {
    const data = samples(2, 64);
    const model = tinyNetwork();
    const controller = new AbortController();
    const ticksAtStep: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 0);
    const result = await runTraining({
      model, train: data, steps: 100, tileSize: model.inputSizeFor(20), outDir: folder, signal: controller.signal,
      onEvent: (e) => {
        if (e.type !== 'step') return;
        ticksAtStep.push(ticks);
        if (e.step === 4) controller.abort();
      },
    });
    clearInterval(timer);
    expect(ticksAtStep[3]!).toBeGreaterThan(ticksAtStep[0]!);
    expect(result).toMatchObject({ step: 4, stopped: true });
    expect(loadCheckpoint(path.join(folder, 'checkpoint.pt')).step).toBe(4);
    await expect(runTraining({ model, train: data, steps: 0 })).rejects.toThrow(/option 'steps' must be a positive integer/);
    await expect(runTraining({ model, train: data, steps: 1, tileSize: 41 })).rejects.toThrow(/nearest valid/);
    await expect(runTraining({ model, train: data, steps: 1, optimizer: 'lbfgs' as never })).rejects.toThrow(/option 'optimizer' must be 'sgd', 'adam' or 'adamw'/);
    await expect(runTraining({ model, train: data, steps: 1, amp: true })).rejects.toThrow(/option 'amp' needs a CUDA device/);
    await expect(runTraining({ model, train: [], steps: 1 })).rejects.toThrow(/no training samples/);
    torch.dispose(data.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  }, 60_000);
});

describe('unet train, predict and eval', () => {
  test('train → predict → eval on a folder of PNGs, then --resume continues', () => {
    writeFolder(path.join(folder, 'data'), 4, 80);
    const run = path.join(folder, 'run');
    const common = ['--data', path.join(folder, 'data'), '--out', run, '--tile', '220', '--optimizer', 'adam', '--epoch-steps', '5', '--threads', '1'];
    const trained = execFileSync(process.execPath, [cli, 'train', ...common, '--steps', '10'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(trained).toMatch(/finished at step 10, last validation IoU \d\.\d{4}/);
    const resumed = execFileSync(process.execPath, [cli, 'train', ...common, '--steps', '15', '--resume'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(resumed).toMatch(/finished at step 15/);
    const predicted = execFileSync(process.execPath, [cli, 'predict', '--model', run, '--out', path.join(folder, 'pred'), '--tile', '220', path.join(folder, 'data', 'images')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(predicted.trim().split('\n')).toHaveLength(4);
    for (const suffix of ['.png', '.overlay.png', '.probabilities.npy']) expect(fs.existsSync(path.join(folder, 'pred', `cells0${suffix}`))).toBe(true);
    const probabilities = torch.loadNpy(path.join(folder, 'pred', 'cells0.probabilities.npy'));
    expect(probabilities.shape).toEqual([2, 80, 86]);
    expect(probabilities.sum(0).sub(1).abs().max().item()).toBeLessThan(1e-5);
    const scored = execFileSync(process.execPath, [cli, 'eval', '--pred', path.join(folder, 'pred'), '--truth', path.join(folder, 'data', 'labels'), '--json', path.join(folder, 'eval.json')], { encoding: 'utf8' });
    expect(scored).toMatch(/\| image \| IoU background \| IoU cell \| Dice background \| Dice cell \| pixel error \| Rand error \| warping error \| SEG \|/);
    expect(scored).toMatch(/\| mean of 4 \|/);
    const json = JSON.parse(fs.readFileSync(path.join(folder, 'eval.json'), 'utf8')) as { images: unknown[]; mean: { iou: number[] } };
    expect(json.images).toHaveLength(4);
    expect(json.mean.iou[1]).toBeGreaterThan(0);
    probabilities.dispose();
  }, 180_000);

  test('Ctrl-C during unet train saves a checkpoint and exits cleanly', async () => {
    writeFolder(path.join(folder, 'data'), 2, 64);
    const run = path.join(folder, 'run');
    const child = spawn(process.execPath, [cli, 'train', '--data', path.join(folder, 'data'), '--out', run, '--tile', '220', '--steps', '100000', '--epoch-steps', '100000', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (/step \d+\/100000/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(stderr).toMatch(/interrupted: finishing this step and writing a checkpoint/);
    expect(stderr).toMatch(/stopped at step \d+; the checkpoint holds everything to continue with --resume/);
    expect(loadCheckpoint(path.join(run, 'checkpoint.pt')).step).toBeGreaterThan(0);
  }, 120_000);

  test('missing folders, unmatched names and bad options are clear errors', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    expect(run('train', '--data', path.join(folder, 'nowhere'), '--out', folder).stderr).toMatch(/nowhere.images: no such folder/);
    writeFolder(path.join(folder, 'data'), 2, 64);
    fs.renameSync(path.join(folder, 'data', 'labels', 'cells1.png'), path.join(folder, 'data', 'labels', 'other.png'));
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder).stderr).toMatch(/no label in labels\/ for cells1 \(names must match, extensions may differ\)/);
    fs.renameSync(path.join(folder, 'data', 'labels', 'other.png'), path.join(folder, 'data', 'labels', 'cells1.png'));
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--preset', 'huge').stderr).toMatch(/--preset must be one of ronneberger2015, compact, padded/);
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--tile', '301').stderr).toMatch(/301.*nearest valid/);
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--steps', 'many').stderr).toMatch(/--steps must be a number, got 'many'/);
    expect(run('train', '--data', path.join(folder, 'data'), '--out', folder, '--device', 'cuda:7').stderr).toMatch(/CUDA is not available here|invalid device|cuda:7/);
    expect(run('predict', '--model', path.join(folder, 'data'), '--out', folder, path.join(folder, 'data', 'images')).stderr).toMatch(/model.json is missing/);
    expect(run('eval', '--pred', path.join(folder, 'data', 'images'), '--truth', path.join(folder, 'nowhere')).stderr).toMatch(/nowhere: no such folder/);
    expect(run('train').status).toBe(2);
  }, 60_000);
});
