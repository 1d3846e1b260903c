// The border weight map of the U-Net paper (README "Weight map" defines it exactly). Distances
// come from the addon's windowed exact distance transform (native/weightmap.cc); the rest is
// tensor arithmetic.
import { tensor as makeTensor } from '../creation';
import { tidy } from '../memory';
import { connectedComponents } from '../labels';
import { native } from '../native';
import { where } from '../ops/compare';
import { pad, stack } from '../ops/join';
import { index } from '../ops/indexing';
import { Tensor } from '../tensor';
import { describe } from '../arguments';
import { tensorArg } from '../check';
import { checkOptions, oneOf } from '../ops/options';
import { WEIGHT_MAP_PRESET_NAMES, WEIGHT_MAP_PRESETS, type WeightMapPreset } from './presets';

/** How the weight map is computed; defaults are the paper's. */
export interface WeightMapOptions {
  /** Border weight (default: the preset's, 10 for the paper's). */
  w0?: number;
  /** Border width in pixels (default: the preset's, 5 for the paper's). */
  sigma?: number;
  /** `balance` (default): N / (C · n_c) per image; `none`: 1; or [background, cell] weights. */
  classWeights?: 'balance' | 'none' | [number, number];
  /** `instances` (default): 0 is background, each other value one cell; `mask`: foreground split into cells by connected components. */
  input?: 'instances' | 'mask';
  /** Neighbourhood of the connected components of a mask (default 4). */
  connectivity?: 4 | 8;
  /** Insert one-pixel background gaps between touching cells first (the authors' 2019 release does). */
  insertGaps?: boolean;
  /**
   * `falk2019`: the authors' 2019 release: w0 50, σ 6, background 0.1 + 0.9·exp(−d1²/(2·10²)),
   * cells 1, gaps inserted. Explicit options override it.
   */
  preset?: WeightMapPreset;
  /** Terms below this are left out (default 1e-6 · w0): it bounds the windows the distances are computed in. */
  tolerance?: number;
}

const INTEGER_DTYPES = ['int8', 'int16', 'int32', 'int64', 'uint8', 'bool'];

/**
 * A label image: a Tensor (H, W); a typed array with its shape; or a decoded PNG as pngjs gives it
 * ({ width, height, data } with 4 values per pixel, of which the first is read).
 */
export type LabelImage =
  | Tensor
  | {
      /** The labels, row by row. */
      data: ArrayLike<number>;
      /** Height and width. */
      shape: [number, number];
    }
  | {
      /** The pixels, row by row, 4 values each (RGBA): the first is the label. */
      data: ArrayLike<number>;
      /** Pixels a row. */
      width: number;
      /** Rows. */
      height: number;
    };

function fromLabelImage(labels: LabelImage, name: string): Tensor {
  if (labels instanceof Tensor) return labels;
  if (labels === null || typeof labels !== 'object')
    throw new TypeError(
      `weightMap(): argument '${name}' must be a Tensor, a typed array with its shape, or a decoded PNG, got ${describe(labels)}`,
    );
  const data = (labels as { data?: ArrayLike<number> }).data;
  if (data === undefined || typeof data.length !== 'number')
    throw new TypeError(`weightMap(): argument '${name}' must be a Tensor, a typed array with its shape, or a decoded PNG`);
  if ('shape' in labels) {
    const [h, w] = labels.shape;
    if (h * w !== data.length) throw new RangeError(`weightMap(): argument '${name}' has ${data.length} values for shape [${h}, ${w}]`);
    return makeTensor(Array.from(data, Number)).reshape([h, w]);
  }
  const { width, height } = labels as { width: number; height: number };
  const channels = data.length / (width * height);
  if (!Number.isInteger(channels) || channels < 1)
    throw new RangeError(`weightMap(): argument '${name}' has ${data.length} values for ${width}×${height} pixels`);
  const values = Int32Array.from({ length: width * height }, (_, k) => data[k * channels]!);
  return makeTensor(Array.from(values)).reshape([height, width]);
}

/** The labels as a 2-d int32 CPU tensor, checking what they are; it may share the input's storage. */
function labelView(input: LabelImage, name: string): Tensor {
  const labels = fromLabelImage(input, name);
  if (!INTEGER_DTYPES.includes(labels.dtype))
    throw new TypeError(`weightMap(): argument '${name}' must hold integer labels, got dtype ${labels.dtype}`);
  if (labels.ndim !== 2)
    throw new RangeError(
      `weightMap(): argument '${name}' must be one 2-d label image (H, W), got shape [${labels.shape}] (RGB images are not label images)`,
    );
  if (labels.numel() === 0) throw new RangeError(`weightMap(): argument '${name}' is empty`);
  return labels.to({ device: 'cpu', dtype: 'int32' });
}

/** Cell pixels that touch (8-neighbourhood) a cell with a smaller id become background: one-pixel gaps. */
export function insertGaps(labels: Tensor): Tensor {
  tensorArg('insertGaps', 'labels', labels);
  if (labels.ndim !== 2) throw new RangeError(`insertGaps(): argument 'labels' must be a 2-d (H, W) image, got shape [${labels.shape}]`);
  return tidy(() => {
    const [h, w] = labels.shape as [number, number];
    const padded = pad(labels.unsqueeze(0), [1, 1, 1, 1]).squeeze(0);
    let remove = labels.gt(Infinity);
    for (const dy of [-1, 0, 1]) {
      for (const dx of [-1, 0, 1]) {
        if (dy === 0 && dx === 0) continue;
        const neighbour = index(padded, `${1 + dy}:${1 + dy + h}`, `${1 + dx}:${1 + dx + w}`);
        remove = remove.logicalOr(labels.gt(0).logicalAnd(neighbour.gt(0)).logicalAnd(neighbour.lt(labels)));
      }
    }
    return where(remove, 0, labels);
  });
}

/** The instances the map is computed from; they may share the input's storage (weightMap only reads them). */
function instancesView(labels: LabelImage, options: WeightMapOptions): Tensor {
  let instances = labelView(labels, 'labels');
  if (options.input === 'mask') instances = connectedComponents(instances, options.connectivity ?? 4);
  else if (options.input !== undefined && options.input !== 'instances')
    throw new TypeError(`weightMap(): option 'input' must be 'instances' or 'mask', got '${String(options.input)}'`);
  if (options.insertGaps ?? options.preset === 'falk2019') instances = insertGaps(instances);
  return instances;
}

/** The labels the map is computed from (a copy): instances (from a mask when asked), with gaps when asked. */
export function instancesOf(labels: LabelImage, options: WeightMapOptions = {}): Tensor {
  return tidy(() => instancesView(labels, options).clone());
}

/**
 * The weight map w(x) of a label image (H, W) as a float32 (H, W) tensor, or of a batch (N, H, W)
 * as (N, H, W): w(x) = w_c(x) + w0 · exp(−(d1(x) + d2(x))² / (2σ²)) on background pixels, w_c(x)
 * on cells. Compute it once per label image before training and keep it (the paper does).
 */
export function weightMap(labels: LabelImage, options: WeightMapOptions = {}): Tensor {
  options = checkOptions('weightMap', options, [
    'w0',
    'sigma',
    'classWeights',
    'input',
    'connectivity',
    'insertGaps',
    'preset',
    'tolerance',
  ]);
  if (labels instanceof Tensor && labels.ndim === 3) {
    return tidy(() => stack(Array.from({ length: labels.shape[0]! }, (_, k) => weightMap(labels.select(0, k), options))));
  }
  const preset = oneOf('weightMap', 'preset', options.preset ?? 'ronneberger2015', WEIGHT_MAP_PRESET_NAMES);
  const falk = preset === 'falk2019';
  const w0 = options.w0 ?? WEIGHT_MAP_PRESETS[preset].w0;
  const sigma = options.sigma ?? WEIGHT_MAP_PRESETS[preset].sigma;
  // Finite: an infinite w0 or σ would make the windows' radius infinite.
  if (!(w0 >= 0 && w0 < Infinity) || !(sigma > 0 && sigma < Infinity))
    throw new RangeError(`weightMap(): w0 must be a finite number >= 0 and sigma a finite number > 0, got w0 ${w0}, sigma ${sigma}`);
  const tolerance = options.tolerance ?? 1e-6 * Math.max(w0, 1);
  if (!(tolerance > 0)) throw new RangeError(`weightMap(): option 'tolerance' must be > 0, got ${tolerance}`);
  const classWeights = options.classWeights ?? 'balance';
  return tidy(() => {
    // Not copied: the addon only reads them.
    const instances = instancesView(labels, options);
    // Beyond these distances each term is below the tolerance, so no window needs to reach further.
    const borderRadius = w0 > tolerance ? sigma * Math.sqrt(2 * Math.log(w0 / tolerance)) : 0;
    const balanceRadius = falk ? 10 * Math.sqrt(2 * Math.log(0.9 / tolerance)) : 0;
    let weights: number[];
    if (falk || classWeights === 'balance') weights = [];
    else if (classWeights === 'none') weights = [1, 1];
    else if (Array.isArray(classWeights) && classWeights.length === 2 && classWeights.every((v) => v >= 0)) weights = [...classWeights];
    else
      throw new TypeError(
        `weightMap(): option 'classWeights' must be 'balance', 'none' or [background, cell] (non-negative), got ${JSON.stringify(classWeights)}`,
      );
    return native.weightMap(instances, w0, sigma, Math.max(borderRadius, balanceRadius), weights, falk);
  });
}
