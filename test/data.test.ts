// Datasets: PNG (8/16-bit gray, RGB) and TIFF (multi-page stacks, 16-bit, float) read as
// written by independent tools (pngjs here, tifffile in the reference Python), folders with
// matched names, label kinds, targets and weights, and seeded splits.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { PNG } from 'pngjs';

import { readImagePng, syntheticCells, torch, weightMap, writeGrayPng, writeLabelPng } from '../lib';
import { guessLabelKind, trainingTargets } from '../lib/data/dataset';
import { DatasetError, loadFolder, splitSamples } from '../lib/data/folder';
import { readImageTiff, readLabelTiff, TiffError } from '../lib/io/tiff';
import { writeGrayAsRgbPng } from './support/colour';
import { runPython } from './support/python';

let folder: string;
beforeEach(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-data-'));
});
afterEach(() => fs.rmSync(folder, { recursive: true, force: true }));

describe('image files', () => {
  test('PNG: 8- and 16-bit gray scale to [0, 1]; RGB gives three channels', () => {
    const gray16 = new PNG({ width: 3, height: 2, colorType: 0, inputColorType: 0, bitDepth: 16, inputHasAlpha: false });
    gray16.data = Buffer.from(Uint16Array.from([0, 1000, 65535, 32768, 7, 65534]).buffer);
    fs.writeFileSync(
      path.join(folder, 'g16.png'),
      PNG.sync.write(gray16, { colorType: 0, inputColorType: 0, bitDepth: 16, inputHasAlpha: false }),
    );
    const image16 = readImagePng(path.join(folder, 'g16.png'));
    expect(image16.shape).toEqual([1, 2, 3]);
    expect((image16.flatten().toArray() as number[]).map((v) => Math.round(v * 65535))).toEqual([0, 1000, 65535, 32768, 7, 65534]);
    const rgb = new PNG({ width: 2, height: 1 });
    rgb.data = Buffer.from([255, 0, 0, 255, 0, 51, 102, 255]);
    fs.writeFileSync(path.join(folder, 'rgb.png'), PNG.sync.write(rgb));
    const colour = readImagePng(path.join(folder, 'rgb.png'));
    expect(colour.shape).toEqual([3, 1, 2]);
    expect(
      colour
        .sub(torch.tensor([[[1, 0]], [[0, 0.2]], [[0, 0.4]]]))
        .abs()
        .max()
        .item(),
    ).toBeLessThan(1e-7);
    torch.dispose([image16, colour]);
  });

  test('TIFF written by tifffile: multi-page 8-bit stacks, 16-bit labels, float images; corrupt files are named', () => {
    torch.manualSeed(9);
    const stack = torch.randint(0, 256, [3, 5, 7]).to('uint8');
    const labels = torch.randint(0, 3000, [2, 4, 6]).to('int32');
    const float = torch.rand([6, 4]);
    runPython(
      `
import tifffile
folder = ${JSON.stringify(folder)}
tifffile.imwrite(folder + "/stack.tif", inputs["stack"].numpy(), photometric="minisblack")
tifffile.imwrite(folder + "/labels.tif", inputs["labels"].numpy().astype("uint16"), photometric="minisblack")
tifffile.imwrite(folder + "/float.tif", inputs["float"].numpy())
`,
      { stack, labels, float },
    );
    const pages = readImageTiff(path.join(folder, 'stack.tif'));
    expect(pages).toHaveLength(3);
    for (const [k, page] of pages.entries()) expect(page.squeeze(0).mul(255).round().to('uint8').equal(stack.select(0, k))).toBe(true);
    const labelPages = readLabelTiff(path.join(folder, 'labels.tif'));
    expect(labelPages.map((page) => page.equal(labels.select(0, labelPages.indexOf(page))))).toEqual([true, true]);
    const [floatPage] = readImageTiff(path.join(folder, 'float.tif'));
    expect(floatPage!.squeeze(0).equal(float)).toBe(true);
    fs.writeFileSync(path.join(folder, 'broken.tif'), Buffer.from('II*\0garbage'));
    expect(() => readImageTiff(path.join(folder, 'broken.tif'))).toThrow(TiffError);
    expect(() => readImageTiff(path.join(folder, 'broken.tif'))).toThrow(/broken.tif: not a readable TIFF/);
    expect(() => readLabelTiff(path.join(folder, 'float.tif'))).toThrow(/page 0 is not a label image/);
    torch.dispose([stack, labels, float, ...pages, ...labelPages, floatPage!]);
  });
});

describe('folders, label kinds and splits', () => {
  test('a folder of PNGs and a multi-page TIFF pair becomes normalised samples', () => {
    fs.mkdirSync(path.join(folder, 'images'));
    fs.mkdirSync(path.join(folder, 'labels'));
    const { image, label } = syntheticCells(2, { height: 40, width: 48 });
    writeGrayPng(path.join(folder, 'images', 'a.png'), image.squeeze(0));
    writeLabelPng(path.join(folder, 'labels', 'a.png'), label);
    runPython(
      `
import tifffile
tifffile.imwrite(${JSON.stringify(path.join(folder, 'images', 'volume.tif'))}, (inputs["image"].numpy() * 255).astype("uint8").repeat(2, axis=0), photometric="minisblack")
tifffile.imwrite(${JSON.stringify(path.join(folder, 'labels', 'volume.tiff'))}, inputs["label"].numpy().astype("uint16")[None].repeat(2, axis=0), photometric="minisblack")
`,
      { image, label },
    );
    const samples = loadFolder(folder);
    expect(samples.map((s) => s.name)).toEqual(['a', 'volume#0', 'volume#1']);
    for (const sample of samples) {
      expect(sample.image.shape).toEqual([1, 40, 48]);
      expect(Math.abs(sample.image.mean().item() as number)).toBeLessThan(1e-5);
      expect(Math.abs((sample.image.std().item() as number) - 1)).toBeLessThan(1e-3);
      expect(sample.label.equal(label)).toBe(true);
    }
    torch.dispose([image, label, ...samples.flatMap((s) => [s.image, s.label])]);
  });

  test("options.channels gives every image the network's channels by unet predict's rule, so gray and colour files mix", () => {
    fs.mkdirSync(path.join(folder, 'images'));
    fs.mkdirSync(path.join(folder, 'labels'));
    const { image, label } = syntheticCells(3, { height: 20, width: 24 });
    writeGrayPng(path.join(folder, 'images', 'gray.png'), image.squeeze(0));
    writeGrayAsRgbPng(path.join(folder, 'images', 'gray.png'), path.join(folder, 'images', 'rgb.png'));
    for (const name of ['gray', 'rgb']) writeLabelPng(path.join(folder, 'labels', `${name}.png`), label);
    expect(() => loadFolder(folder)).toThrow(/images mix gray and colour/);
    // Each sample's image and label stay; nothing else of the reading does.
    const live = torch.memory().liveTensors;
    const samples = loadFolder(folder, 'zscore', { channels: 1 });
    expect(torch.memory().liveTensors).toBe(live + 4);
    expect(samples.map((s) => [s.name, s.image.shape])).toEqual([
      ['gray', [1, 20, 24]],
      ['rgb', [1, 20, 24]],
    ]);
    expect(samples[1]!.image.equal(samples[0]!.image)).toBe(true);
    const three = loadFolder(folder, 'zscore', { channels: 3 });
    expect(three.map((s) => s.image.shape)).toEqual([
      [3, 20, 24],
      [3, 20, 24],
    ]);
    expect(() => loadFolder(folder, 'zscore', { channels: 2 })).toThrow(DatasetError);
    expect(() => loadFolder(folder, 'zscore', { channels: 2 })).toThrow(/gray.png: the model takes 2 channel\(s\), the image has 1/);
    expect(() => loadFolder(folder, 'zscore', { channels: 0 })).toThrow(/loadFolder\(\): .*options.channels.* positive integer/);
    expect(() => loadFolder(folder, 'zscore', { chanels: 1 } as never)).toThrow(/chanels/);
    torch.dispose([image, label, ...[...samples, ...three].flatMap((s) => [s.image, s.label])]);
  });

  test('unmatched names, sizes and missing folders are DatasetErrors naming the files', () => {
    expect(() => loadFolder(folder)).toThrow(DatasetError);
    fs.mkdirSync(path.join(folder, 'images'));
    fs.mkdirSync(path.join(folder, 'labels'));
    torch.tidy(() => {
      writeGrayPng(path.join(folder, 'images', 'a.png'), torch.rand([10, 12]));
      writeLabelPng(path.join(folder, 'labels', 'a.png'), torch.zeros([10, 13], { dtype: 'int32' }));
    });
    expect(() => loadFolder(folder)).toThrow(/a.png is 12×10 but its label is 13×10/);
    fs.renameSync(path.join(folder, 'labels', 'a.png'), path.join(folder, 'labels', 'b.png'));
    expect(() => loadFolder(folder)).toThrow(/no label in labels\/ for a/);
  });

  test('label kinds: instances get the border weight map, masks their components, classes the class balance', () => {
    torch.tidy(() => {
      const cells = torch.tensor(
        [
          [1, 1, 0, 2],
          [1, 1, 0, 2],
          [0, 0, 0, 0],
        ],
        { dtype: 'int32' },
      );
      expect(guessLabelKind(cells)).toBe('instances');
      const instances = trainingTargets(cells, 'instances', 2);
      expect(instances.target.toArray()).toEqual([
        [1, 1, 0, 1],
        [1, 1, 0, 1],
        [0, 0, 0, 0],
      ]);
      expect(instances.weights.equal(weightMap(cells))).toBe(true);
      const mask = cells.gt(0).to('int32').mul(255);
      expect(guessLabelKind(mask)).toBe('mask');
      const fromMask = trainingTargets(mask, 'mask', 2);
      expect(fromMask.instances.equal(cells)).toBe(true);
      expect(fromMask.weights.equal(instances.weights)).toBe(true);
      const classes = trainingTargets(torch.tensor([[0, 0, 1, 2]], { dtype: 'int32' }), 'classes', 3);
      // N / (C · n_c): 4 / (3 · 2), 4 / 3, 4 / 3
      expect(
        classes.weights
          .sub(torch.tensor([[2 / 3, 2 / 3, 4 / 3, 4 / 3]]))
          .abs()
          .max()
          .item(),
      ).toBeLessThan(1e-6);
      expect(() => trainingTargets(torch.tensor([[0, 3]], { dtype: 'int32' }), 'classes', 3)).toThrow(
        /class labels must lie in 0..2, found 3/,
      );
      expect(() => trainingTargets(cells, 'instances', 3)).toThrow(/'instances' labels train a 2-class network/);
    });
  });

  test('splits are seeded, disjoint and hold out at least one sample', () => {
    const items = Array.from({ length: 10 }, (_, k) => ({ name: `s${k}` }));
    const a = splitSamples(items, 0.2, 1);
    expect(a.validation).toHaveLength(2);
    expect(a.train).toHaveLength(8);
    expect(splitSamples(items, 0.2, 1)).toEqual(a);
    expect(new Set([...a.train, ...a.validation].map((s) => s.name)).size).toBe(10);
    expect(splitSamples(items.slice(0, 3), 0.1, 1).validation).toHaveLength(1);
    expect(() => splitSamples(items, 1, 1)).toThrow(/'fraction' must be in \[0, 1\)/);
  });
});
