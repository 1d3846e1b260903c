// File faults: corrupt and truncated files of every format give errors that name the file; a
// process killed while writing a checkpoint leaves the previous one loadable; a full disk or a
// missing folder gives a clear error and keeps the earlier file.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { predictLogits, prepareSamples, runTraining, syntheticCells, torch, unet, UNet, writeGrayPng } from '../lib';
import { saveCheckpoint, loadCheckpoint } from '../lib/train/checkpoint';
import { readImageTiff } from '../lib/io/tiff';
import { readImagePng, readLabelPng } from '../lib/io/png';

const dist = path.join(__dirname, '..', 'dist');

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-faults-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

function checkpointOf(size: number, step: number): Parameters<typeof saveCheckpoint>[1] {
  return {
    step,
    epoch: 0,
    settings: {},
    model: { weight: torch.full([size], step) },
    optimizer: { state: {}, param_groups: [] },
    scheduler: null,
    scaler: null,
    history: [],
  };
}

// A minimal valid 8-bit gray TIFF (little-endian, one strip), written byte by byte.
function writeTinyTiff(good: string): void {
  const width = 4;
  const height = 2;
  const entries: [number, number, number, number][] = [
    [256, 3, 1, width],
    [257, 3, 1, height],
    [258, 3, 1, 8],
    [259, 3, 1, 1],
    [262, 3, 1, 1],
    [273, 4, 1, 8 + 2 + 9 * 12 + 4],
    [277, 3, 1, 1],
    [278, 3, 1, height],
    [279, 4, 1, width * height],
  ];
  const buffer = Buffer.alloc(8 + 2 + entries.length * 12 + 4 + width * height);
  buffer.write('II', 0);
  buffer.writeUInt16LE(42, 2);
  buffer.writeUInt32LE(8, 4);
  buffer.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], k) => {
    const at = 10 + k * 12;
    buffer.writeUInt16LE(tag, at);
    buffer.writeUInt16LE(type, at + 2);
    buffer.writeUInt32LE(count, at + 4);
    if (type === 3) buffer.writeUInt16LE(value, at + 8);
    else buffer.writeUInt32LE(value, at + 8);
  });
  for (let k = 0; k < width * height; k += 1) buffer[8 + 2 + entries.length * 12 + 4 + k] = k * 30;
  fs.writeFileSync(good, buffer);
}

describe('corrupt and truncated files', () => {
  test.each([
    ['png', (f: string) => readImagePng(f), /not a readable PNG/],
    ['label.png', (f: string) => readLabelPng(f), /not a readable PNG/],
    ['tif', (f: string) => readImageTiff(f), /not a readable TIFF/],
    ['safetensors', (f: string) => torch.loadSafetensors(f), /not a valid safetensors file/],
    ['pt', (f: string) => torch.load(f), /not a|truncated|corrupt|ZIP/i],
    ['npy', (f: string) => torch.loadNpy(f), /not a readable .npy file/],
    ['checkpoint.pt', (f: string) => loadCheckpoint(f), /not a|truncated|corrupt|ZIP/i],
  ] as const)('%s: truncated and corrupted copies fail with the file named', (kind, read, message) => {
    const good = path.join(folder, `good.${kind}`);
    torch.tidy(() => {
      const image = torch.rand([16, 20]);
      if (kind === 'png' || kind === 'label.png') writeGrayPng(good, image);
      else if (kind === 'tif') writeTinyTiff(good);
      else if (kind === 'safetensors') torch.saveSafetensors(good, { image });
      else if (kind === 'pt') torch.save(good, { image });
      else if (kind === 'npy') torch.saveNpy(good, image);
      else saveCheckpoint(good, checkpointOf(100, 1));
    });
    const parsed = read(good);
    torch.dispose(parsed);
    const bytes = fs.readFileSync(good);
    const broken = [
      ['empty', Buffer.alloc(0)],
      ['truncated', bytes.subarray(0, Math.floor(bytes.length / 2))],
      ['garbage', Buffer.from('this is not an image or a tensor file at all, just words')],
    ] as const;
    for (const [name, content] of broken) {
      const file = path.join(folder, `${name}.${kind}`);
      fs.writeFileSync(file, content);
      let thrown: unknown;
      try {
        torch.dispose(read(file));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toContain(file);
      expect((thrown as Error).message).toMatch(message);
    }
  });
});

describe('writing checkpoints', () => {
  test('a process killed (SIGKILL) while writing checkpoints leaves the last complete one loadable', async () => {
    const file = path.join(folder, 'checkpoint.pt');
    const script = `
      const { torch } = require(${JSON.stringify(path.join(dist, 'index.js'))});
      const { saveCheckpoint } = require(${JSON.stringify(path.join(dist, 'train', 'checkpoint.js'))});
      const big = torch.rand([4000000]);
      for (let step = 1; ; step += 1) {
        saveCheckpoint(${JSON.stringify(file)}, { step, epoch: 0, settings: {}, model: { weight: big.fill_(step) }, optimizer: { state: {}, param_groups: [] }, scheduler: null, scaler: null, history: [] });
        process.stdout.write('saved ' + step + '\\n');
      }`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        // Killed in the middle of the third write, once two are complete.
        if (/saved 2\n/.test(output)) setTimeout(() => child.kill('SIGKILL'), 15);
      });
      child.on('exit', () => resolve());
    });
    const saved = loadCheckpoint(file);
    expect(saved.step).toBeGreaterThanOrEqual(2);
    expect(saved.model.weight!.min().item()).toBe(saved.step);
    expect(saved.model.weight!.max().item()).toBe(saved.step);
    torch.dispose(saved.model);
  }, 60_000);

  test('a full disk or a missing folder is a clear error and the earlier checkpoint stays', () => {
    const file = path.join(folder, 'checkpoint.pt');
    torch.tidy(() => saveCheckpoint(file, checkpointOf(10, 1)));
    // A file-size limit of 1 kB stands in for a full disk: writes fail with EFBIG. The 12 MB
    // weight spans several of the chunks the archive is streamed in, so the first write fails
    // mid-archive and the writing stops there.
    const script = `
      const { torch } = require(${JSON.stringify(path.join(dist, 'index.js'))});
      const { saveCheckpoint } = require(${JSON.stringify(path.join(dist, 'train', 'checkpoint.js'))});
      try {
        saveCheckpoint(${JSON.stringify(file)}, { step: 2, epoch: 0, settings: {}, model: { weight: torch.rand([3000000]) }, optimizer: null, scheduler: null, scaler: null, history: [] });
      } catch (error) {
        console.log(error.name + ': ' + error.message);
      }`;
    const result = spawnSync('bash', ['-c', 'ulimit -f 1 && exec "$0" -e "$1"', process.execPath, script], { encoding: 'utf8' });
    expect(result.stdout).toMatch(
      /FileWriteError: cannot write .*checkpoint.pt: the disk \(or this process's file size limit\) is full \(EFBIG\); the previous file is unchanged/,
    );
    expect(loadCheckpoint(file).step).toBe(1);
    expect(fs.readdirSync(folder)).toEqual(['checkpoint.pt']);
    expect(() => torch.tidy(() => saveCheckpoint(path.join(folder, 'checkpoint.pt', 'inside.pt'), checkpointOf(10, 3)))).toThrow(
      /cannot write .*inside.pt: the folder does not exist \(ENOTDIR\); nothing was written/,
    );
  }, 60_000);
});

// A CPU allocation the system refuses stands in for a GPU out of memory: both reach JS as the
// same OutOfMemoryError through the addon's one error path (the CUDA case is in tensor.test.ts).
describe('memory that cannot be had', () => {
  const impossible = 2 ** 40; // 4 TiB of float32

  test('an allocation that fails is an OutOfMemoryError naming the operation; earlier tensors and the process stay usable', () => {
    torch.tidy(() => {
      const earlier = torch.arange(0, 5);
      const before = torch.memory().liveTensors;
      let caught: unknown;
      try {
        torch.empty([impossible]);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(torch.OutOfMemoryError);
      expect(caught).toBeInstanceOf(Error);
      expect(torch.cuda.OutOfMemoryError).toBe(torch.OutOfMemoryError);
      expect((caught as Error).name).toBe('OutOfMemoryError');
      expect((caught as Error).message).toMatch(/^empty\(\): .*can't allocate memory: you tried to allocate 4398046511104 bytes/);
      expect(() => torch.ones([impossible / 2, 2]).add(1)).toThrow(torch.OutOfMemoryError);
      expect(torch.memory().liveTensors).toBe(before);
      expect(earlier.add(1).sum().item()).toBe(15);
    });
  });

  test('prediction and training that do not fit name the tile and batch, and suggest a smaller valid tile', async () => {
    const model = new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 8 });
    const tileSize = model.inputSizeFor(2 ** 20);
    const smaller = model.smallerInputSize(tileSize)!;
    expect(model.isValidInputSize(smaller) && smaller <= 0.75 * tileSize).toBe(true);
    const image = torch.rand([1, 40, 40]);
    const expected = new RegExp(
      `1 tile of ${tileSize} × ${tileSize} does not fit in the memory of cpu\\. Try a smaller tile: option 'tileSize' ${smaller} needs about half the memory`,
    );
    let caught: unknown;
    try {
      predictLogits(model, image, { tileSize });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(torch.OutOfMemoryError);
    expect((caught as Error).message).toMatch(new RegExp(`^predict: ${expected.source}`));
    expect((caught as Error).cause).toBeInstanceOf(torch.OutOfMemoryError);
    // The model and the process carry on: training mode restored, a tile that fits works.
    expect(model.training).toBe(true);
    expect(predictLogits(model, image, { tileSize: model.inputSizeFor(40) }).shape).toEqual([2, 40, 40]);

    const { image: cells, label } = syntheticCells(1, { height: 40, width: 40 });
    const train = prepareSamples([{ name: 'cells', image: cells, label }], 'instances', 2);
    const weightsBefore = model.stateDict()['head.weight']!.clone();
    await expect(runTraining({ model, train, steps: 2, tileSize, batchSize: 2 })).rejects.toThrow(
      new RegExp(
        `^train\\(\\) step 1: a batch of 2 tiles of ${tileSize} × ${tileSize} does not fit .*option 'tileSize' ${smaller} .*fewer tiles at once`,
      ),
    );
    expect(model.stateDict()['head.weight']!.equal(weightsBefore)).toBe(true);
    torch.dispose([image, cells, label, weightsBefore]);
  });
});
