// Overlap-tile prediction on plain arrays, for any runtime that runs the network on a batch of
// tiles (onnxruntime in Node or the browser): the same tiles, mirroring, stitching, soft-max and
// test-time augmentation as lib/predict/overlap-tile on tensors, so that both give the same
// probabilities up to the runtimes' rounding.
import { invalidTileMessage, isValidTile, type TileRule } from './tile-rule';

/** Position p mirrored into [0, n) about the outer pixels (… 2 1 | 0 1 2 … n-1 | n-2 …), as often as needed. */
export function mirrorIndex(p: number, n: number): number {
  if (!Number.isSafeInteger(p)) throw new RangeError(`mirrorIndex(): argument 'p' must be an integer, got ${String(p)}`);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`mirrorIndex(): argument 'n' must be a positive integer, got ${String(n)}`);
  return mirrored(p, n);
}

// mirrorIndex for positions and extents already known to be integers: the tile loops' form.
function mirrored(p: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((p % period) + period) % period;
  return m < n ? m : period - m;
}

/** Planar float32 maps: C × H × W. */
export interface Planes {
  /** C: the maps. */
  channels: number;
  /** H, in pixels. */
  height: number;
  /** W, in pixels. */
  width: number;
  /** The values, map after map, each row-major. */
  data: Float32Array;
}

/**
 * Runs the network on `count` tiles (count × channels × tile × tile, float32) and resolves to
 * their logits (count × classes × out × out).
 */
export type TileRunner = (
  tiles: Float32Array,
  count: number,
  tile: number,
) => Promise<{
  /** The logits, count × classes × size × size. */
  data: Float32Array;
  /** The classes the network scores. */
  classes: number;
  /** The output tile's extent. */
  size: number;
}>;

/** Options of {@link predictPlanes}. */
export interface PlanePredictOptions {
  /** Input tile extent, valid for the network (default: the rule's default tile). */
  tileSize?: number;
  /** Tiles per run (default 1). */
  batchSize?: number;
  /** Average over the 8 flips and quarter turns. */
  tta?: boolean;
  /** Context kept on each side of a tile with same padding (default 2 × the pooling factor). */
  context?: number;
  /** Called after each run with the fraction done. */
  onProgress?: (fraction: number) => void;
}

/** Where the tiles of overlap-tile prediction lie along each axis of an image. */
export interface TileGeometry {
  /** Input pixels on each side of a tile beyond the output it gives: what the network loses, or the context kept. */
  margin: number;
  /** Output pixels between the starts of neighbouring tiles. */
  step: number;
}

/** The input margin and the stride between tiles for a tile size. */
export function tileGeometryOf(rule: TileRule, tileSize: number, context?: number): TileGeometry {
  if (!isValidTile(rule, tileSize)) throw new RangeError(`predict: ${invalidTileMessage(rule, tileSize)}`);
  return overlapStep(rule.padding, rule.inputStep, rule.margin, tileSize, context);
}

/**
 * The input margin and the stride between tiles, both engines' rule: with valid padding the
 * margin is what the network loses (`validMargin`), with same padding `context` (default twice
 * the pooling factor `unit`); the stride is the useful extent rounded down to the pooling factor.
 */
export function overlapStep(
  padding: 'valid' | 'same',
  unit: number,
  validMargin: number,
  tileSize: number,
  context?: number,
): TileGeometry {
  const margin = padding === 'valid' ? validMargin : (context ?? 2 * unit);
  const useful = tileSize - 2 * margin;
  const step = Math.floor(useful / unit) * unit;
  if (step < unit)
    throw new RangeError(
      `predict: a ${tileSize}-pixel tile leaves ${useful} useful pixels; at least ${unit} (the pooling factor) are needed: use a larger tile`,
    );
  return { margin, step };
}

async function logitsOnce(
  image: Planes,
  rule: TileRule,
  run: TileRunner,
  tileSize: number,
  batchSize: number,
  context: number | undefined,
  progress: () => void,
): Promise<Planes> {
  const { channels, height, width, data } = image;
  const { margin, step } = tileGeometryOf(rule, tileSize, context);
  const tops: number[] = [];
  for (let top = 0; top < height; top += step) tops.push(top);
  const lefts: number[] = [];
  for (let left = 0; left < width; left += step) lefts.push(left);
  const tiles = tops.flatMap((top) => lefts.map((left) => ({ top, left })));
  const offset = rule.padding === 'valid' ? 0 : margin;
  let result: Planes | null = null;
  const area = tileSize * tileSize;
  for (let first = 0; first < tiles.length; first += batchSize) {
    const group = tiles.slice(first, first + batchSize);
    const input = new Float32Array(group.length * channels * area);
    group.forEach(({ top, left }, k) => {
      for (let c = 0; c < channels; c += 1) {
        const plane = data.subarray(c * height * width, (c + 1) * height * width);
        const base = (k * channels + c) * area;
        for (let y = 0; y < tileSize; y += 1) {
          const row = mirrored(top - margin + y, height) * width;
          for (let x = 0; x < tileSize; x += 1) input[base + y * tileSize + x] = plane[row + mirrored(left - margin + x, width)]!;
        }
      }
    });
    const output = await run(input, group.length, tileSize);
    const classes = output.classes;
    result ??= { channels: classes, height, width, data: new Float32Array(classes * height * width) };
    const size = output.size;
    group.forEach(({ top, left }, k) => {
      const h = Math.min(step, height - top);
      const w = Math.min(step, width - left);
      for (let c = 0; c < classes; c += 1)
        for (let y = 0; y < h; y += 1) {
          const from = ((k * classes + c) * size + offset + y) * size + offset;
          result!.data.set(output.data.subarray(from, from + w), (c * height + top + y) * width + left);
        }
    });
    progress();
  }
  return result!;
}

/** One quarter turn, as lib/predict/overlap-tile's: transpose the two axes, then flip the last. */
function turn(x: Planes): Planes {
  const { channels, height, width, data } = x;
  const out = new Float32Array(data.length);
  // out[c][i][j] = x[c][height − 1 − j][i], of shape (C, width, height).
  for (let c = 0; c < channels; c += 1)
    for (let i = 0; i < width; i += 1)
      for (let j = 0; j < height; j += 1) out[(c * width + i) * height + j] = data[(c * height + (height - 1 - j)) * width + i]!;
  return { channels, height: width, width: height, data: out };
}

function flip(x: Planes): Planes {
  const { channels, height, width, data } = x;
  const out = new Float32Array(data.length);
  for (let row = 0; row < channels * height; row += 1)
    for (let j = 0; j < width; j += 1) out[row * width + j] = data[row * width + width - 1 - j]!;
  return { channels, height, width, data: out };
}

function turns(x: Planes, k: number): Planes {
  let out = x;
  for (let i = 0; i < ((k % 4) + 4) % 4; i += 1) out = turn(out);
  return out;
}

/** Soft-max over the classes at each pixel, in place. */
function softmax(x: Planes): Planes {
  const plane = x.height * x.width;
  const { channels, data } = x;
  for (let k = 0; k < plane; k += 1) {
    let max = -Infinity;
    for (let c = 0; c < channels; c += 1) max = Math.max(max, data[c * plane + k]!);
    let sum = 0;
    for (let c = 0; c < channels; c += 1) {
      const e = Math.fround(Math.exp(data[c * plane + k]! - max));
      data[c * plane + k] = e;
      sum = Math.fround(sum + e);
    }
    for (let c = 0; c < channels; c += 1) data[c * plane + k] = data[c * plane + k]! / sum;
  }
  return x;
}

/**
 * Class probabilities (classes × H × W) of an image (C × H × W, normalised as for training), by
 * overlap-tile prediction with `run`; with `tta` the mean over the 8 flips and quarter turns.
 */
export async function predictPlanes(image: Planes, rule: TileRule, run: TileRunner, options: PlanePredictOptions = {}): Promise<Planes> {
  const tileSize = options.tileSize ?? rule.defaultTile;
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`predict: option 'batchSize' must be a positive integer, got ${batchSize}`);
  const passes = options.tta ? 8 : 1;
  const { step } = tileGeometryOf(rule, tileSize, options.context);
  const runsPerPass = (extentA: number, extentB: number): number =>
    Math.ceil((Math.ceil(extentA / step) * Math.ceil(extentB / step)) / batchSize);
  const total = Array.from({ length: passes }, (_, p) =>
    Math.floor(p / 2) % 2 === 0 ? runsPerPass(image.height, image.width) : runsPerPass(image.width, image.height),
  ).reduce((a, b) => a + b, 0);
  let done = 0;
  const progress = (): void => {
    done += 1;
    options.onProgress?.(done / total);
  };
  let sum: Planes | null = null;
  for (let p = 0; p < passes; p += 1) {
    const quarterTurns = Math.floor(p / 2);
    const flipped = p % 2 === 1;
    const forward = turns(flipped ? flip(image) : image, quarterTurns);
    const back = turns(await logitsOnce(forward, rule, run, tileSize, batchSize, options.context, progress), -quarterTurns);
    const probabilities = softmax(flipped ? flip(back) : back);
    if (sum === null) sum = probabilities;
    else for (let k = 0; k < sum.data.length; k += 1) sum.data[k] = sum.data[k]! + probabilities.data[k]!;
  }
  if (passes > 1) for (let k = 0; k < sum!.data.length; k += 1) sum!.data[k] = sum!.data[k]! / passes;
  return sum!;
}
