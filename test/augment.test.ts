// Augmentation: identity, exact flips and quarter turns, agreement with the scipy reference,
// labels that keep their ids, displacement statistics, seeds independent of the batch and the
// device, gray values, field files and errors.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { augment, type Tensor, torch } from '../lib';
import { syntheticCells } from '../lib/data/synthetic';
import { readLabelPng, writeGrayPng, writeLabelPng } from '../lib/io/png';
import type { SampleTransform } from '../lib/augment';
import { resampleWithTorchOps } from '../lib/augment/resample';
import { native } from '../lib/native';
import { info } from '../lib/runtime';
import { runPython } from './support/python';

const NEUTRAL: SampleTransform = {
  controlPoints: null,
  angle: 0,
  flipY: false,
  flipX: false,
  shiftY: 0,
  shiftX: 0,
  scale: 1,
  brightness: 0,
  contrast: 1,
  gamma: 1,
  noiseStd: 0,
  noiseSeed: 0,
};

function fieldOf(transform: Partial<SampleTransform>, h: number, w: number): Tensor {
  return augment.transformField([{ ...NEUTRAL, ...transform }], h, w);
}

describe('elastic deformation and the composed transforms', () => {
  test('σ = 0 and no other transform is the identity: bitwise for nearest, within 1e-6 for bicubic and bilinear', () => {
    torch.manualSeed(71);
    torch.tidy(() => {
      const image = torch.rand([2, 1, 40, 52]);
      const label = torch.randint(0, 9, [2, 40, 52]).to('int32');
      const weights = torch.rand([2, 40, 52]);
      const out = augment.augmentBatch({ image, label, weights }, [1, 2], { elastic: { sigma: 0 } });
      expect(out.field.abs().max().item()).toBe(0);
      expect(out.label!.equal(label)).toBe(true);
      expect(out.image.sub(image).abs().max().item()).toBeLessThanOrEqual(1e-6);
      expect(out.weights!.sub(weights).abs().max().item()).toBeLessThanOrEqual(1e-6);
      expect(augment.applyField(image, out.field, 'nearest').equal(image)).toBe(true);
    });
  });

  test('flips and quarter turns move pixels exactly', () => {
    torch.manualSeed(72);
    torch.tidy(() => {
      const image = torch.rand([1, 1, 33, 33]);
      const flippedX = augment.applyField(image, fieldOf({ flipX: true }, 33, 33), 'bicubic');
      expect(flippedX.equal(image.flip([3]))).toBe(true);
      const flippedY = augment.applyField(image, fieldOf({ flipY: true }, 33, 33), 'bilinear');
      expect(flippedY.equal(image.flip([2]))).toBe(true);
      // A positive angle turns the content clockwise on screen (torch.rot90 with k = -1).
      const turned = augment.applyField(image, fieldOf({ angle: Math.PI / 2 }, 33, 33), 'nearest');
      expect(turned.equal(image.flip([2]).transpose(2, 3))).toBe(true);
      const shifted = augment.applyField(image, fieldOf({ shiftX: 3 }, 33, 33), 'nearest');
      expect(shifted.narrow(3, 0, 30).equal(image.narrow(3, 3, 30))).toBe(true);
    });
  });

  test('a field applied here and by scipy map_coordinates (mirror) agrees: images to 2% of the range (0.2% on average), labels on ≥ 99.5% of pixels; PyTorch grid_sample (float64) to 2e-6 of the range', () => {
    const { image, label } = syntheticCells(5, { height: 160, width: 144, noise: 0 });
    const transform = augment.drawTransform(9, { rotation: 30, scale: [0.9, 1.1], shift: 5, flip: true });
    const field = augment.transformField([transform], 160, 144).squeeze(0);
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-augment-'));
    try {
      // The field goes through the .npy file, as a user would hand it to scipy.
      augment.saveField(path.join(folder, 'field.npy'), field);
      const loaded = augment.loadField(path.join(folder, 'field.npy'));
      expect(loaded.equal(field)).toBe(true);
      const out = runPython(
        `
import numpy as np
from reference.augment import apply_field
field = inputs["field"].numpy().astype(np.float64)
outputs["image"] = torch.from_numpy(apply_field(inputs["image"].numpy(), field, 3))
outputs["label"] = torch.from_numpy(apply_field(inputs["label"].numpy(), field, 0))
outputs["weights"] = torch.from_numpy(apply_field(inputs["image"].numpy(), field, 1))
h, w = field.shape[:2]
ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
grid = torch.from_numpy(np.stack([(xs + field[..., 1]) * 2 / (w - 1) - 1, (ys + field[..., 0]) * 2 / (h - 1) - 1], -1))[None]
image = inputs["image"].double()[None, None]
outputs["gridSample"] = torch.nn.functional.grid_sample(image, grid, mode="bicubic", padding_mode="reflection", align_corners=True)[0, 0].float()
`,
        { field: loaded, image: image.squeeze(0), label },
      );
      const ours = augment.applyField(image.unsqueeze(0), loaded.unsqueeze(0), 'bicubic').squeeze(0).squeeze(0);
      const range = (image.max().item() as number) - (image.min().item() as number);
      // Keys' cubic convolution (a = -0.75, PyTorch's) against scipy's cubic B-spline: equal on
      // ramps, apart by up to 2% of the range next to one-pixel features (membranes, texture);
      // against grid_sample in float64, the same kernel, the difference is the rounding of float32
      // weights and sums: a few float32 ulps of the range.
      const difference = ours.sub(out.image!).abs().div(range);
      expect(difference.mean().item()).toBeLessThanOrEqual(0.002);
      expect(difference.max().item()).toBeLessThanOrEqual(0.02);
      expect(ours.sub(out.gridSample!).abs().max().item()).toBeLessThanOrEqual(2e-6 * range);
      const linear = augment.applyField(image.unsqueeze(0), loaded.unsqueeze(0), 'bilinear').squeeze(0).squeeze(0);
      expect(linear.sub(out.weights!).abs().max().item()).toBeLessThanOrEqual(1e-5);
      const labels = augment.applyField(label.unsqueeze(0).unsqueeze(0), loaded.unsqueeze(0), 'nearest').squeeze(0).squeeze(0);
      const differing = labels.ne(out.label!.to('int32')).sum().item() as number;
      expect(differing / label.numel()).toBeLessThanOrEqual(0.005);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
      torch.dispose([image, label, field]);
    }
  });

  test('applyFieldTo resamples several tensors through one field exactly as applyField does one by one', () => {
    torch.tidy(() => {
      const transforms = [3, 4].map((seed) => augment.drawTransform(seed, { rotation: 180, flip: true, shift: 40 }));
      const field = augment.transformField(transforms, 37, 53);
      const image = torch.rand([2, 2, 37, 53], { dtype: 'float64' });
      const label = torch.randint(0, 9, [2, 1, 37, 53]);
      const weights = torch.rand([2, 1, 37, 53]);
      const together = augment.applyFieldTo(field, [
        { input: image, mode: 'bicubic' },
        { input: label, mode: 'nearest' },
        { input: weights, mode: 'bilinear' },
      ]);
      expect(together[0]!.equal(augment.applyField(image, field, 'bicubic'))).toBe(true);
      expect(together[1]!.equal(augment.applyField(label, field, 'nearest'))).toBe(true);
      expect(together[2]!.equal(augment.applyField(weights, field, 'bilinear'))).toBe(true);
      expect(together.map((tensor) => tensor.dtype)).toEqual(['float64', 'int64', 'float32']);
      expect(() =>
        augment.applyFieldTo(field, [
          { input: image, mode: 'bicubic' },
          { input: torch.zeros([2, 1, 37, 52]), mode: 'nearest' },
        ]),
      ).toThrow(/applyFieldTo\(\): argument 'field' must be \(N, H, W, 2\) = \[2, 37, 52, 2\]/);
      expect(() => augment.applyFieldTo(field, [{ input: label, mode: 'bilinear' }])).toThrow(/needs a floating 'targets\[0\].input'/);
    });
  });

  test('labels hold only ids of the input, whatever the transform', () => {
    torch.tidy(() => {
      const label = torch.randint(0, 5, [2, 64, 64]).mul(7).to('int32');
      const out = augment.augmentBatch({ image: torch.rand([2, 1, 64, 64]), label }, [3, 4], {
        rotation: 180,
        scale: [0.7, 1.4],
        shift: 10,
        flip: true,
      });
      expect(out.label!.dtype).toBe('int32');
      const ids = new Set(label.flatten().toArray() as number[]);
      expect((out.label!.flatten().toArray() as number[]).every((id) => ids.has(id))).toBe(true);
      expect(out.label!.equal(label)).toBe(false);
    });
  });

  test('over 1,000 seeds the control-point displacements have mean ≈ 0 and standard deviation ≈ σ', () => {
    const points = Array.from({ length: 1000 }, (_, seed) => augment.drawTransform(seed).controlPoints!.flat(2)).flat();
    const mean = points.reduce((a, b) => a + b, 0) / points.length;
    const std = Math.sqrt(points.reduce((a, b) => a + (b - mean) ** 2, 0) / points.length);
    expect(points.length).toBe(18000);
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(Math.abs(std - 10)).toBeLessThan(0.3);
    torch.tidy(() => {
      // On a 3 × 3 tile the align-corners interpolation returns the control points themselves.
      const field = augment.elasticField(7, 3, 3);
      const [dy, dx] = augment.drawTransform(7).controlPoints!;
      expect(field.select(2, 0).sub(torch.tensor(dy!)).abs().max().item()).toBeLessThan(1e-5);
      expect(field.select(2, 1).sub(torch.tensor(dx!)).abs().max().item()).toBeLessThan(1e-5);
    });
  });

  test('each sample depends on its own seed only, whatever the batch (noise included)', () => {
    torch.manualSeed(73);
    torch.tidy(() => {
      const image = torch.rand([3, 2, 48, 40]);
      const label = torch.randint(0, 4, [3, 48, 40]).to('int32');
      const options = { rotation: 45, flip: true, brightness: 0.1, contrast: 0.2, gamma: 0.3, noise: 0.05 };
      const batched = augment.augmentBatch({ image, label }, [11, 12, 13], options);
      const alone = augment.augmentBatch({ image: image.narrow(0, 1, 1), label: label.narrow(0, 1, 1) }, [12], options);
      expect(batched.image.narrow(0, 1, 1).equal(alone.image)).toBe(true);
      expect(batched.label!.narrow(0, 1, 1).equal(alone.label!)).toBe(true);
      expect(batched.field.narrow(0, 1, 1).equal(alone.field)).toBe(true);
    });
  });

  test('gray values: gamma, contrast about the mean, brightness and noise as drawn', () => {
    torch.manualSeed(74);
    torch.tidy(() => {
      const image = torch.rand([2, 1, 64, 64]);
      const transforms = [
        { ...NEUTRAL, gamma: 1.5, contrast: 1.2, brightness: 0.1 },
        { ...NEUTRAL, noiseStd: 0.1, noiseSeed: 5 },
      ];
      const out = augment.adjustGray(image, transforms);
      const first = image.narrow(0, 0, 1).pow(1.5);
      const expected = first.sub(first.mean()).mul(1.2).add(first.mean()).add(0.1);
      expect(out.narrow(0, 0, 1).sub(expected).abs().max().item()).toBeLessThan(1e-5);
      const noise = out.narrow(0, 1, 1).sub(image.narrow(0, 1, 1));
      expect(Math.abs((noise.std().item() as number) - 0.1)).toBeLessThan(0.005);
      expect(augment.adjustGray(image, transforms).equal(out)).toBe(true);
    });
  });

  const cudaTest = torch.cuda.isAvailable() ? test : test.skip;
  cudaTest('the same seeds give the same batch on CUDA as on the CPU', () => {
    const device = 'cuda';
    torch.manualSeed(75);
    torch.tidy(() => {
      const { image, label } = syntheticCells(3, { height: 96, width: 96 });
      const batch = { image: image.unsqueeze(0), label: label.unsqueeze(0), weights: image };
      const options = { rotation: 90, flip: true, scale: [0.8, 1.2] as [number, number], noise: 0.02 };
      const cpu = augment.augmentBatch(batch, [21], options);
      const gpu = augment.augmentBatch(
        { image: batch.image.to(device), label: batch.label.to(device), weights: batch.weights.to(device) },
        [21],
        options,
      );
      expect(gpu.field.cpu().equal(cpu.field)).toBe(true);
      expect(gpu.image.cpu().sub(cpu.image).abs().max().item()).toBeLessThan(1e-4);
      expect(gpu.weights!.cpu().sub(cpu.weights!).abs().max().item()).toBeLessThan(1e-4);
      expect((gpu.label!.cpu().ne(cpu.label!).sum().item() as number) / label.numel()).toBeLessThan(1e-3);
      const broken = gpu.field.clone();
      broken.indexPut_([0, 5, 5, 0], NaN);
      expect(() => augment.applyField(gpu.image, broken, 'bicubic')).toThrow(/must hold finite displacements, found NaN or infinity/);
    });
  });

  test('CUDA resampling: the fused kernel where nvcc built it, torch ops otherwise, and unet info says which', () => {
    const built = native.cudaKernelsBuilt();
    expect(augment.cudaResampling()).toBe(built ? 'fused kernel' : 'torch ops');
    const facts = info();
    expect(facts.cudaKernels).toBe(built);
    if (built) expect(facts.cudaKernelsMissing).toBeNull();
    else {
      expect(facts.cudaKernelsMissing).toMatch(/\w/);
      // Never called without the kernels; if it were, it says so.
      torch.tidy(() => {
        expect(() => native.remapCuda([torch.zeros([1, 1, 4, 4])], torch.zeros([1, 4, 4, 2]), ['nearest'])).toThrow(
          /remapCuda\(\): this addon was built without its CUDA kernels/,
        );
      });
    }
  });

  const fusedTest = torch.cuda.isAvailable() && native.cudaKernelsBuilt() ? test : test.skip;
  fusedTest('the fused CUDA kernel agrees with torch ops on CUDA and the CPU kernel to float32 rounding, far outside the image too', () => {
    torch.manualSeed(76);
    torch.tidy(() => {
      const [n, h, w] = [3, 61, 47];
      // Rotations, flips and shifts of up to 3 images: points mirror once, and several times.
      const transforms = [5, 6, 7].map((seed) => augment.drawTransform(seed, { rotation: 180, flip: true, shift: 150, scale: [0.5, 2] }));
      const field = augment.transformField(transforms, h, w);
      const targets: augment.FieldTarget[] = [
        { input: torch.rand([n, 2, h, w]), mode: 'bicubic' },
        { input: torch.rand([n, 1, h, w], { dtype: 'float64' }), mode: 'bicubic' },
        { input: torch.randint(0, 1000, [n, 1, h, w]), mode: 'nearest' },
        { input: torch.randint(0, 200, [n, 1, h, w]).to('uint8'), mode: 'nearest' },
        { input: torch.rand([n, 1, h, w]), mode: 'bilinear' },
      ];
      const onGpu = targets.map((target) => ({ input: target.input.cuda(), mode: target.mode }));
      const fused = augment.applyFieldTo(field.cuda(), onGpu);
      const torchOps = resampleWithTorchOps(field.cuda(), onGpu);
      const cpu = augment.applyFieldTo(field, targets);
      fused.forEach((result, k) => {
        expect([k, result.dtype, result.device]).toEqual([k, targets[k]!.input.dtype, 'cuda:0']);
        for (const other of [torchOps[k]!.cpu(), cpu[k]!]) {
          if (targets[k]!.mode === 'nearest') {
            const share = (result.cpu().ne(other).sum().item() as number) / result.numel();
            expect([k, share < 1e-3]).toEqual([k, true]);
          } else expect([k, (result.cpu().sub(other).abs().max().item() as number) < 1e-5]).toEqual([k, true]);
        }
      });
    });
  });

  fusedTest('fields composed on the GPU by the CUDA kernel are the CPU fields, bit for bit, in every shape', () => {
    torch.tidy(() => {
      const cases: [augment.AugmentOptions, number, number][] = [
        [{ rotation: 180, flip: true, shift: 20, scale: [0.7, 1.4] }, 572, 572],
        [{ elastic: { grid: [5, 4], sigma: 30 }, rotation: 45 }, 61, 47],
        [{ elastic: false, rotation: 30 }, 33, 90],
        [{ elastic: { grid: [2, 2] } }, 1, 7],
      ];
      for (const [options, h, w] of cases) {
        const transforms = [1, 2, 3].map((seed) => augment.drawTransform(seed, options));
        const cpu = augment.transformField(transforms, h, w);
        const gpu = augment.transformField(transforms, h, w, 'cuda');
        expect([h, w, gpu.device, gpu.cpu().equal(cpu)]).toEqual([h, w, 'cuda:0', true]);
      }
    });
  });

  test('bad options, sizes and files are refused with the argument named', () => {
    torch.tidy(() => {
      const image = torch.rand([1, 1, 10, 10]);
      expect(() => augment.elasticField(1, 10, 10, { grid: [1, 3] })).toThrow(/option 'grid' must be at least 2 × 2/);
      expect(() => augment.elasticField(1, 10, 10, { sigma: -1 })).toThrow(/option 'sigma' must be >= 0/);
      expect(() => augment.augmentBatch({ image }, [1], { rotation: -5 })).toThrow(/option 'rotation' must be a finite number >= 0/);
      expect(() => augment.augmentBatch({ image }, [1], { scale: [1.2, 0.8] })).toThrow(/option 'scale' must be \[min, max\]/);
      expect(() => augment.augmentBatch({ image }, [1], { rotate: 5 } as never)).toThrow(/option 'rotate' must be one of/);
      expect(() => augment.augmentBatch({ image, label: torch.zeros([1, 10, 9]) }, [1])).toThrow(
        /'label' must be \(N, H, W\) = \[1, 10, 10\]/,
      );
      expect(() => augment.augmentBatch({ image, weights: torch.zeros([2, 10, 10]) }, [1])).toThrow(/'weights' must be \(N, H, W\)/);
      expect(() => augment.augmentBatch({ image }, [1, 2])).toThrow(/'seeds' must hold one integer per sample \(1\)/);
      expect(() => augment.applyField(image, torch.zeros([1, 9, 10, 2]), 'bilinear')).toThrow(
        /argument 'field' must be \(N, H, W, 2\) = \[1, 10, 10, 2\]/,
      );
      expect(() => augment.applyField(torch.zeros([1, 1, 10, 10], { dtype: 'int32' }), torch.zeros([1, 10, 10, 2]), 'bicubic')).toThrow(
        /needs a floating 'input'/,
      );
      expect(() => augment.applyField(image, torch.zeros([1, 10, 10, 2]), 'cubic' as never)).toThrow(/argument 'mode' must be one of/);
      for (const bad of [NaN, Infinity]) {
        const field = torch.zeros([1, 10, 10, 2]);
        field.indexPut_([0, 3, 4, 1], bad);
        expect(() => augment.applyField(image, field, 'bicubic')).toThrow(/field must hold finite displacements, found NaN or infinity/);
      }
      // Far beyond the image but finite: mirrored as often as needed, into the image.
      const far = augment.applyField(image, torch.full([1, 10, 10, 2], 1e30), 'nearest');
      expect(far.min().item()).toBeGreaterThanOrEqual(image.min().item() as number);
      expect(far.max().item()).toBeLessThanOrEqual(image.max().item() as number);
    });
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-augment-'));
    try {
      const file = path.join(folder, 'not-a-field.npy');
      torch.tidy(() => torch.saveNpy(file, torch.zeros([4, 4, 3])));
      expect(() => augment.loadField(file)).toThrow(/must hold a floating \(H, W, 2\) field/);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('unet augment', () => {
  const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

  test('writes the deformed image, label, weight map, field and a preview; the label keeps its ids', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-augment-cli-'));
    try {
      const { image, label } = syntheticCells(8, { height: 96, width: 112 });
      writeGrayPng(path.join(folder, 'image.png'), image.squeeze(0));
      writeLabelPng(path.join(folder, 'label.png'), label);
      const out = path.join(folder, 'out');
      const text = execFileSync(
        process.execPath,
        [
          cli,
          'augment',
          path.join(folder, 'image.png'),
          path.join(folder, 'label.png'),
          '--seed',
          '4',
          '--rotation',
          '30',
          '--flip',
          '--field',
          '--out',
          out,
        ],
        { encoding: 'utf8' },
      );
      expect(text).toMatch(/112×96, seed 4, elastic σ 10, rotation/);
      for (const file of ['image.png', 'label.png', 'weights.png', 'preview.png', 'field.npy'])
        expect(fs.existsSync(path.join(out, file))).toBe(true);
      const deformed = readLabelPng(path.join(out, 'label.png'));
      const ids = new Set(label.flatten().toArray() as number[]);
      expect((deformed.flatten().toArray() as number[]).every((id) => ids.has(id))).toBe(true);
      const field = augment.loadField(path.join(out, 'field.npy'));
      expect(field.shape).toEqual([96, 112, 2]);
      // The written field reproduces the written label.
      const again = augment.applyField(label.unsqueeze(0).unsqueeze(0), field.unsqueeze(0), 'nearest').squeeze(0).squeeze(0);
      expect(again.equal(deformed)).toBe(true);
      torch.dispose([image, label, deformed, field, again]);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  test('mismatched sizes and bad options are clear errors', () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-augment-cli-'));
    try {
      torch.tidy(() => {
        writeGrayPng(path.join(folder, 'image.png'), torch.rand([20, 30]));
        writeLabelPng(path.join(folder, 'label.png'), torch.zeros([20, 31], { dtype: 'int32' }));
      });
      const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'augment', ...args], { encoding: 'utf8' });
      const mismatch = run(path.join(folder, 'image.png'), path.join(folder, 'label.png'), '--out', folder);
      expect(mismatch.status).toBe(1);
      expect(mismatch.stderr).toMatch(/label.png is 31×20 but .*image.png is 30×20/);
      expect(run(path.join(folder, 'image.png'), '--sigma=-2', '--out', folder).stderr).toMatch(/option 'sigma' must be >= 0/);
      expect(run(path.join(folder, 'image.png'), '--grid', '1', '--out', folder).stderr).toMatch(/option 'grid' must be at least 2 × 2/);
      expect(run(path.join(folder, 'image.png'), '--rotation', 'lots', '--out', folder).stderr).toMatch(
        /--rotation must be a number, got 'lots'/,
      );
      expect(run(path.join(folder, 'missing.png'), '--out', folder).stderr).toMatch(/missing.png: cannot read \(ENOENT/);
    } finally {
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });
});
