// Each sample's random transform, drawn from its own seed, and the one displacement field that
// composes all of its geometric parts: the paper's elastic deformation, then rotation, flips,
// scaling and shift about the tile's centre.
import { tensor as makeTensor } from '../creation';
import { tidy } from '../memory';
import { native } from '../native';
import type { Tensor } from '../tensor';
import { upload } from '../upload';
import { SeededRandom } from './random';
import { arrayArg, objectArg } from '../check';

/** The paper's elastic deformation: control points spanning the tile, displaced by N(0, σ²). */
export interface ElasticOptions {
  /** Control points per side (default [3, 3]); at least 2 × 2. */
  grid?: [number, number];
  /** Standard deviation of each control point's displacement, in pixels (default 10). */
  sigma?: number;
}

/** What to draw for each sample. Every range is symmetric about "no change"; 0 turns a part off. */
export interface AugmentOptions {
  /** The elastic deformation (default: the paper's 3 × 3 grid, σ = 10); `false` turns it off. */
  elastic?: ElasticOptions | false;
  /** Rotation by an angle drawn uniformly from ±`rotation` degrees (default 0). */
  rotation?: number;
  /** Flip each axis with probability 1/2 (default false). */
  flip?: boolean;
  /** Shift each axis by up to ±`shift` pixels (default 0). */
  shift?: number;
  /** Zoom by a factor drawn log-uniformly from [min, max] (default [1, 1]). */
  scale?: [number, number];
  /** Add an offset drawn from ±`brightness` to the image (default 0). */
  brightness?: number;
  /** Stretch the image about its mean by a factor in [1 - contrast, 1 + contrast] (default 0). */
  contrast?: number;
  /** Raise the image, clamped to [0, 1], to a power in [e^-gamma, e^gamma] (default 0). */
  gamma?: number;
  /** Add Gaussian noise whose standard deviation is drawn from [0, noise] (default 0). */
  noise?: number;
}

/** One sample's drawn transform: everything needed to reproduce it. */
export interface SampleTransform {
  /** Control-point displacements [component (dy, dx)][row][column] in pixels; null without elastic. */
  controlPoints: number[][][] | null;
  /** Rotation in radians; a positive angle turns the content clockwise as displayed (y down). */
  angle: number;
  /** Whether the rows are flipped (top to bottom). */
  flipY: boolean;
  /** Whether the columns are flipped (left to right). */
  flipX: boolean;
  /** The shift along the rows, in pixels. */
  shiftY: number;
  /** The shift along the columns, in pixels. */
  shiftX: number;
  /** The zoom factor (above 1 enlarges the content). */
  scale: number;
  /** The offset added to the image. */
  brightness: number;
  /** The factor the image is stretched by about its mean. */
  contrast: number;
  /** The power the image (clamped to [0, 1]) is raised to. */
  gamma: number;
  /** The standard deviation of the Gaussian noise added (0: none). */
  noiseStd: number;
  /** Seed of the sample's own noise generator. */
  noiseSeed: number;
}

function check(condition: boolean, name: string, expected: string, value: unknown): void {
  if (!condition) throw new RangeError(`augment: option '${name}' must be ${expected}, got ${JSON.stringify(value)}`);
}

/** Checks `options` once, naming the first bad option. */
export function validateAugmentOptions(options: AugmentOptions): void {
  objectArg('augment', 'options', options);
  const known = new Set(['elastic', 'rotation', 'flip', 'shift', 'scale', 'brightness', 'contrast', 'gamma', 'noise']);
  for (const key of Object.keys(options)) check(known.has(key), key, `one of ${[...known].join(', ')}`, key);
  const { elastic } = options;
  if (elastic) {
    const [gy, gx] = elastic.grid ?? [3, 3];
    check(Number.isInteger(gy) && Number.isInteger(gx) && gy >= 2 && gx >= 2, 'grid', 'at least 2 × 2 control points', elastic.grid);
    check((elastic.sigma ?? 10) >= 0, 'sigma', '>= 0', elastic.sigma);
  }
  for (const name of ['rotation', 'shift', 'brightness', 'gamma', 'noise'] as const) {
    const value = options[name];
    check(value === undefined || (Number.isFinite(value) && value >= 0), name, 'a finite number >= 0', value);
  }
  check(options.contrast === undefined || (options.contrast >= 0 && options.contrast < 1), 'contrast', 'in [0, 1)', options.contrast);
  const scale = options.scale;
  check(
    scale === undefined || (Array.isArray(scale) && scale.length === 2 && scale[0] > 0 && scale[1] >= scale[0]),
    'scale',
    '[min, max] with 0 < min <= max',
    scale,
  );
}

/**
 * Draws one sample's transform from `seed`. The draws come in a fixed order and number, so
 * turning one part on or off does not change what the others draw.
 */
export function drawTransform(seed: number, options: AugmentOptions = {}): SampleTransform {
  objectArg('drawTransform', 'options', options);
  const random = new SeededRandom(seed);
  const symmetric = (range: number | undefined): number => random.uniform(-(range ?? 0), range ?? 0);
  const angle = (symmetric(options.rotation) * Math.PI) / 180;
  const flipY = random.uniform() < 0.5 && options.flip === true;
  const flipX = random.uniform() < 0.5 && options.flip === true;
  const shiftY = symmetric(options.shift);
  const shiftX = symmetric(options.shift);
  const [low, high] = options.scale ?? [1, 1];
  const scale = Math.exp(random.uniform(Math.log(low), Math.log(high)));
  const brightness = symmetric(options.brightness);
  const contrast = 1 + symmetric(options.contrast);
  const gamma = Math.exp(symmetric(options.gamma));
  const noiseStd = random.uniform(0, options.noise ?? 0);
  const noiseSeed = Math.floor(random.uniform() * 2 ** 32);
  const elastic = options.elastic === undefined ? {} : options.elastic;
  let controlPoints: number[][][] | null = null;
  if (elastic) {
    const [gy, gx] = elastic.grid ?? [3, 3];
    const sigma = elastic.sigma ?? 10;
    controlPoints = Array.from({ length: 2 }, () =>
      Array.from({ length: gy }, () => Array.from({ length: gx }, () => random.normal(0, sigma))),
    );
  }
  return { controlPoints, angle, flipY, flipX, shiftY, shiftX, scale, brightness, contrast, gamma, noiseStd, noiseSeed };
}

/**
 * The displacement fields (N, H, W, 2), float32 (computed in float64), in pixels, last axis (dy, dx), of the geometric
 * part of `transforms`: out(y, x) = in(y + dy, x + dx). The elastic displacement (the control
 * points upsampled as align_corners bicubic interpolation) applies in the output's frame;
 * rotation, flips and scale act about the tile's centre, then the shift. Computed in double
 * precision on `device` where the addon has its CUDA kernels (only the transforms' numbers are
 * copied there), else on the CPU and copied: either way the same bits, whatever the device.
 */
export function transformField(transforms: SampleTransform[], height: number, width: number, device = 'cpu'): Tensor {
  arrayArg('transformField', 'transforms', transforms);
  check(Number.isInteger(height) && height >= 1 && Number.isInteger(width) && width >= 1, 'size', 'positive integers', [height, width]);
  const grids = new Set(
    transforms.map((t) => (t.controlPoints ? `${t.controlPoints[0]!.length}x${t.controlPoints[0]![0]!.length}` : 'none')),
  );
  if (grids.size > 1) throw new RangeError('transformField(): every transform of a batch must use the same elastic grid (or none)');
  return tidy(() => {
    // source = centre + (1/scale)·R(angle)·F·(q - centre) + shift, as rows (m00, m01, m10, m11, ty, tx)
    const affine = transforms.map((t) => {
      const c = Math.cos(t.angle) / t.scale;
      const s = Math.sin(t.angle) / t.scale;
      const fy = t.flipY ? -1 : 1;
      const fx = t.flipX ? -1 : 1;
      return [c * fy, -s * fx, s * fy, c * fx, t.shiftY, t.shiftX];
    });
    // Composed where the kernel runs: on the CPU, or on CUDA by the addon's own kernel.
    const where = device.startsWith('cuda') && native.cudaKernelsBuilt() ? device : 'cpu';
    const points = grids.has('none')
      ? undefined
      : upload(
          makeTensor(
            transforms.map((t) => t.controlPoints!),
            { dtype: 'float64' },
          ),
          where,
        );
    const field = native.composeField(points, upload(makeTensor(affine, { dtype: 'float64' }), where), height, width);
    return where === device ? field : upload(field, device);
  });
}

/**
 * The paper's elastic displacement field (H, W, 2), float32, for `seed`: out(y, x) = in(y + dy, x + dx).
 * The same as the elastic part of `augmentBatch` with this seed.
 */
export function elasticField(seed: number, height: number, width: number, options: ElasticOptions = {}): Tensor {
  validateAugmentOptions({ elastic: options });
  return tidy(() => transformField([drawTransform(seed, { elastic: options })], height, width).squeeze(0));
}
