// Tiles for training: regions of an image read with mirroring where they leave it (the
// overlap-tile strategy's padding), drawn at random positions from the samples.
import { SeededRandom } from '../augment/random';
import { tensor as makeTensor } from '../creation';
import { tidy } from '../memory';
import { stack } from '../ops/join';
import type { Tensor } from '../tensor';
import type { TrainingSample } from '../data/dataset';

/** Position p mirrored into [0, n) about the outer pixels (… 2 1 | 0 1 2 … n-1 | n-2 …), as often as needed. */
export function mirrorIndex(p: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((p % period) + period) % period;
  return m < n ? m : period - m;
}

/** The region [top, top + height) × [left, left + width) of `x` (…, H, W), mirrored outside the image. */
export function cropMirrored(x: Tensor, top: number, left: number, height: number, width: number): Tensor {
  const [h, w] = x.shape.slice(-2) as [number, number];
  return tidy(() => {
    const axis = (start: number, length: number, extent: number, dim: number, input: Tensor): Tensor => {
      if (start >= 0 && start + length <= extent) return input.narrow(dim, start, length);
      const indices = BigInt64Array.from({ length }, (_, k) => BigInt(mirrorIndex(start + k, extent)));
      return input.indexSelect(dim, makeTensor(indices, { device: x.device }));
    };
    return axis(left, width, w, x.ndim - 1, axis(top, height, h, x.ndim - 2, x));
  });
}

/** A batch of training tiles (N, C, S, S) with targets and weights (N, S, S). */
export interface TileBatch {
  image: Tensor;
  target: Tensor;
  weights: Tensor;
}

/**
 * Draws `count` tiles of `size` × `size` with `random`: an image chosen in proportion to its
 * area, a centre uniform over it, the tile read with mirroring.
 */
export function sampleTiles(samples: TrainingSample[], count: number, size: number, random: SeededRandom): TileBatch {
  const areas = samples.map((sample) => sample.label.numel());
  const total = areas.reduce((a, b) => a + b, 0);
  const picks = Array.from({ length: count }, () => {
    let remaining = random.uniform(0, total);
    let index = 0;
    while (index < samples.length - 1 && remaining >= areas[index]!) remaining -= areas[index++]!;
    const sample = samples[index]!;
    const [h, w] = sample.label.shape as [number, number];
    const top = Math.floor(random.uniform(0, h)) - Math.floor(size / 2);
    const left = Math.floor(random.uniform(0, w)) - Math.floor(size / 2);
    return { sample, top, left };
  });
  return tidy(() => ({
    image: stack(picks.map(({ sample, top, left }) => cropMirrored(sample.image, top, left, size, size))),
    target: stack(picks.map(({ sample, top, left }) => cropMirrored(sample.target, top, left, size, size))),
    weights: stack(picks.map(({ sample, top, left }) => cropMirrored(sample.weights, top, left, size, size))),
  }));
}
