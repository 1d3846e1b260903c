// Defects a review of the whole tree found, each pinned by a test.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { optim, torch } from '../lib';
import { runTraining } from '../lib/train/trainer';
import { prepareSamples } from '../lib/data/dataset';
import { normaliseImage } from '../lib/data/normalise';
import { syntheticCells, UNet, unet } from '../lib';
import { runPython } from './support/python';

// A test below runs on one thread; the other test files in this Jest worker expect the default.
const threads = torch.getNumThreads();
afterAll(() => torch.setNumThreads(threads));

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-defects-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

describe('defects found in review', () => {
  test('torch.save keeps NaN, ±Infinity and numbers beyond int64 as floats (it cast them to int64: undefined behaviour)', () => {
    const file = path.join(folder, 'numbers.pt');
    torch.save(file, { best: Infinity, worst: -Infinity, missing: NaN, huge: 1e30, step: 7, half: 2.5 });
    expect(torch.load(file)).toEqual({ best: Infinity, worst: -Infinity, missing: NaN, huge: 1e30, step: 7, half: 2.5 });
    const python = runPython(`
value = torch.load(${JSON.stringify(file)}, weights_only=True)
import math
outputs["ok"] = torch.tensor([math.isinf(value["best"]) and value["best"] > 0, math.isinf(value["worst"]) and value["worst"] < 0, math.isnan(value["missing"]), value["huge"] == 1e30, type(value["step"]) is int, value["half"] == 2.5])
`);
    expect(python.ok!.toArray()).toEqual([true, true, true, true, true, true]);
    // ReduceLROnPlateau's best starts at Infinity: its state dict goes through a checkpoint.
    const parameter = torch.zeros([1], { requiresGrad: true });
    const scheduler = new optim.lrScheduler.ReduceLROnPlateau(new optim.SGD([parameter], { lr: 0.1 }));
    torch.save(path.join(folder, 'scheduler.pt'), scheduler.stateDict() as never);
    expect((torch.load(path.join(folder, 'scheduler.pt')) as { best: number }).best).toBe(Infinity);
    torch.dispose([parameter, python]);
  });

  test('a BigInt scalar outside int64 is refused by name (it was silently truncated)', () => {
    torch.tidy(() => {
      const x = torch.tensor([1, 2]);
      expect(x.add(5n as never).toArray()).toEqual([6, 7]);
      expect(() => x.add((2n ** 64n) as never)).toThrow(
        /add\(\): argument 'other' must be a BigInt within int64 \(-2\^63 to 2\^63 - 1\), got/,
      );
      expect(() => torch.full([2], (-(2n ** 63n) - 1n) as never)).toThrow(/BigInt within int64/);
    });
  });

  test('an allocation that fails while reading a tensor back asynchronously is an OutOfMemoryError (that path had no mapping)', async () => {
    const huge = torch.zeros([1]).expand([2 ** 40]);
    await expect(huge.data()).rejects.toThrow(torch.OutOfMemoryError);
    await expect(huge.data()).rejects.toThrow(/Tensor\.data\(\): .*allocate/);
    huge.dispose();
  });

  test('F.conv2d(x, w, b, { padding: 1 }) takes the bias positionally, as PyTorch does', () => {
    torch.tidy(() => {
      torch.manualSeed(1);
      const F = torch.nn.functional;
      const x = torch.randn([1, 2, 6, 6]);
      const w = torch.randn([3, 2, 3, 3]);
      const b = torch.randn([3]);
      const positional = F.conv2d(x, w, b, { padding: 1 });
      expect(positional.equal(F.conv2d(x, w, { bias: b, padding: 1 }))).toBe(true);
      expect(F.conv2d(x, w, null, { padding: 1 }).equal(F.conv2d(x, w, { padding: 1 }))).toBe(true);
      expect(
        F.convTranspose2d(x, w.transpose(0, 1), b, { stride: 2 }).equal(F.convTranspose2d(x, w.transpose(0, 1), { bias: b, stride: 2 })),
      ).toBe(true);
      expect(() => F.conv2d(x, w, b, { bias: b })).toThrow(/conv2d\(\): the bias is given twice/);
      expect(() => F.conv2d(x, w, { padding: 1 }, { stride: 1 })).toThrow(/conv2d\(\): the third argument is the options/);
    });
  });

  test('train() frees the state dicts it writes into each checkpoint (they accumulated: one handle per parameter per epoch)', async () => {
    torch.setNumThreads(1);
    const raw = [1, 2].map((seed) => {
      const { image, label } = syntheticCells(seed, { height: 48, width: 48, radius: [5, 9] });
      const sample = { name: `s${seed}`, image: normaliseImage(image), label };
      image.dispose();
      return sample;
    });
    const data = prepareSamples(raw, 'instances', 2);
    torch.manualSeed(0);
    const model = new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 4 });
    const live: number[] = [];
    await runTraining({
      model,
      train: data,
      steps: 6,
      stepsPerEpoch: 2,
      tileSize: model.inputSizeFor(20),
      optimizer: 'adam',
      outDir: folder,
      onEvent: (event) => event.type === 'checkpoint' && live.push(torch.memory().liveTensors),
    });
    expect(live).toHaveLength(3);
    // A leak adds a state dict's worth of handles per checkpoint; garbage of earlier tests that
    // the collector frees meanwhile can only lower the count.
    const entries = torch.tidy(() => Object.keys(model.stateDict()).length);
    expect(live[1]! - live[0]!).toBeLessThan(entries);
    expect(live[2]! - live[1]!).toBeLessThan(entries);
    torch.dispose(data.flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
    model.dispose();
  }, 60_000);
});
