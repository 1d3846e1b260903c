// The paper's elastic deformation: random displacements on a coarse grid of control points (3×3
// spanning the tile, each component N(0, σ²) with σ = 10 pixels), interpolated bicubically to a
// per-pixel field, applied by resampling with mirroring at the borders.
import { tensor as makeTensor } from '../creation';
import { tidy } from '../memory';
import { gridSample, interpolate } from '../nn/functional';
import { stack } from '../ops/join';
import type { Tensor } from '../tensor';
import { SeededRandom } from './random';

/** Options of the elastic deformation. */
export interface ElasticOptions {
  /** Control points per side (default [3, 3]); at least 2 × 2. */
  grid?: [number, number];
  /** Standard deviation of each control point's displacement, in pixels (default 10). */
  sigma?: number;
}

/**
 * A displacement field (H, W, 2) in pixels, last axis (dy, dx), for `seed`: out(y, x) = in(y + dy, x + dx).
 */
export function elasticField(seed: number, height: number, width: number, options: ElasticOptions = {}): Tensor {
  const [gy, gx] = options.grid ?? [3, 3];
  const sigma = options.sigma ?? 10;
  if (!(Number.isInteger(gy) && Number.isInteger(gx) && gy >= 2 && gx >= 2)) throw new RangeError(`elasticField(): option 'grid' must be at least 2 × 2 control points, got ${JSON.stringify(options.grid)}`);
  if (!(sigma >= 0)) throw new RangeError(`elasticField(): option 'sigma' must be >= 0, got ${sigma}`);
  const random = new SeededRandom(seed);
  const control = Array.from({ length: 2 }, () => Array.from({ length: gy }, () => Array.from({ length: gx }, () => random.normal(0, sigma))));
  return tidy(() => {
    // Control points sit on the tile's corners and spread evenly: align_corners bicubic interpolation.
    const points = makeTensor(control, { dtype: 'float32' }).unsqueeze(0);
    const field = interpolate(points, { size: [height, width], mode: 'bicubic', alignCorners: true });
    return field.squeeze(0).permute([1, 2, 0]).contiguous();
  });
}

/** How `applyField` resamples: images bicubic (or bilinear), labels nearest, weight maps bilinear. */
export type ResampleMode = 'bicubic' | 'bilinear' | 'nearest';

/**
 * Resamples `input` (N, C, H, W) through per-sample fields (N, H, W, 2) in pixels: out(y, x) =
 * in(y + dy, x + dx), mirrored where that falls outside the image. Labels resampled with
 * `nearest` only ever hold values of the input.
 */
export function applyField(input: Tensor, field: Tensor, mode: ResampleMode): Tensor {
  if (input.ndim !== 4) throw new RangeError(`applyField(): argument 'input' must be (N, C, H, W), got shape [${input.shape}]`);
  const [n, , h, w] = input.shape as [number, number, number, number];
  if (field.ndim !== 4 || field.shape[0] !== n || field.shape[1] !== h || field.shape[2] !== w || field.shape[3] !== 2) {
    throw new RangeError(`applyField(): argument 'field' must be (N, H, W, 2) = [${n}, ${h}, ${w}, 2] for this input, got [${field.shape}]`);
  }
  return tidy(() => {
    // In float64: float32 coordinates of a 500-pixel tile are off by about 3e-5 pixels, which a
    // bicubic kernel turns into visible error; the sampled values go back to the input's dtype.
    const ys = makeTensor(Array.from({ length: h }, (_, k) => k), { dtype: 'float64', device: field.device }).reshape([1, h, 1]);
    const xs = makeTensor(Array.from({ length: w }, (_, k) => k), { dtype: 'float64', device: field.device }).reshape([1, 1, w]);
    const sourceY = field.to('float64').select(3, 0).add(ys);
    const sourceX = field.to('float64').select(3, 1).add(xs);
    // gridSample's normalised coordinates, with align_corners: -1 and 1 are the outer pixel centres.
    const grid = stack([sourceX.mul(2 / Math.max(w - 1, 1)).sub(1), sourceY.mul(2 / Math.max(h - 1, 1)).sub(1)], 3);
    const out = gridSample(input.to('float64'), grid, { mode, paddingMode: 'reflection', alignCorners: true });
    return input.dtype.startsWith('float') ? out.to(input.dtype) : out.round().to(input.dtype);
  });
}
