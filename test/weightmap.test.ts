// The border weight map against the plain scipy reference (one distance transform per cell over
// the whole image), hand-computed values, PNG labels, and the weighted loss against PyTorch.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { PNG } from 'pngjs';

import { type Tensor, torch, weightMap, weightedCrossEntropy, weightmap } from '../lib';
import { readLabelPng } from '../lib/io/png';
import { runPython } from './support/python';

// A label image with discs of the given centres and radii (later discs overwrite earlier ones).
function discs(height: number, width: number, cells: [number, number, number][]): Tensor {
  const values = new Int32Array(height * width);
  cells.forEach(([cy, cx, r], k) => {
    for (let y = 0; y < height; y += 1)
      for (let x = 0; x < width; x += 1) if ((y - cy) ** 2 + (x - cx) ** 2 <= r * r) values[y * width + x] = k + 1;
  });
  return torch.tensor(values).reshape([height, width]);
}

function randomDiscs(count: number, size: number, seed: number): [number, number, number][] {
  let state = seed;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return Array.from({ length: count }, () => [Math.floor(random() * size), Math.floor(random() * size), 2 + Math.floor(random() * 6)]);
}

describe('weightMap', () => {
  test('equals the scipy reference on generated label images (≤ 1e-4)', () => {
    torch.tidy(() => {
      const cases: Record<string, { labels: Tensor; options: Parameters<typeof weightMap>[1]; python: string }> = {
        empty: { labels: torch.zeros([20, 30], { dtype: 'int32' }), options: {}, python: '{}' },
        one: { labels: discs(40, 40, [[20, 20, 6]]), options: {}, python: '{}' },
        two_touching: {
          labels: discs(48, 48, [
            [24, 16, 8],
            [24, 31, 8],
          ]),
          options: {},
          python: '{}',
        },
        two_apart: {
          labels: discs(48, 64, [
            [24, 10, 6],
            [24, 40, 6],
          ]),
          options: {},
          python: '{}',
        },
        at_borders: {
          labels: discs(40, 40, [
            [0, 0, 7],
            [39, 39, 9],
            [0, 39, 5],
          ]),
          options: {},
          python: '{}',
        },
        many: { labels: discs(128, 128, randomDiscs(60, 128, 7)), options: {}, python: '{}' },
        many_unbalanced_none: {
          labels: discs(96, 96, randomDiscs(30, 96, 8)),
          options: { classWeights: 'none', w0: 7, sigma: 3 },
          python: '{"class_weights": "none", "w0": 7, "sigma": 3}',
        },
        fixed_weights: {
          labels: discs(64, 64, randomDiscs(12, 64, 9)),
          options: { classWeights: [0.5, 2] },
          python: '{"class_weights": (0.5, 2)}',
        },
        falk2019: { labels: discs(96, 96, randomDiscs(25, 96, 10)), options: { preset: 'falk2019' }, python: '{"preset": "falk2019"}' },
        // σ 20: every cell's window is the whole image, so the windows take 20 batches of 2.
        wide_windows: { labels: discs(64, 64, randomDiscs(40, 64, 11)), options: { sigma: 20 }, python: '{"sigma": 20}' },
      };
      const ours = Object.fromEntries(Object.entries(cases).map(([name, c]) => [name, weightMap(c.labels, c.options)]));
      const theirs = runPython(
        `from reference.weightmap import weight_map, insert_gaps
options = {${Object.entries(cases)
          .map(([name, c]) => `"${name}": ${c.python}`)
          .join(', ')}}
for name, kwargs in options.items():
    labels = inputs[name].numpy()
    if kwargs.get("preset") == "falk2019":
        labels = insert_gaps(labels)
    outputs[name] = torch.from_numpy(weight_map(labels, **kwargs))`,
        Object.fromEntries(Object.entries(cases).map(([name, c]) => [name, c.labels])),
      );
      for (const name of Object.keys(cases)) {
        expect([name, ours[name]!.dtype, ours[name]!.shape]).toEqual([name, 'float32', theirs[name]!.shape]);
        const difference = ours[name]!.sub(theirs[name]!).abs().max().item() as number;
        expect([name, difference <= 1e-4]).toEqual([name, true]);
      }
    });
  });

  test('the same map, bitwise, on one thread as on all of them (the windows run in parallel)', () => {
    const threads = torch.getNumThreads();
    torch.tidy(() => {
      const cases = [discs(300, 260, randomDiscs(80, 260, 12)), discs(64, 64, randomDiscs(40, 64, 11))];
      const parallel = cases.map((labels) => weightMap(labels, { sigma: 20 }));
      try {
        torch.setNumThreads(1);
        const serial = cases.map((labels) => weightMap(labels, { sigma: 20 }));
        expect(serial.map((map, k) => map.equal(parallel[k]!))).toEqual([true, true]);
      } finally {
        torch.setNumThreads(threads);
      }
    });
  });

  test('hand-computed values on a tiny image', () => {
    torch.tidy(() => {
      // Two one-pixel cells at x = 0 and x = 4 of a 1×5 row: at x = 2, d1 = d2 = 2.
      const labels = torch.tensor([[1, 0, 0, 0, 2]], { dtype: 'int32' });
      const map = weightMap(labels, { classWeights: 'none', w0: 10, sigma: 5 }).toArray() as number[][];
      const border = (d1: number, d2: number): number => 1 + 10 * Math.exp(-((d1 + d2) ** 2) / (2 * 25));
      expect(map[0]![0]).toBe(1);
      expect(map[0]![4]).toBe(1);
      expect(map[0]![1]).toBeCloseTo(border(1, 3), 5);
      expect(map[0]![2]).toBeCloseTo(border(2, 2), 5);
      // Class balance: N / (C · n_c): 5 pixels, 2 classes, 2 cell pixels and 3 background ones.
      const balanced = weightMap(labels, { w0: 0 }).toArray() as number[][];
      expect(balanced[0]).toEqual([1.25, 5 / 6, 5 / 6, 5 / 6, 1.25].map((v) => Math.fround(v)));
      // One cell alone: no second cell, so no border term anywhere (d2 is infinite).
      const alone = weightMap(torch.tensor([[1, 0, 0]], { dtype: 'int32' }), { classWeights: 'none', w0: 10 }).toArray() as number[][];
      expect(alone[0]).toEqual([1, 1, 1]);
      for (const [w0, sigma] of [
        [Infinity, 5],
        [10, Infinity],
        [-1, 5],
        [10, 0],
      ])
        expect(() => weightMap(labels, { w0, sigma })).toThrow(
          `weightMap(): w0 must be a finite number >= 0 and sigma a finite number > 0, got w0 ${w0}, sigma ${sigma}`,
        );
    });
  });

  test('a class mask is split into cells by connected components (4 or 8), and gaps can be inserted', () => {
    torch.tidy(() => {
      const mask = torch.tensor([
        [1, 1, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 1, 1],
        [0, 0, 1, 1],
      ]);
      expect(weightmap.instancesOf(mask, { input: 'mask' }).toArray()).toEqual([
        [1, 1, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 2, 2],
        [0, 0, 2, 2],
      ]);
      expect(weightmap.instancesOf(mask, { input: 'mask', connectivity: 8 }).toArray()).toEqual([
        [1, 1, 0, 0],
        [1, 1, 0, 0],
        [0, 0, 1, 1],
        [0, 0, 1, 1],
      ]);
      const touching = torch.tensor([
        [1, 1, 2, 2],
        [1, 1, 2, 2],
      ]);
      expect(weightmap.insertGaps(touching).toArray()).toEqual([
        [1, 1, 0, 2],
        [1, 1, 0, 2],
      ]);
    });
  });

  test('8- and 16-bit PNG labels are read; RGB and float labels are refused', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-torch-png-'));
    try {
      const write = (name: string, options: { bitDepth: 8 | 16; colorType: 0 | 2; inputColorType: 0 | 2 }, values: number[]): string => {
        const png = new PNG({ width: 3, height: 2, ...options, inputHasAlpha: false });
        png.data = (
          options.bitDepth === 16
            ? Buffer.from(new Uint16Array(values.flatMap((v) => (options.inputColorType === 2 ? [v, v, v] : [v]))).buffer)
            : Buffer.from(values.flatMap((v) => (options.inputColorType === 2 ? [v, v, v] : [v])))
        ) as Buffer;
        const file = path.join(folder, name);
        fs.writeFileSync(file, PNG.sync.write(png, options));
        return file;
      };
      torch.tidy(() => {
        expect(readLabelPng(write('a8.png', { bitDepth: 8, colorType: 0, inputColorType: 0 }, [0, 1, 2, 0, 255, 3])).toArray()).toEqual([
          [0, 1, 2],
          [0, 255, 3],
        ]);
        expect(
          readLabelPng(write('a16.png', { bitDepth: 16, colorType: 0, inputColorType: 0 }, [0, 300, 2, 0, 65535, 3])).toArray(),
        ).toEqual([
          [0, 300, 2],
          [0, 65535, 3],
        ]);
        const rgb = write('rgb.png', { bitDepth: 8, colorType: 2, inputColorType: 2 }, [0, 1, 2, 0, 1, 2]);
        expect(() => readLabelPng(rgb)).toThrow(/a RGB image is not a label image/);
        expect(() => weightMap(torch.rand([4, 4]))).toThrow(/argument 'labels' must hold integer labels, got dtype float32/);
        expect(() => weightMap(torch.zeros([2, 3, 4], { dtype: 'int32' }).unsqueeze(0))).toThrow(/must be one 2-d label image/);
        expect(() => weightMap(torch.zeros([0, 4], { dtype: 'int32' }))).toThrow(/is empty/);
      });
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('weightedCrossEntropy', () => {
  test('equals cross_entropy(reduction="none") × weights in PyTorch, with its gradient, cropping and ignore label', () => {
    torch.manualSeed(61);
    torch.tidy(() => {
      const logits = torch.randn([2, 3, 8, 8], { dtype: 'float64', requiresGrad: true });
      const target = torch.randint(0, 3, [2, 12, 12]);
      target.indexPut_([0, '0:5', '0:5'], 1);
      const weights = torch.rand([2, 12, 12], { dtype: 'float64' }).add(0.5);
      const ours = (['mean', 'weightedMean', 'sum'] as const).map((reduction) =>
        weightedCrossEntropy(logits, target, weights, { reduction, ignoreIndex: 1 }),
      );
      const none = weightedCrossEntropy(logits, target, weights, { reduction: 'none', ignoreIndex: 1 });
      const grads = torch.autograd.grad(
        ours.reduce((a, b) => a.add(b)),
        [logits],
      );
      const theirs = runPython(
        `import torch.nn.functional as F
logits = inputs["logits"].requires_grad_(True)
t = inputs["target"][:, 2:10, 2:10]
w = inputs["weights"][:, 2:10, 2:10]
per = F.cross_entropy(logits, t, reduction="none", ignore_index=1) * w
counted = (t != 1)
mean = per.sum() / counted.sum()
weighted = per.sum() / (w * counted).sum()
total = per.sum()
outputs["mean"], outputs["weightedMean"], outputs["sum"], outputs["none"] = mean, weighted, total, per
outputs["grad"], = torch.autograd.grad(mean + weighted + total, [logits])`,
        { logits: logits.detach(), target, weights },
      );
      const close = (a: Tensor, b: Tensor): boolean =>
        (a.sub(b).abs().max().item() as number) <= 1e-12 * Math.max(1, b.abs().max().item() as number);
      expect(close(ours[0]!, theirs.mean!)).toBe(true);
      expect(close(ours[1]!, theirs.weightedMean!)).toBe(true);
      expect(close(ours[2]!, theirs.sum!)).toBe(true);
      expect(close(none, theirs.none!)).toBe(true);
      expect(close(grads[0]!, theirs.grad!)).toBe(true);
    });
  });

  test('mismatched sizes and bad weights are refused, naming the argument', () => {
    torch.tidy(() => {
      const logits = torch.randn([1, 2, 8, 8]);
      const target = torch.zeros([1, 8, 8], { dtype: 'int64' });
      expect(() => weightedCrossEntropy(logits, target, torch.ones([1, 7, 7]))).toThrow(
        /argument 'weights' must be \(N, H, W\) with N = 1 and H, W at least the logits' 8×8/,
      );
      expect(() => weightedCrossEntropy(logits, torch.zeros([2, 8, 8], { dtype: 'int64' }), torch.ones([1, 8, 8]))).toThrow(
        /argument 'target' must be \(N, H, W\) with N = 1/,
      );
      expect(() => weightedCrossEntropy(logits, target, torch.ones([1, 8, 8]).neg())).toThrow(
        /argument 'weights' holds negative or NaN values/,
      );
      expect(() => weightedCrossEntropy(logits, target, torch.full([1, 8, 8], NaN))).toThrow(/negative or NaN/);
      expect(() => weightedCrossEntropy(logits, target, torch.ones([1, 8, 8]), { reduction: 'avg' as 'mean' })).toThrow(
        /option 'reduction' must be one of/,
      );
    });
  });
});
