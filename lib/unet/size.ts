// Size arithmetic of the U-Net: which tile sizes fit, what comes out, what goes in for a wanted
// output, and the margin lost per side. With valid (unpadded) convolutions every pooling must
// see an even size and the output is smaller than the input; with same padding the input must
// divide by 2^(depth-1) and the output has its size.

/** The parts of the architecture that fix its sizes. */
export interface SizeSpec {
  /** Resolution levels (the paper: 5, i.e. 4 poolings). */
  depth: number;
  padding: 'valid' | 'same';
}

/** Pixels each 3×3 level loses with valid convolutions: two convolutions, one pixel per side each. */
const LOSS_PER_LEVEL = 4;

/** The output extent for one input extent, or null when that extent does not fit the network. */
export function outputExtent(input: number, spec: SizeSpec): number | null {
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
  return outputExtent(input, spec) !== null;
}

/** The nearest valid extents at or below and at or above `input` (either may be missing). */
export function nearestValidExtents(input: number, spec: SizeSpec): { below: number | null; above: number | null } {
  let below: number | null = null;
  for (let size = Math.max(1, Math.floor(input)); size >= 1; size -= 1) {
    if (isValidExtent(size, spec)) {
      below = size;
      break;
    }
  }
  let above: number | null = null;
  for (let size = Math.max(1, Math.ceil(input)); size <= Math.ceil(input) + 2 ** (spec.depth + 1) + 8 * spec.depth; size += 1) {
    if (isValidExtent(size, spec)) {
      above = size;
      break;
    }
  }
  return { below, above };
}

/** The smallest valid input extent whose output is at least `output`. */
export function inputExtentFor(output: number, spec: SizeSpec): number {
  if (!Number.isInteger(output) || output <= 0)
    throw new RangeError(`inputSizeFor(): the output size must be a positive integer, got ${output}`);
  for (let size = output; ; size += 1) {
    const out = outputExtent(size, spec);
    if (out !== null && out >= output) return size;
  }
}

/** The explanation of why `input` does not fit, naming the nearest extents that do. */
export function invalidExtentMessage(input: number, spec: SizeSpec): string {
  const { below, above } = nearestValidExtents(input, spec);
  const near = [below, above].filter((size): size is number => size !== null && size !== input);
  const rule =
    spec.padding === 'same'
      ? `with same padding and depth ${spec.depth} the size must divide by ${2 ** (spec.depth - 1)}`
      : `with valid convolutions and depth ${spec.depth} every pooling must see an even size`;
  return `${input} is not a valid tile size (${rule}); the nearest valid sizes are ${near.join(' and ')}`;
}

/**
 * Pixels by which each up step's skip connection exceeds its up-sampled map, deepest step first:
 * what that step centre-crops from the skip (all 0 with same padding). The same for every valid
 * input; the paper's network (depth 5) crops 8, 32, 80 and 176 (64 → 56, …, 568 → 392).
 */
export function skipCrops(spec: SizeSpec): number[] {
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
