// The weight map's presets, free of the addon, so that the CLI's help can name their values
// without loading libtorch.

/** A weight-map preset's name. */
export type WeightMapPreset = 'ronneberger2015' | 'falk2019';

/** The border term of the weight map, w0 · exp(−(d1 + d2)² / (2σ²)), with d1 and d2 the distances to the borders of the nearest and the second-nearest cell. */
export interface BorderTerm {
  /** Its height w0: the value it nears where d1 + d2 nears 0. */
  w0: number;
  /** Its width σ, in pixels. */
  sigma: number;
}

/**
 * The border terms of the weight-map presets: `ronneberger2015`, the paper's (w0 10, σ 5); and
 * `falk2019`, the authors' 2019 release (w0 50, σ 6; it also inserts gaps between touching cells
 * and replaces class balance by 0.1 + 0.9·exp(−d1²/(2·10²)) on the background).
 */
export const WEIGHT_MAP_PRESETS: Readonly<Record<WeightMapPreset, Readonly<BorderTerm>>> = {
  ronneberger2015: { w0: 10, sigma: 5 },
  falk2019: { w0: 50, sigma: 6 },
};

/** The presets' names, the paper's first (the default). */
export const WEIGHT_MAP_PRESET_NAMES = Object.keys(WEIGHT_MAP_PRESETS) as WeightMapPreset[];
