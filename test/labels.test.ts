// Label images: components, size filters, seeded growth, borders between touching cells; the
// training targets built from them; post-processing of probabilities into cells.
import { type Tensor, torch, weightMap } from '../lib';
import { trainingTargets } from '../lib/data/targets';
import { areas, connectedComponents, gaussianSmooth, growSeeds, labelValues, removeSmallObjects, touchingBorders } from '../lib/labels';
import { normaliseImage } from '../lib/data/normalise';
import { labelsFromProbabilities, notMembraneProbability } from '../lib/predict/instances';
import { runPython } from './support/python';

const ids = (rows: number[][]): Tensor => torch.tensor(rows, { dtype: 'int32' });
const rows = (values: ArrayLike<number>, width: number): number[][] =>
  Array.from({ length: values.length / width }, (_, y) => Array.from(values).slice(y * width, (y + 1) * width));

describe('label helpers', () => {
  test('components, areas and the size filter', () => {
    torch.tidy(() => {
      const mask = ids([
        [1, 1, 0, 1],
        [0, 0, 0, 1],
        [1, 0, 1, 1],
      ]);
      const four = labelValues(connectedComponents(mask));
      expect(rows(four, 4)).toEqual([
        [1, 1, 0, 2],
        [0, 0, 0, 2],
        [3, 0, 2, 2],
      ]);
      expect(areas(four)).toEqual([5, 2, 4, 1]);
      expect(
        rows(
          labelValues(
            connectedComponents(
              ids([
                [1, 0],
                [0, 1],
              ]),
              8,
            ),
          ),
          2,
        ),
      ).toEqual([
        [1, 0],
        [0, 1],
      ]);
      expect(rows(removeSmallObjects(four, 2), 4)).toEqual([
        [1, 1, 0, 2],
        [0, 0, 0, 2],
        [0, 0, 2, 2],
      ]);
      expect(() => connectedComponents(mask, 6 as never)).toThrow(/option 'connectivity' must be 4 or 8, got 6/);
    });
  });

  test('seeds grow along paths inside the allowed pixels, nearest seed first', () => {
    const seeds = Int32Array.from([1, 0, 0, 0, 2, 0, 0, 0, 0, 0]);
    const allowed = Uint8Array.from([1, 1, 1, 1, 1, 0, 1, 1, 0, 1]);
    // Row of 5 then a second row: pixel 2 is 2 steps from seed 1 and 2 from seed 2 (first come, first served).
    expect(Array.from(growSeeds(seeds, allowed, 2, 5))).toEqual([1, 1, 1, 2, 2, 0, 1, 1, 0, 2]);
  });

  test('borders where touching cells meet, within a width', () => {
    const labels = Int32Array.from([1, 1, 2, 2, 0, 1, 1, 2, 0, 3]);
    expect(Array.from(touchingBorders(labels, 2, 5, 1))).toEqual([0, 1, 1, 1, 0, 0, 1, 1, 0, 1]);
    expect(Array.from(touchingBorders(labels, 2, 5, 2))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 0, 1]);
  });
});

describe('training targets', () => {
  test('borders: a third class where cells touch, weighted by the border term of the interiors', () => {
    torch.tidy(() => {
      const cells = ids([
        [1, 1, 1, 2, 2, 2],
        [1, 1, 1, 2, 2, 2],
        [0, 0, 0, 0, 0, 0],
      ]);
      const { target, weights, instances } = trainingTargets(cells, 'instances', 3, { target: 'borders', borderWidth: 1 });
      expect(target.toArray()).toEqual([
        [1, 1, 2, 2, 1, 1],
        [1, 1, 2, 2, 1, 1],
        [0, 0, 0, 0, 0, 0],
      ]);
      expect(instances.equal(cells)).toBe(true);
      const interiors = ids([
        [1, 1, 0, 0, 2, 2],
        [1, 1, 0, 0, 2, 2],
        [0, 0, 0, 0, 0, 0],
      ]);
      expect(weights.equal(weightMap(interiors))).toBe(true);
      expect(() => trainingTargets(cells, 'instances', 2, { target: 'borders' })).toThrow(
        /train a 3-class network with the 'borders' target, not 2 classes/,
      );
    });
  });

  test('gaps and weight kinds', () => {
    torch.tidy(() => {
      const cells = ids([
        [1, 1, 2, 2],
        [1, 1, 2, 2],
        [0, 0, 0, 0],
      ]);
      const gapped = trainingTargets(cells, 'instances', 2, { gaps: true, weights: 'falk2019' });
      expect(gapped.target.toArray()).toEqual([
        [1, 1, 0, 1],
        [1, 1, 0, 1],
        [0, 0, 0, 0],
      ]);
      expect(
        gapped.weights.equal(
          weightMap(
            ids([
              [1, 1, 0, 2],
              [1, 1, 0, 2],
              [0, 0, 0, 0],
            ]),
            { preset: 'falk2019', insertGaps: false },
          ),
        ),
      ).toBe(true);
      expect(trainingTargets(cells, 'instances', 2, { weights: 'none' }).weights.eq(1).all().item()).toBe(true);
      const balance = trainingTargets(cells, 'instances', 2, { weights: 'balance' }).weights;
      // N / (C · n_c): 12 / (2 · 4) on background, 12 / (2 · 8) on cells, no border term.
      expect(balance.toArray()).toEqual([
        [0.75, 0.75, 0.75, 0.75],
        [0.75, 0.75, 0.75, 0.75],
        [1.5, 1.5, 1.5, 1.5],
      ]);
      expect(trainingTargets(cells, 'instances', 2, { w0: 3, sigma: 2 }).weights.equal(weightMap(cells, { w0: 3, sigma: 2 }))).toBe(true);
      expect(() => trainingTargets(cells, 'instances', 2, { weights: 'heavy' as never })).toThrow(
        /option 'weights' must be one of paper, falk2019, balance, none, got "heavy"/,
      );
      expect(() => trainingTargets(cells, 'instances', 3, { target: 'borders', gaps: true })).toThrow(
        /option 'gaps' applies to the 'cells' target/,
      );
    });
  });

  test('normalisations: z-score, min/max and percentiles', () => {
    torch.tidy(() => {
      const image = torch.arange(0, 1000, 1, { dtype: 'float32' }).reshape([1, 10, 100]);
      const minmax = normaliseImage(image, 'minmax');
      expect(minmax.min().item()).toBe(0);
      expect(minmax.max().item()).toBe(1);
      const percentile = normaliseImage(image, 'percentile');
      // The 1st percentile (value 10) goes to 0, the 99.8th (997) to 1.
      expect(percentile.select(2, 10).select(1, 0).item()).toBeCloseTo(0, 6);
      expect(percentile.select(2, 97).select(1, 9).item()).toBeCloseTo(1, 6);
      expect(Math.abs(normaliseImage(image).mean().item() as number)).toBeLessThan(1e-4);
      expect(() => normaliseImage(image, 'max' as never)).toThrow(/'mode' must be one of zscore, minmax, percentile/);
    });
  });
});

describe('post-processing into cells', () => {
  test('cells: threshold and minimum size; borders: interiors grown over the border class', () => {
    torch.tidy(() => {
      // Background probability per pixel of a 1 × 6 image; p(cell) = 1 - p(background).
      const background = torch.tensor([[0.9, 0.2, 0.45, 0.9, 0.3, 0.3]]);
      const probabilities = torch.stack([background, torch.ones([1, 6]).sub(background)]);
      expect(labelsFromProbabilities(probabilities, { kind: 'cells' }).toArray()).toEqual([[0, 1, 1, 0, 2, 2]]);
      expect(labelsFromProbabilities(probabilities, { kind: 'cells', threshold: 0.6 }).toArray()).toEqual([[0, 1, 0, 0, 2, 2]]);
      expect(labelsFromProbabilities(probabilities, { kind: 'cells', minSize: 2 }).toArray()).toEqual([[0, 1, 1, 0, 2, 2]]);
      expect(labelsFromProbabilities(probabilities, { kind: 'cells', threshold: 0.6, minSize: 2 }).toArray()).toEqual([[0, 0, 0, 0, 1, 1]]);
      // Borders: classes (background, cell, border); two interiors separated by a border pixel.
      const p = torch.tensor([[[0.1, 0.1, 0.1, 0.1, 0.1, 0.9]], [[0.8, 0.6, 0.1, 0.7, 0.8, 0.05]], [[0.1, 0.3, 0.8, 0.2, 0.1, 0.05]]]);
      expect(labelsFromProbabilities(p, { kind: 'borders' }).toArray()).toEqual([[1, 1, 1, 2, 2, 0]]);
      expect(() => labelsFromProbabilities(p, { kind: 'cells' })).toThrow(/'cells' needs a network with 2 classes, this one has 3/);
      expect(() => labelsFromProbabilities(p, { kind: 'borders', minSize: -1 })).toThrow(/option 'minSize' must be an integer >= 0/);
    });
  });

  test('cells grown from seeds equal scikit-image watershed with a flat landscape where no tie arises', () => {
    // A 3-class map of two touching discs: the seeds grow to the same cells as skimage's
    // watershed of the distance to the seeds (unambiguous away from the middle line).
    const h = 24;
    const w = 40;
    const p = torch.tidy(() => {
      const y = torch.arange(0, h, 1).reshape([h, 1]).expand([h, w]).to('float32');
      const x = torch.arange(0, w, 1).reshape([1, w]).expand([h, w]).to('float32');
      const d1 = y.sub(12).pow(2).add(x.sub(12).pow(2)).sqrt();
      const d2 = y.sub(12).pow(2).add(x.sub(27).pow(2)).sqrt();
      const inside = d1.lt(10).logicalOr(d2.lt(9));
      const border = d1.lt(10).logicalAnd(d2.lt(9));
      const cell = inside.logicalAnd(border.logicalNot());
      return torch.stack([inside.logicalNot(), cell, border]).to('float32');
    });
    const ours = labelsFromProbabilities(p, { kind: 'borders' });
    const out = runPython(
      `
import numpy as np
from scipy import ndimage
from skimage.segmentation import watershed
p = inputs["p"].numpy()
seeds, _ = ndimage.label(p.argmax(0) == 1)
mask = p[0] < 0.5
distance = ndimage.distance_transform_cdt(seeds == 0, metric="taxicab")
outputs["labels"] = torch.from_numpy(watershed(distance, seeds, mask=mask).astype("int32"))
`,
      { p },
    );
    // Same cells, up to the pixels on the line between the two seeds where the distances tie.
    const differ = torch.tidy(() => ours.ne(out.labels!).sum().item() as number);
    expect(differ).toBeLessThanOrEqual(h);
    expect(torch.tidy(() => ours.max().item())).toBe(2);
    torch.dispose([p, ours, out]);
  });

  test("watershed: scipy's gaussian_filter and scikit-image's watershed with lines, pixel for pixel", () => {
    // Random "not membrane" probabilities: smoothed, they rise into blobs that seed basins.
    torch.manualSeed(7);
    const [h, w] = [45, 61];
    const p = torch.tidy(() => {
      const cell = torch.rand([h, w]);
      return torch.stack([cell.neg().add(1), cell]);
    });
    const postprocess = { kind: 'cells' as const, threshold: 0.55, minSize: 3, watershed: { sigma: 1.5 } };
    const ours = labelsFromProbabilities(p, postprocess);
    const map = notMembraneProbability(p, postprocess);
    const smoothed = gaussianSmooth(
      torch.tidy(() => p.select(0, 1).contiguous().toTypedArray() as Float32Array),
      h,
      w,
      1.5,
    );
    const out = runPython(
      `
import numpy as np
from scipy import ndimage
from skimage.segmentation import relabel_sequential, watershed
p = inputs["p"].numpy().astype(np.float64)
outputs["plain"] = torch.from_numpy(ndimage.gaussian_filter(p[1], 1.5))
cell = ndimage.gaussian_filter(1 - p[0], 1.5)
seeds, _ = ndimage.label(cell > 0.55)
seeds[(np.bincount(seeds.ravel()) < 3)[seeds] & (seeds > 0)] = 0
seeds = relabel_sequential(seeds)[0]
labels = watershed(1 - cell, seeds, watershed_line=True)
outputs["labels"] = torch.from_numpy(labels.astype("int32"))
outputs["seeds"] = torch.tensor(int(seeds.max()))
`,
      { p },
    );
    expect(Math.max(...smoothed.map((v, k) => Math.abs(v - (out.plain!.toTypedArray() as Float64Array)[k]!)))).toBeLessThan(1e-12);
    expect(ours.equal(out.labels!)).toBe(true);
    expect(torch.tidy(() => ours.max().item())).toBe(out.seeds!.item());
    expect(out.seeds!.item()).toBeGreaterThan(5);
    // Every pixel is a basin's or a line's; the map of "not membrane" is 0 on the lines.
    torch.tidy(() => {
      const lines = ours.eq(0);
      expect(lines.sum().item()).toBeGreaterThan(0);
      expect(map.maskedSelect(lines).max().item()).toBe(0);
      expect(map.maskedSelect(lines.logicalNot()).equal(p.select(0, 1).maskedSelect(lines.logicalNot()))).toBe(true);
    });
    torch.dispose([p, ours, map, out]);
  });

  test('watershed: a membrane too faint for any threshold still parts two cells', () => {
    torch.tidy(() => {
      // "Not membrane" 1 either side of a membrane column (0) that fades to 0.92 over three rows: every ISBI level (0.0–0.9) sees a gap.
      const cell = torch.ones([9, 9]);
      cell.narrow(1, 4, 1).fill_(0);
      cell.narrow(0, 3, 3).narrow(1, 4, 1).fill_(0.92);
      const p = torch.stack([cell.neg().add(1), cell]);
      expect(labelsFromProbabilities(p, { kind: 'cells', threshold: 0.9 }).max().item()).toBe(1);
      const basins = labelsFromProbabilities(p, { kind: 'cells', threshold: 0.95, watershed: { sigma: 0 } });
      expect(basins.max().item()).toBe(2);
      // The line is the membrane's column, gap included.
      expect(basins.select(1, 4).eq(0).all().item()).toBe(true);
      expect(basins.narrow(1, 0, 4).eq(1).all().item()).toBe(true);
      expect(
        notMembraneProbability(p, { kind: 'cells', threshold: 0.95, watershed: { sigma: 0 } })
          .select(1, 4)
          .max()
          .item(),
      ).toBe(0);
      expect(() => labelsFromProbabilities(p, { kind: 'cells', watershed: { sigma: -1 } })).toThrow(
        /option 'watershed.sigma' must be a number in \[0, 64\], got the number -1/,
      );
      expect(() => labelsFromProbabilities(p, { kind: 'classes', watershed: { sigma: 1 } })).toThrow(
        /option 'watershed' is for kind 'cells', got 'classes'/,
      );
      expect(() => labelsFromProbabilities(p, { kind: 'cells', watershed: { width: 1 } as never })).toThrow(/unknown option 'width'/);
    });
  });
});
