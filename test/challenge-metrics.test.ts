// The challenges' measures: by hand on small cases, and against the independent numpy / scipy /
// scikit-image implementation in reference/challenge_metrics.py on generated cells.
import { syntheticCells, type Tensor, torch } from '../lib';
import { thin } from '../lib/labels';
import { ctcScores } from '../lib/metrics/ctc';
import { isbiScores } from '../lib/metrics/isbi2012';
import { runPython } from './support/python';

const ids = (rows: number[][]): Tensor => torch.tensor(rows, { dtype: 'int32' });

describe('cell tracking challenge SEG and DET', () => {
  test('by hand: a merge, a miss, a false object, pooled over two frames', () => {
    torch.tidy(() => {
      // Frame a: reference cells 1 (4 px), 2 (2 px), 3 (2 px); one predicted object 5 covers
      // 1 and 2 (a merge), cell 3 is missed, object 9 matches nothing.
      const referenceA = ids([
        [1, 1, 0, 2, 0, 3],
        [1, 1, 0, 2, 0, 3],
      ]);
      const predictedA = ids([
        [5, 5, 5, 5, 0, 0],
        [5, 5, 5, 5, 0, 9],
      ]);
      // Frame b: one cell, predicted exactly.
      const referenceB = ids([
        [0, 4, 4],
        [0, 4, 4],
      ]);
      const predictedB = ids([
        [0, 7, 7],
        [0, 7, 7],
      ]);
      const scores = ctcScores([
        { name: 'a', predicted: predictedA, reference: referenceA },
        { name: 'b', predicted: predictedB, reference: referenceB },
      ]);
      // Jaccard: cell 1 4/8, cell 2 2/8, cell 3 0 (the 1 pixel of 9 is not more than half), cell 4 1.
      expect(scores.seg).toBeCloseTo((4 / 8 + 2 / 8 + 0 + 1) / 4, 12);
      expect(scores.frames[0]!.seg).toBeCloseTo((4 / 8 + 2 / 8) / 3, 12);
      expect(scores.objects).toBe(4);
      expect(scores.splits).toBe(1);
      expect(scores.falseNegatives).toBe(1);
      expect(scores.falsePositives).toBe(1);
      // AOGM-D = 5·1 + 10·1 + 1·1 = 16 against 10·4 = 40.
      expect(scores.det).toBeCloseTo(1 - 16 / 40, 12);
      // Exactly half a cell is not a match.
      expect(ctcScores([{ predicted: ids([[1, 0]]), reference: ids([[3, 3]]) }]).seg).toBe(0);
      expect(() => ctcScores([{ predicted: ids([[1, 0]]), reference: ids([[1, 0, 0]]) }])).toThrow(/differ in size/);
    });
  });
});

describe('ISBI 2012 measures', () => {
  const slice = (probability: number[][], truth: number[][], name?: string): { name?: string; probability: Tensor; truth: Tensor } => ({
    ...(name === undefined ? {} : { name }),
    probability: torch.tensor(probability, { dtype: 'float32' }),
    truth: torch.tensor(truth, { dtype: 'int32' }),
  });

  test('by hand: a perfect map, a merge across a membrane, a split inside a neurite', () => {
    torch.tidy(() => {
      const perfect = isbiScores([slice([[0.9, 0.9, 0.1, 0.9]], [[255, 255, 0, 255]])], { thresholds: [0.5] });
      expect(perfect.pixelError).toBe(0);
      expect(perfect.randError).toBe(0);
      expect(perfect.warpingError).toBe(0);
      expect(perfect.vRand).toBe(1);
      expect(perfect.vInfo).toBe(1);
      // Merge: truth objects of 2 and 1 pixels, one predicted object over all 4.
      // Σa² = 5, Σb² = 9 (3 pixels inside the truth), Σn² = 4 + 1 = 5 → F = 10 / 14.
      const merged = isbiScores([slice([[0.9, 0.9, 0.9, 0.9]], [[255, 255, 0, 255]])], { thresholds: [0.5] });
      expect(merged.randError).toBeCloseTo(1 - 10 / 14, 12);
      expect(merged.pixelError).toBeCloseTo(1 - 6 / 7, 12); // tp 3, fp 1, fn 0
      // A merge lowers the merge score only: Σn² / Σb² = 5 / 9, Σn² / Σa² = 5 / 5.
      expect(merged.randParts.merge).toBeCloseTo(5 / 9, 12);
      expect(merged.randParts.split).toBe(1);
      // Split: one truth object of 3 pixels; predicted 2 objects and a membrane pixel (a singleton).
      // Σa² = 9, Σb² = 1 + 1 + 1, Σn² = 1 + 1 + 1 → F = 6 / 12.
      const split = isbiScores([slice([[0.9, 0.1, 0.9]], [[255, 255, 255]])], { thresholds: [0.5] });
      expect(split.randError).toBeCloseTo(0.5, 12);
      // A split lowers the split score only: Σn² / Σa² = 3 / 9, Σn² / Σb² = 3 / 3.
      expect(split.randParts.split).toBeCloseTo(1 / 3, 12);
      expect(split.randParts.merge).toBe(1);
      // Two slices pool their counts; each keeps its own error and parts.
      const both = isbiScores(
        [slice([[0.9, 0.9, 0.9, 0.9]], [[255, 255, 0, 255]], 'merged'), slice([[0.9, 0.1, 0.9]], [[255, 255, 255]], 'split')],
        { thresholds: [0.5] },
      );
      expect(both.randParts.slices.map((s) => [s.name, s.randError, s.split, s.merge])).toEqual([
        ['merged', merged.randError, 1, merged.randParts.merge],
        ['split', split.randError, split.randParts.split, 1],
      ]);
      expect(both.randParts.split).toBeCloseTo((5 + 3) / (5 + 9), 12);
      expect(both.randParts.merge).toBeCloseTo((5 + 3) / (9 + 3), 12);
      expect(both.randError).toBeCloseTo(1 - (2 * 8) / (14 + 12), 12);
      // The best level is kept: at 0.05 the split closes.
      const swept = isbiScores([slice([[0.9, 0.1, 0.9]], [[255, 255, 255]])], { thresholds: [0.05, 0.5] });
      expect(swept.randError).toBe(0);
      expect(swept.bestThreshold.randError).toBe(0.05);
      expect(() => isbiScores([slice([[1.5]], [[1]])])).toThrow(/probabilities must lie in \[0, 1\], found 1.5/);
      expect(() => isbiScores([slice([[0.5]], [[1]])], { thresholds: [1] })).toThrow(/option 'thresholds'/);
    });
  });

  test('thinning equals scikit-image morphology.thin', () => {
    torch.manualSeed(3);
    const masks = torch.tidy(() => ({
      a: torch.rand([30, 40]).gt(0.35).to('uint8'),
      b: syntheticCells(4, { height: 32, width: 36 }).label.gt(0).to('uint8'),
    }));
    const out = runPython(
      `
from skimage.morphology import thin
for key in ("a", "b"):
    outputs[key] = torch.from_numpy(thin(inputs[key].numpy() > 0).astype("uint8"))
`,
      masks,
    );
    for (const key of ['a', 'b'] as const) {
      const [h, w] = masks[key].shape as [number, number];
      const ours = thin(masks[key].toTypedArray() as Uint8Array, h, w);
      expect(Array.from(ours)).toEqual(Array.from(out[key]!.toTypedArray() as Uint8Array));
    }
    torch.dispose([masks, out]);
  });
});

describe('against reference/challenge_metrics.py', () => {
  test('SEG, DET and the five ISBI measures on generated cells with merges, splits and noise', () => {
    const frames = torch.tidy(() => {
      const out: Record<string, Tensor> = {};
      for (let k = 0; k < 3; k += 1) {
        const { label } = syntheticCells(10 + k, { height: 48, width: 56, radius: [4, 9] });
        // A prediction that merges some cells, splits one, shifts borders and adds specks.
        const shifted = label.roll([1], [1]);
        const merged = torch.where(shifted.eq(3).logicalOr(shifted.eq(5)), 2, shifted);
        const specks = torch.rand([48, 56]).gt(0.995).to('int32').mul(1000);
        const predicted = torch.where(specks.eq(0), merged, specks);
        out[`reference${k}`] = label.to('int32');
        out[`predicted${k}`] = predicted.to('int32');
        // ISBI: the truth mask is the cells, the probability a blurred, noisy version of it.
        const mask = label.gt(0).to('float32');
        const blurred = torch.nn.functional.avgPool2d(mask.unsqueeze(0).unsqueeze(0), 3, { stride: 1, padding: 1 }).squeeze(0).squeeze(0);
        out[`probability${k}`] = blurred.add(torch.randn([48, 56]).mul(0.15)).clamp(0, 1);
        out[`truth${k}`] = mask.to('int32').mul(255);
      }
      return out;
    });
    const keys = [0, 1, 2];
    const ours = ctcScores(keys.map((k) => ({ predicted: frames[`predicted${k}`]!, reference: frames[`reference${k}`]! })));
    const isbi = isbiScores(keys.map((k) => ({ probability: frames[`probability${k}`]!, truth: frames[`truth${k}`]! })));
    const randThreshold = torch.tensor(isbi.bestThreshold.randError, { dtype: 'float64' });
    const out = runPython(
      `
from reference.challenge_metrics import ctc_scores, isbi_scores, rand_parts
ks = range(3)
c = ctc_scores([(inputs[f"predicted{k}"].numpy(), inputs[f"reference{k}"].numpy()) for k in ks])
i = isbi_scores([inputs[f"probability{k}"].numpy() for k in ks], [inputs[f"truth{k}"].numpy() for k in ks])
outputs["ctc"] = torch.tensor([c["seg"], c["det"], c["objects"], c["falseNegatives"], c["falsePositives"], c["splits"]], dtype=torch.float64)
outputs["isbi"] = torch.tensor([i["pixelError"], i["randError"], i["warpingError"], i["vRand"], i["vInfo"]], dtype=torch.float64)
r = rand_parts([inputs[f"probability{k}"].numpy() for k in ks], [inputs[f"truth{k}"].numpy() for k in ks], float(inputs["randThreshold"]))
outputs["parts"] = torch.tensor([r["split"], r["merge"], *[v for s in r["slices"] for v in s]], dtype=torch.float64)
`,
      { ...frames, randThreshold },
    );
    const [seg, det, objects, falseNegatives, falsePositives, splits] = out.ctc!.toArray() as number[];
    expect(ours.seg).toBeCloseTo(seg!, 12);
    expect(ours.det).toBeCloseTo(det!, 12);
    expect([ours.objects, ours.falseNegatives, ours.falsePositives, ours.splits]).toEqual([
      objects,
      falseNegatives,
      falsePositives,
      splits,
    ]);
    expect(ours.splits).toBeGreaterThan(0);
    const [pixelError, randError, warpingError, vRand, vInfo] = out.isbi!.toArray() as number[];
    expect(isbi.pixelError).toBeCloseTo(pixelError!, 12);
    expect(isbi.randError).toBeCloseTo(randError!, 12);
    expect(isbi.vRand).toBeCloseTo(vRand!, 12);
    expect(isbi.vInfo).toBeCloseTo(vInfo!, 10);
    // Warping is not unique (the order of flips matters where several warps exist): both sides
    // warp simple pixels only, and agree to a few pixels in 8,064.
    expect(Math.abs(isbi.warpingError - warpingError!)).toBeLessThan(5 / (3 * 48 * 56));
    expect(isbi.randError).toBeGreaterThan(0);
    const [split, merge, ...bySlice] = out.parts!.toArray() as number[];
    expect(isbi.randParts.split).toBeCloseTo(split!, 12);
    expect(isbi.randParts.merge).toBeCloseTo(merge!, 12);
    const ourSlices = isbi.randParts.slices.flatMap((s) => [s.randError, s.split, s.merge]);
    expect(ourSlices).toHaveLength(9);
    for (const [k, value] of ourSlices.entries()) expect(value).toBeCloseTo(bySlice[k]!, 12);
    torch.dispose([frames, out, randThreshold]);
  });
});
