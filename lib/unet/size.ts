// Size arithmetic of the U-Net: which tile sizes fit, what comes out, what goes in for a wanted
// output, and the margin lost per side. With valid (unpadded) convolutions every pooling must
// see an even size and the output is smaller than the input; with same padding the input must
// divide by 2^(depth-1) and the output has its size. Either way the valid extents form an
// arithmetic series, the rule (lib/raster/tile-rule) that an exported model carries too.
import { describe } from '../arguments';
import { type ExtentRule, invalidTileMessage, nearestValidTiles } from '../raster/tile-rule';

/** The parts of the architecture that fix its sizes. */
export interface SizeSpec {
  /** Resolution levels (the paper: 5, i.e. 4 poolings). */
  depth: number;
  /** `valid`: unpadded convolutions, each level loses pixels (the paper); `same`: the output keeps the input's size. */
  padding: 'valid' | 'same';
}

/** Pixels each 3×3 level loses with valid convolutions: two convolutions, one pixel per side each. */
const LOSS_PER_LEVEL = 4;

/** The deepest U-Net the size arithmetic takes: a pooling factor of 2^15 is beyond any image. */
export const MAX_DEPTH = 16;

/** `spec` if it is a SizeSpec; otherwise an error naming `fn`'s argument 'spec' and what is wrong. */
function checkedSpec(fn: string, spec: unknown): SizeSpec {
  if (spec === null || typeof spec !== 'object')
    throw new TypeError(`${fn}(): argument 'spec' must be an object { depth, padding }, got ${describe(spec)}`);
  const { depth, padding } = spec as Partial<SizeSpec>;
  if (!Number.isInteger(depth) || depth! < 1 || depth! > MAX_DEPTH)
    throw new RangeError(`${fn}(): argument 'spec': depth must be an integer in 1..${MAX_DEPTH}, got ${String(depth)}`);
  if (padding !== 'valid' && padding !== 'same')
    throw new RangeError(`${fn}(): argument 'spec': padding must be 'valid' or 'same', got ${String(padding)}`);
  return { depth: depth!, padding };
}

/** The output extent for one input extent, or null when that extent does not fit the network. */
export function outputExtent(input: number, spec: SizeSpec): number | null {
  return extentOut(input, checkedSpec('outputExtent', spec));
}

// outputExtent for a checked spec: what the searches below call once per size.
function extentOut(input: number, spec: SizeSpec): number | null {
  if (!Number.isInteger(input) || input <= 0) return null;
  if (spec.padding === 'same') return input % 2 ** (spec.depth - 1) === 0 ? input : null;
  let size = input;
  for (let level = 0; level < spec.depth - 1; level += 1) {
    size -= LOSS_PER_LEVEL;
    if (size <= 0 || size % 2 !== 0) return null;
    size /= 2;
  }
  size -= LOSS_PER_LEVEL;
  if (size <= 0) return null;
  for (let level = 0; level < spec.depth - 1; level += 1) size = size * 2 - LOSS_PER_LEVEL;
  return size > 0 ? size : null;
}

/** Whether an extent (one side of a tile) fits the network. */
export function isValidExtent(input: number, spec: SizeSpec): boolean {
  return extentOut(input, checkedSpec('isValidExtent', spec)) !== null;
}

/**
 * The valid extents of `spec` as a series: the smallest, then every 2^(depth-1) pixels (each
 * pooling halves, so one more pixel of the deepest level is that many at the input).
 */
export function extentRule(spec: SizeSpec): ExtentRule {
  return ruleOf(checkedSpec('extentRule', spec));
}

// extentRule for a checked spec.
function ruleOf(spec: SizeSpec): ExtentRule {
  return { padding: spec.padding, depth: spec.depth, smallestInput: smallestInputFor(1, spec), inputStep: 2 ** (spec.depth - 1) };
}

/** The nearest valid extents at or below and at or above `input` (below is null when there is none). */
export function nearestValidExtents(
  input: number,
  spec: SizeSpec,
): {
  /** The largest valid extent at most `input`, or null when even the smallest is larger. */
  below: number | null;
  /** The smallest valid extent at least `input`. */
  above: number;
} {
  const rule = ruleOf(checkedSpec('nearestValidExtents', spec));
  try {
    return nearestValidTiles(rule, input);
  } catch (error) {
    throw new RangeError(`nearestValidExtents(): argument 'input': ${(error as Error).message}`);
  }
}

/** The smallest valid input extent whose output is at least `output`. */
export function inputExtentFor(output: number, spec: SizeSpec): number {
  if (!Number.isSafeInteger(output) || output <= 0)
    throw new RangeError(`inputSizeFor(): the output size must be a positive integer, got ${String(output)}`);
  const input = smallestInputFor(output, checkedSpec('inputExtentFor', spec));
  if (!Number.isSafeInteger(input)) throw new RangeError(`inputSizeFor(): no input extent of a safe integer size gives ${output} pixels`);
  return input;
}

// inputExtentFor for a checked spec and output. The smallest valid extent is found by trying
// sizes; past it the valid extents come every 2^(depth-1) pixels and each loses the same number
// of pixels (none with same padding), so the answer is the first valid extent from output + loss.
function smallestInputFor(output: number, spec: SizeSpec): number {
  let smallest = 1;
  while (extentOut(smallest, spec) === null) smallest += 1;
  const loss = smallest - extentOut(smallest, spec)!;
  const step = 2 ** (spec.depth - 1);
  const wanted = Math.max(smallest, output + loss);
  return smallest + Math.ceil((wanted - smallest) / step) * step;
}

/** The explanation of why `input` does not fit, naming the nearest extents that do. */
export function invalidExtentMessage(input: number, spec: SizeSpec): string {
  return invalidTileMessage(ruleOf(checkedSpec('invalidExtentMessage', spec)), input);
}

/**
 * Pixels by which each up step's skip connection exceeds its up-sampled map, deepest step first:
 * what that step centre-crops from the skip (all 0 with same padding). The same for every valid
 * input; the paper's network (depth 5) crops 8, 32, 80 and 176 (64 → 56, …, 568 → 392).
 */
export function skipCrops(spec: SizeSpec): number[] {
  checkedSpec('skipCrops', spec);
  if (spec.padding === 'same') return new Array<number>(Math.max(spec.depth - 1, 0)).fill(0);
  const skips: number[] = [];
  let size = inputExtentFor(1, spec);
  for (let level = 0; level < spec.depth - 1; level += 1) {
    size -= LOSS_PER_LEVEL;
    skips.push(size);
    size /= 2;
  }
  let below = size - LOSS_PER_LEVEL;
  return skips.reverse().map((skip) => {
    const up = below * 2;
    below = up - LOSS_PER_LEVEL;
    return skip - up;
  });
}
