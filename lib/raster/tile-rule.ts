// Which tile extents a U-Net takes, as a rule both engines read: the libtorch network derives it
// from its depth and padding (lib/unet/size), an exported model carries it in its metadata. The
// valid extents are `smallestInput + k · inputStep`; a wrong one is refused with the same words
// by either engine.

/**
 * Which input extents the network takes and what it loses: valid extents are
 * `smallestInput + k · inputStep` (k ≥ 0), and the output is the input less `margin` on each side.
 */
export interface TileRule {
  /** The network's convolutions: unpadded (`valid`, the paper's) or padded (`same`). */
  padding: 'valid' | 'same';
  /** Its resolution levels. */
  depth: number;
  /** The smallest valid extent. */
  smallestInput: number;
  /** The step between valid extents. */
  inputStep: number;
  /** What the output loses on each side (0 with `same` padding). */
  margin: number;
  /** The tile `unet predict` uses unless told otherwise. */
  defaultTile: number;
}

/** What fixes which extents are valid. */
export type ExtentRule = Pick<TileRule, 'padding' | 'depth' | 'smallestInput' | 'inputStep'>;

/** Whether `size` (one side of a tile) is valid under `rule`. */
export function isValidTile(rule: ExtentRule, size: number): boolean {
  return Number.isInteger(size) && size >= rule.smallestInput && (size - rule.smallestInput) % rule.inputStep === 0;
}

/** The nearest valid extents at or below and at or above `size` (below is null when there is none). */
export function nearestValidTiles(rule: ExtentRule, size: number): { below: number | null; above: number } {
  if (typeof size !== 'number' || !Number.isFinite(size)) throw new RangeError(`the size must be a finite number, got ${String(size)}`);
  const { smallestInput: smallest, inputStep: step } = rule;
  const below = size < smallest ? null : smallest + Math.floor((size - smallest) / step) * step;
  const above = size <= smallest ? smallest : smallest + Math.ceil((size - smallest) / step) * step;
  return { below, above };
}

/** Why `size` is not valid under `rule`, naming the valid extents and the nearest ones. */
export function invalidTileMessage(rule: ExtentRule, size: number): string {
  const why =
    rule.padding === 'same'
      ? `with same padding and depth ${rule.depth} the size must divide by ${rule.inputStep}`
      : `with valid convolutions and depth ${rule.depth} every pooling must see an even size`;
  const message = `${String(size)} is not a valid tile size for this network (valid: ${rule.smallestInput} + k·${rule.inputStep}: ${why})`;
  if (typeof size !== 'number' || !Number.isFinite(size)) return message;
  const { below, above } = nearestValidTiles(rule, size);
  const near = [below, above].filter((extent): extent is number => extent !== null && extent !== size);
  return `${message}; the nearest valid sizes are ${near.join(' and ')}`;
}
