// Named U-Net configurations.
import { UNet, type UNetOptions } from './model';

/** Options every preset shares unless it says otherwise: the paper's choices. */
const PAPER: UNetOptions = {
  inChannels: 1,
  classes: 2,
  depth: 5,
  baseChannels: 64,
  padding: 'valid',
  upsampling: 'transposed',
  normalization: 'none',
  groups: 8,
  activation: 'relu',
  negativeSlope: 0.01,
  dropout: 0.5,
  init: 'paper',
};

/** The name of a network preset: `'ronneberger2015'`, `'compact'` or `'padded'`. */
export type PresetName = 'ronneberger2015' | 'compact' | 'padded';

/**
 * - `ronneberger2015`: exactly the published network: depth 5, 64–1024 channels, valid 3×3
 *   convolutions, 2×2 up-convolutions, ReLU, drop-out 0.5, the paper's initialisation; 23
 *   convolutions and 31,030,658 parameters for 1 input channel and 2 classes; 572 → 388.
 * - `compact`: the same topology with 16–256 channels (1/16 of the parameters: 1,940,834),
 *   to train on a CPU.
 * - `padded`: a modern variant: same padding (output = input size), batch normalisation, leaky
 *   ReLU 0.01, no drop-out, 32–512 channels.
 */
export const PRESETS: Readonly<Record<PresetName, UNetOptions>> = {
  ronneberger2015: PAPER,
  compact: { ...PAPER, baseChannels: 16 },
  padded: { ...PAPER, baseChannels: 32, padding: 'same', normalization: 'batch', activation: 'leakyRelu', dropout: 0 },
};

/** Options of a preset with your changes (input channels, classes, …). */
export function presetOptions(name: PresetName, changes: Partial<UNetOptions> = {}): UNetOptions {
  // hasOwn, not a lookup: 'toString' is no preset.
  if (!Object.hasOwn(PRESETS, name))
    throw new TypeError(`unknown U-Net preset '${String(name)}'; known: ${Object.keys(PRESETS).join(', ')}`);
  return { ...PRESETS[name], ...changes };
}

/** A U-Net from a preset: `createUNet('ronneberger2015')`, `createUNet('compact', { classes: 3 })`. */
export function createUNet(name: PresetName, changes: Partial<UNetOptions> = {}): UNet {
  return new UNet(presetOptions(name, changes));
}
