// A generator of touching cells for tests, the default training data and demos: irregular
// ellipses packed closely (so that many touch and the border weights matter), textured, on a
// dim background, blurred and noisy, with one id per cell.
import { objectArg } from '../check';
import { tensor } from '../creation';
import { tidy } from '../memory';
import { SeededRandom } from '../augment/random';
import type { Tensor } from '../tensor';

/** Options of `syntheticCells`. */
export interface SyntheticOptions {
  /** Image height (default 256). */
  height?: number;
  /** Image width (default 256). */
  width?: number;
  /** Number of cells placed (default: about one per 700 pixels); cells hidden by others are dropped. */
  cells?: number;
  /** Range of cell radii in pixels (default [9, 20]). */
  radius?: [number, number];
  /** Standard deviation of the pixel noise, in image units (default 0.04). */
  noise?: number;
}

/** One generated image (1, H, W) float32 in [0, 1] and its instance labels (H, W) int32, 0 background. */
export interface SyntheticSample {
  /** The image (1, H, W), float32 in [0, 1]. */
  image: Tensor;
  /** Its cells' ids (H, W), int32; 0 is background. */
  label: Tensor;
}

interface Cell {
  y: number;
  x: number;
  radius: number;
  cos: number;
  sin: number;
  elongation: number;
  wobble: number;
  phase: number;
  brightness: number;
}

function blur(values: Float32Array, height: number, width: number): Float32Array {
  // [1, 2, 1] / 4 along each axis, edges repeated.
  const along = (input: Float32Array, step: number, count: number, position: (k: number) => number): Float32Array => {
    const out = new Float32Array(input.length);
    for (let k = 0; k < input.length; k += 1) {
      const p = position(k);
      const before = p > 0 ? input[k - step]! : input[k]!;
      const after = p < count - 1 ? input[k + step]! : input[k]!;
      out[k] = (before + 2 * input[k]! + after) / 4;
    }
    return out;
  };
  const rows = along(values, 1, width, (k) => k % width);
  return along(rows, width, height, (k) => Math.floor(k / width));
}

/** Generates one image of touching cells from `seed` (the same seed gives the same image). */
export function syntheticCells(seed: number, options: SyntheticOptions = {}): SyntheticSample {
  objectArg('syntheticCells', 'options', options);
  const { height = 256, width = 256, noise = 0.04 } = options;
  const [minRadius, maxRadius] = options.radius ?? [9, 20];
  const count = options.cells ?? Math.round((height * width) / 700);
  for (const [name, value] of [
    ['height', height],
    ['width', width],
    ['cells', count],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`syntheticCells(): option '${name}' must be a positive integer, got ${value}`);
  }
  if (!(minRadius >= 2 && maxRadius >= minRadius))
    throw new RangeError(
      `syntheticCells(): option 'radius' must be [min, max] with 2 <= min <= max, got ${JSON.stringify(options.radius)}`,
    );
  if (!(noise >= 0)) throw new RangeError(`syntheticCells(): option 'noise' must be >= 0, got ${noise}`);
  const random = new SeededRandom(seed);
  const cells: Cell[] = Array.from({ length: count }, () => {
    const angle = random.uniform(0, Math.PI);
    return {
      y: random.uniform(0, height),
      x: random.uniform(0, width),
      radius: random.uniform(minRadius, maxRadius),
      cos: Math.cos(angle),
      sin: Math.sin(angle),
      elongation: random.uniform(1, 1.6),
      wobble: random.uniform(0, 0.15),
      phase: random.uniform(0, 2 * Math.PI),
      brightness: random.uniform(0.45, 0.9),
    };
  });
  // Each pixel goes to the cell in whose normalised distance it lies deepest: where two cells
  // overlap they meet along a boundary, as touching cells do.
  const depth = new Float32Array(height * width).fill(1);
  const owner = new Int32Array(height * width);
  cells.forEach((cell, index) => {
    const reach = cell.radius * cell.elongation * (1 + cell.wobble);
    for (let y = Math.max(0, Math.floor(cell.y - reach)); y < Math.min(height, Math.ceil(cell.y + reach)); y += 1) {
      for (let x = Math.max(0, Math.floor(cell.x - reach)); x < Math.min(width, Math.ceil(cell.x + reach)); x += 1) {
        const dy = y - cell.y;
        const dx = x - cell.x;
        const along = (dx * cell.cos + dy * cell.sin) / cell.elongation;
        const across = -dx * cell.sin + dy * cell.cos;
        const edge = cell.radius * (1 + cell.wobble * Math.sin(3 * Math.atan2(across, along) + cell.phase));
        const d = Math.hypot(along, across) / edge;
        const k = y * width + x;
        if (d < depth[k]!) {
          depth[k] = d;
          owner[k] = index + 1;
        }
      }
    }
  });
  // Ids 1..K in order of first appearance, for cells that kept any pixels.
  const ids = new Map<number, number>();
  const labels = new Int32Array(height * width);
  for (let k = 0; k < labels.length; k += 1) {
    if (owner[k] === 0) continue;
    if (!ids.has(owner[k]!)) ids.set(owner[k]!, ids.size + 1);
    labels[k] = ids.get(owner[k]!)!;
  }
  let image: Float32Array = new Float32Array(height * width);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const k = y * width + x;
      const cell = owner[k]! > 0 ? cells[owner[k]! - 1]! : null;
      const texture = 0.04 * Math.sin(x * 0.31 + y * 0.17 + (cell?.phase ?? 0)) * Math.sin(y * 0.23 - x * 0.11);
      const onBoundary =
        cell !== null &&
        ((x > 0 && owner[k - 1] !== owner[k]) ||
          (y > 0 && owner[k - width] !== owner[k]) ||
          (x < width - 1 && owner[k + 1] !== owner[k]) ||
          (y < height - 1 && owner[k + width] !== owner[k]));
      image[k] = cell ? cell.brightness * (0.8 + 0.2 * (1 - depth[k]! ** 2)) + texture - (onBoundary ? 0.25 : 0) : 0.12 + texture / 2;
    }
  }
  image = blur(image, height, width);
  for (let k = 0; k < image.length; k += 1) image[k] = Math.min(1, Math.max(0, image[k]! + random.normal(0, noise)));
  return {
    image: tidy(() => tensor(image).reshape([1, height, width])),
    label: tidy(() => tensor(labels).reshape([height, width])),
  };
}
