// Segmentation metrics against hand-computed values and scikit-image's adapted_rand_error.
import { type Tensor, torch } from '../lib';
import { scoreImage } from '../lib/metrics/evaluate';
import { adaptedRandError, classScores, segScore, warpingError } from '../lib/metrics/segmentation';
import { runPython } from './support/python';

const labels = (rows: number[][]): Tensor => torch.tensor(rows, { dtype: 'int32' });

describe('segmentation metrics', () => {
  test('IoU, Dice and pixel error by hand', () => {
    torch.tidy(() => {
      const truth = labels([
        [0, 0, 1, 1],
        [0, 1, 1, 1],
      ]);
      const predicted = labels([
        [0, 1, 1, 1],
        [0, 0, 1, 1],
      ]);
      const scores = classScores(predicted, truth, 2);
      // class 1: intersection 4, predicted 5, truth 5 → IoU 4/6, Dice 8/10; class 0: 2, 3, 3 → 2/4, 4/6
      expect(scores.iou[1]).toBeCloseTo(4 / 6, 12);
      expect(scores.dice[1]).toBeCloseTo(0.8, 12);
      expect(scores.iou[0]).toBeCloseTo(0.5, 12);
      expect(scores.dice[0]).toBeCloseTo(4 / 6, 12);
      expect(scores.pixelError).toBeCloseTo(2 / 8, 12);
      expect(() => classScores(predicted, truth.narrow(1, 0, 3), 2)).toThrow(/truth is \[2,3\] but the other image is \[2,4\]/);
    });
  });

  test('adapted Rand error equals scikit-image on random and structured label images', () => {
    torch.manualSeed(5);
    const cases: Record<string, Tensor> = torch.tidy(() => ({
      truth0: torch.randint(0, 6, [40, 50]).to('int32'),
      predicted0: torch.randint(0, 9, [40, 50]).to('int32'),
      truth1: torch.arange(0, 2000, 1).reshape([40, 50]).div(200, 'floor').to('int32'),
      predicted1: torch.arange(0, 2000, 1).reshape([40, 50]).div(300, 'floor').to('int32'),
    }));
    const out = runPython(
      `
from skimage.metrics import adapted_rand_error
for k in range(2):
    error, precision, recall = adapted_rand_error(inputs[f"truth{k}"].numpy(), inputs[f"predicted{k}"].numpy())
    outputs[f"case{k}"] = torch.tensor([error, precision, recall], dtype=torch.float64)
`,
      cases,
    );
    for (const k of [0, 1]) {
      const ours = adaptedRandError(cases[`predicted${k}`]!, cases[`truth${k}`]!);
      const [error, precision, recall] = out[`case${k}`]!.toArray() as number[];
      expect(ours.error).toBeCloseTo(error!, 12);
      expect(ours.precision).toBeCloseTo(precision!, 12);
      expect(ours.recall).toBeCloseTo(recall!, 12);
    }
    torch.dispose(cases);
  });

  test('warping error counts topology changes, not boundary shifts', () => {
    torch.tidy(() => {
      const bar = torch.zeros([7, 9], { dtype: 'int32' });
      bar.narrow(0, 3, 1).narrow(1, 1, 7).fill_(1);
      const split = bar.clone();
      split.indexPut_([3, 4], 0);
      expect(warpingError(split, bar).error).toBeCloseTo(1 / 63, 12);
      const shorter = bar.clone();
      shorter.indexPut_([3, 7], 0);
      expect(warpingError(shorter, bar).error).toBe(0);
      const thicker = bar.clone();
      thicker.narrow(0, 2, 1).narrow(1, 2, 5).fill_(1);
      expect(warpingError(thicker, bar).error).toBe(0);
      // Two blobs where the truth has one: the bridge pixel cannot be removed by a simple flip.
      const blob = torch.zeros([5, 7], { dtype: 'int32' });
      blob.narrow(0, 1, 3).narrow(1, 1, 5).fill_(1);
      const twoBlobs = blob.clone();
      twoBlobs.narrow(1, 3, 1).fill_(0);
      expect(warpingError(twoBlobs, blob).error).toBeCloseTo(1 / 35, 12);
    });
  });

  test('SEG: Jaccard of each true cell with the predicted cell covering more than half of it', () => {
    torch.tidy(() => {
      const truth = labels([
        [1, 1, 0, 2],
        [1, 1, 0, 2],
      ]);
      const predicted = labels([
        [5, 5, 5, 0],
        [5, 5, 0, 7],
      ]);
      // cell 1: 4 of 4 covered by 5 (area 5) → 4/5; cell 2: 1 of 2 by 7 (not more than half) → 0
      expect(segScore(predicted, truth)).toBeCloseTo(0.4, 12);
      expect(Number.isNaN(segScore(predicted, torch.zeros([2, 4], { dtype: 'int32' })))).toBe(true);
    });
  });

  test('scoreImage splits masks into cells and scores instances', () => {
    torch.tidy(() => {
      const mask = labels([
        [255, 255, 0, 255],
        [255, 255, 0, 255],
      ]);
      const cells = labels([
        [1, 1, 0, 2],
        [1, 1, 0, 2],
      ]);
      const scores = scoreImage('x', mask, cells);
      expect(scores.iou).toEqual([1, 1]);
      expect(scores.randError).toBeCloseTo(0, 12);
      expect(scores.seg).toBe(1);
      expect(scores.warpingError).toBe(0);
    });
  });
});
