// Overlap-tile prediction: stitched tiles equal one whole-image pass (bitwise with oneDNN off)
// for several tile sizes and odd image sizes; test-time augmentation; the files written.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { readImagePng, readLabelPng, syntheticCells, type Tensor, torch, unet, UNet } from '../lib';
import { main } from '../lib/cli/main';
import { loadNpy } from '../lib/io/npy';
import { packageRoot } from '../lib/package-root';
import { writePrediction } from '../lib/predict/outputs';
import { predictLogits, predictProbabilities, tileGeometry } from '../lib/predict/overlap-tile';
import { cropMirrored, mirrorIndex } from '../lib/data/mirror';
import { ChannelsError, fitChannels } from '../lib/raster/channels';
import { saveModelDescription, defaultDescription } from '../lib/unet/model-files';
import { writeGrayAsRgbPng } from './support/colour';
import { runPython } from './support/python';

function network(changes: Partial<unet.UNetOptions> = {}): UNet {
  torch.manualSeed(3);
  return new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 4, ...changes }).eval();
}

// One forward pass over the whole image, mirror-padded by the margin, cropped to the image.
function wholeImageLogits(model: UNet, image: Tensor): Tensor {
  const [, h, w] = image.shape as [number, number, number];
  const inputH = model.inputSizeFor(h);
  const inputW = model.inputSizeFor(w);
  const margin = model.marginFor(inputH);
  return torch.tidy(() =>
    torch
      .noGrad(() => model.forward(cropMirrored(image, -margin, -margin, inputH, inputW).unsqueeze(0)))
      .squeeze(0)
      .narrow(1, 0, h)
      .narrow(2, 0, w),
  );
}

describe('overlap-tile prediction', () => {
  test('mirror indices reflect about the border pixels as often as needed', () => {
    expect([-3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 9].map((p) => mirrorIndex(p, 4))).toEqual([3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 3]);
    torch.tidy(() => {
      const x = torch.arange(0, 12, 1).reshape([1, 3, 4]);
      expect(cropMirrored(x, -1, 2, 2, 4).toArray()).toEqual([
        [
          [6, 7, 6, 5],
          [2, 3, 2, 1],
        ],
      ]);
    });
  });

  test.each([
    [70, 83],
    [33, 129],
    [101, 57],
  ])('stitched tiles equal one pass over a %i × %i image bitwise (oneDNN off), for every tile size', (h, w) => {
    const model = network();
    const { image } = syntheticCells(h + w, { height: h, width: w });
    const mkldnn = torch.backends.mkldnn.enabled;
    torch.backends.mkldnn.enabled = false;
    const whole = wholeImageLogits(model, image);
    torch.backends.mkldnn.enabled = mkldnn;
    for (const tileSize of [44, 52, 60, 76, 100, 140]) {
      const stitched = predictLogits(model, image, { tileSize, exact: true, batchSize: 3 });
      expect(stitched.shape).toEqual([2, h, w]);
      expect(stitched.equal(whole)).toBe(true);
      stitched.dispose();
    }
    // With oneDNN (the default) the sums depend on the width: equal to rounding.
    const fast = predictLogits(model, image, { tileSize: 60 });
    expect(fast.sub(whole).abs().max().item()).toBeLessThan(1e-4);
    expect(torch.backends.mkldnn.enabled).toBe(mkldnn);
    torch.dispose([image, whole, fast]);
  });

  test('same padding, colour input, test-time augmentation and batches give probabilities of the image size', () => {
    const model = network({ padding: 'same', normalization: 'batch', inChannels: 3, classes: 3 });
    torch.manualSeed(4);
    torch.tidy(() => {
      const image = torch.randn([3, 45, 61]);
      for (const options of [{}, { tta: true }, { batchSize: 4, tileSize: 32 }]) {
        const probabilities = predictProbabilities(model, image, options);
        expect(probabilities.shape).toEqual([3, 45, 61]);
        expect(probabilities.sum(0).sub(1).abs().max().item()).toBeLessThan(1e-5);
      }
      // A mirror-symmetric image under a flip-averaged prediction stays mirror-symmetric.
      const symmetric = image.add(image.flip([2]));
      const averaged = predictProbabilities(model, symmetric, { tta: true });
      expect(
        averaged
          .sub(averaged.flip([2]))
          .abs()
          .max()
          .item(),
      ).toBeLessThan(1e-5);
    });
  });

  test.each(['float32', 'bfloat16', 'float16'] as const)(
    'in %s, the probabilities equal bitwise those of the same overlap-tile loop in PyTorch (reference/overlap_tile.py)',
    (precision) => {
      const model = network();
      const { image } = syntheticCells(11, { height: 70, width: 83 });
      torch.tidy(() => {
        const ours = predictProbabilities(model, image, { tileSize: 60, precision });
        const weights = Object.fromEntries(Object.entries(model.stateDict()).map(([key, value]) => [`weight.${key}`, value]));
        const theirs = runPython(
          `from dataclasses import replace
from reference.overlap_tile import predict
from reference.unet import PRESETS, UNet
model = UNet(replace(PRESETS["compact"], depth=3, base_channels=4))
model.load_state_dict({k[len("weight."):]: v for k, v in inputs.items() if k.startswith("weight.")})
outputs["probabilities"] = predict(model, inputs["image"].numpy(), 60, precision="${precision}")
outputs["float32"] = predict(model, inputs["image"].numpy(), 60)`,
          { ...weights, image },
        );
        expect(ours.dtype).toBe('float32');
        expect(ours.device).toBe('cpu');
        // The same libtorch kernels on the same tiles and the same autocast: bitwise equal.
        expect(ours.equal(theirs.probabilities!)).toBe(true);
        // Half precision did run: its probabilities are not float32's, yet close to them.
        const fromFloat32 = ours.sub(theirs.float32!).abs().max().item() as number;
        if (precision === 'float32') expect(fromFloat32).toBe(0);
        else expect([fromFloat32 > 1e-5, fromFloat32 < 0.05]).toEqual([true, true]);
      });
      image.dispose();
    },
  );

  test('tile sizes that do not fit are refused with the nearest valid ones; wrong channels are named', () => {
    const model = network();
    torch.tidy(() => {
      expect(() => predictLogits(model, torch.zeros([1, 20, 20]), { tileSize: 45 })).toThrow(
        /45 is not a valid tile size.*nearest valid sizes are 44 and 48/,
      );
      expect(() => tileGeometry(network({ padding: 'same' }), 16)).toThrow(
        /a 16-pixel tile leaves 0 useful pixels; at least 4 \(the pooling factor\) are needed: use a larger tile/,
      );
      expect(() => predictLogits(model, torch.zeros([3, 20, 20]))).toThrow(
        /the image must be \(C, H, W\) with C = 1, got shape \[3, 20, 20\]/,
      );
      expect(() => predictLogits(model, torch.zeros([1, 20, 20]), { batchSize: 0 })).toThrow(
        /option 'batchSize' must be a positive integer/,
      );
      expect(() => predictLogits(model, torch.zeros([1, 20, 20]), { precision: 'half' as 'float16' })).toThrow(
        /predict\(\): option 'precision' must be one of 'float32', 'float16', 'bfloat16', got 'half'/,
      );
    });
  });

  test('writePrediction writes cell ids, probabilities and an overlay', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-predict-'));
    try {
      torch.tidy(() => {
        const probabilities = torch.zeros([2, 20, 30]);
        probabilities.select(0, 0).fill_(1);
        probabilities.select(0, 0).narrow(0, 2, 4).narrow(1, 2, 5).fill_(0);
        probabilities.select(0, 0).narrow(0, 10, 5).narrow(1, 20, 5).fill_(0);
        probabilities.select(0, 1).copy_(probabilities.select(0, 0).neg().add(1));
        const files = writePrediction(folder, 'x', torch.randn([1, 20, 30]), probabilities, { kind: 'cells' });
        const labels = readLabelPng(files.labels);
        expect(labels.max().item()).toBe(2);
        expect(labels.gt(0).sum().item()).toBe(20 + 25);
        expect(torch.loadNpy(files.probabilities).equal(probabilities)).toBe(true);
        expect(fs.statSync(files.overlay).size).toBeGreaterThan(100);
      });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  test('unet predict --precision bfloat16 segments as float32 does, to a few border pixels', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-precision-'));
    const samples = path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images');
    const image = path.join(samples, fs.readdirSync(samples)[0]!);
    const name = path.basename(image, '.png');
    const quiet = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      for (const precision of ['float32', 'bfloat16'])
        expect(
          await main(['predict', '--model', 'nuclei', '--no-tta', '--precision', precision, '--out', path.join(folder, precision), image]),
        ).toBe(0);
      torch.tidy(() => {
        const read = (precision: string) => readLabelPng(path.join(folder, precision, `${name}.png`)).gt(0);
        const differing = read('float32').ne(read('bfloat16')).to('float32').mean().item() as number;
        const probabilities = (precision: string) => loadNpy(path.join(folder, precision, `${name}.probabilities.npy`));
        const gap = probabilities('float32').sub(probabilities('bfloat16')).abs().max().item() as number;
        expect([differing < 0.002, gap > 0, gap < 0.05]).toEqual([true, true, true]);
      });
    } finally {
      quiet.mockRestore();
      stdout.mockRestore();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);

  test('fitChannels: a colour image for one channel is its mean, or its first plane bitwise where all three are equal; gray for three is repeated; other counts are refused', () => {
    const planes = (channels: number, values: number[]) => ({ channels, height: 1, width: 2, data: Float32Array.from(values) });
    const gray = planes(3, [0.1, 0.7, 0.1, 0.7, 0.1, 0.7]);
    expect(Array.from(fitChannels(gray, 1, 'gray.png').data)).toEqual([Math.fround(0.1), Math.fround(0.7)]);
    const colour = fitChannels(planes(3, [0.3, 0, 0.6, 1, 0, 0.5]), 1, 'colour.png');
    expect({ channels: colour.channels, data: Array.from(colour.data) }).toEqual({
      channels: 1,
      data: [Math.fround((Math.fround(0.3) + Math.fround(0.6)) / 3), 0.5],
    });
    expect(Array.from(fitChannels(planes(1, [0.25, 0.5]), 3, 'one.png').data)).toEqual([0.25, 0.5, 0.25, 0.5, 0.25, 0.5]);
    const same = planes(1, [0.25, 0.5]);
    expect(fitChannels(same, 1, 'one.png')).toBe(same);
    expect(() => fitChannels(planes(3, [0, 0, 0, 0, 0, 0]), 2, 'rgb.png')).toThrow(ChannelsError);
    expect(() => fitChannels(planes(3, [0, 0, 0, 0, 0, 0]), 2, 'rgb.png')).toThrow(
      'rgb.png: the model takes 2 channel(s), the image has 3',
    );
  });

  test('unet predict segments a gray image stored as colour as the gray image, and skips, naming it, an image whose channels the model cannot take', async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-channels-'));
    const samples = path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images');
    const image = path.join(samples, fs.readdirSync(samples)[0]!);
    const name = path.basename(image, '.png');
    const errors: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((text) => errors.push(String(text)) > 0);
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const coloured = path.join(folder, 'rgb', `${name}.png`);
      fs.mkdirSync(path.dirname(coloured));
      writeGrayAsRgbPng(image, coloured);
      expect(readImagePng(coloured).shape[0]).toBe(3);
      for (const [input, out] of [
        [image, 'from-gray'],
        [coloured, 'from-rgb'],
      ] as const)
        expect(await main(['predict', '--model', 'nuclei', '--no-tta', '--out', path.join(folder, out), input])).toBe(0);
      for (const file of [`${name}.png`, `${name}.probabilities.npy`])
        expect(fs.readFileSync(path.join(folder, 'from-rgb', file)).equals(fs.readFileSync(path.join(folder, 'from-gray', file)))).toBe(
          true,
        );
      // A network of two input channels takes neither a gray nor a colour file: each is reported and skipped.
      const twoChannels = path.join(folder, 'two-channels');
      const model = network({ inChannels: 2 });
      fs.mkdirSync(twoChannels);
      saveModelDescription(twoChannels, defaultDescription(model.options));
      torch.saveSafetensors(path.join(twoChannels, 'model.safetensors'), model.stateDict());
      model.dispose();
      errors.length = 0;
      expect(await main(['predict', '--model', twoChannels, '--out', path.join(folder, 'none'), image, coloured])).toBe(1);
      expect(errors.join('')).toContain(`unet: ${image}: the model takes 2 channel(s), the image has 1; skipped`);
      expect(errors.join('')).toContain(`unet: ${coloured}: the model takes 2 channel(s), the image has 3; skipped`);
      expect(fs.readdirSync(path.join(folder, 'none'))).toEqual([]);
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
      fs.rmSync(folder, { recursive: true, force: true });
    }
  }, 120_000);
});
