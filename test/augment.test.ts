// The paper's elastic deformation: identity at σ = 0, labels keep their ids, displacement
// statistics, and per-sample seeds independent of the batch.
import { augment, torch } from '../lib';

describe('elastic deformation', () => {
  test('σ = 0 is the identity: bitwise for nearest, within 1e-6 for bicubic and bilinear', () => {
    torch.manualSeed(71);
    torch.tidy(() => {
      const image = torch.rand([2, 1, 40, 52]);
      const field = torch.stack([augment.elasticField(1, 40, 52, { sigma: 0 }), augment.elasticField(2, 40, 52, { sigma: 0 })]);
      expect(augment.applyField(image, field, 'nearest').equal(image)).toBe(true);
      for (const mode of ['bicubic', 'bilinear'] as const) expect(augment.applyField(image, field, mode).sub(image).abs().max().item()).toBeLessThanOrEqual(1e-6);
    });
  });

  test('labels resampled with nearest hold only ids of the input', () => {
    torch.tidy(() => {
      const labels = torch.randint(0, 5, [1, 1, 64, 64]).mul(7);
      const warped = augment.applyField(labels, augment.elasticField(3, 64, 64).unsqueeze(0), 'nearest');
      expect(warped.dtype).toBe('int64');
      const ids = new Set((labels.flatten().toArray() as number[]));
      expect((warped.flatten().toArray() as number[]).every((id) => ids.has(id))).toBe(true);
      expect(warped.equal(labels)).toBe(false);
    });
  });

  test('over 1,000 seeds the control-point displacements have mean ≈ 0 and standard deviation ≈ σ', () => {
    torch.tidy(() => {
      // On a 3 × 3 output the align-corners interpolation returns the control points themselves.
      const values = torch.stack(Array.from({ length: 1000 }, (_, seed) => augment.elasticField(seed, 3, 3, { sigma: 10 })));
      expect(Math.abs(values.mean().item() as number)).toBeLessThan(0.3);
      expect(Math.abs((values.std().item() as number) - 10)).toBeLessThan(0.3);
    });
  });

  test('each sample depends on its own seed only, whatever the batch', () => {
    torch.manualSeed(72);
    torch.tidy(() => {
      const images = torch.rand([3, 2, 48, 48]);
      const fields = [11, 12, 13].map((seed) => augment.elasticField(seed, 48, 48));
      const batched = augment.applyField(images, torch.stack(fields), 'bicubic');
      const alone = augment.applyField(images.narrow(0, 1, 1), fields[1]!.unsqueeze(0), 'bicubic');
      expect(batched.narrow(0, 1, 1).equal(alone)).toBe(true);
      expect(augment.elasticField(12, 48, 48).equal(fields[1]!)).toBe(true);
    });
  });

  test('bad grids, σ and sizes are refused', () => {
    torch.tidy(() => {
      expect(() => augment.elasticField(1, 10, 10, { grid: [1, 3] })).toThrow(/option 'grid' must be at least 2 × 2/);
      expect(() => augment.elasticField(1, 10, 10, { sigma: -1 })).toThrow(/option 'sigma' must be >= 0/);
      expect(() => augment.applyField(torch.rand([1, 1, 10, 10]), torch.zeros([1, 9, 10, 2]), 'bilinear')).toThrow(/argument 'field' must be \(N, H, W, 2\) = \[1, 10, 10, 2\]/);
    });
  });
});
