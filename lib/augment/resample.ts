// Resampling through a displacement field, with mirroring at the borders.
import { tensor as makeTensor } from '../creation';
import { tidy } from '../memory';
import { native } from '../native';
import { gridSample } from '../nn/functional';
import { stack } from '../ops/join';
import type { Tensor } from '../tensor';
import { tensorArg } from '../check';

/** How `applyField` resamples: images bicubic (or bilinear), labels nearest, weight maps bilinear. */
export type ResampleMode = 'bicubic' | 'bilinear' | 'nearest';

const MODES: readonly ResampleMode[] = ['bicubic', 'bilinear', 'nearest'];

/**
 * Resamples `input` (N, C, H, W) through per-sample fields (N, H, W, 2) in pixels: out(y, x) =
 * in(y + dy, x + dx), mirrored about the outer pixel centres where that falls outside the image
 * (scipy's `mode='mirror'`). Labels resampled with `nearest` only ever hold values of the input.
 */
export function applyField(input: Tensor, field: Tensor, mode: ResampleMode): Tensor {
  tensorArg('applyField', 'input', input);
  tensorArg('applyField', 'field', field);
  if (!MODES.includes(mode)) throw new RangeError(`applyField(): argument 'mode' must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  if (input.ndim !== 4) throw new RangeError(`applyField(): argument 'input' must be (N, C, H, W), got shape [${input.shape}]`);
  const [n, , h, w] = input.shape as [number, number, number, number];
  if (field.ndim !== 4 || field.shape[0] !== n || field.shape[1] !== h || field.shape[2] !== w || field.shape[3] !== 2) {
    throw new RangeError(`applyField(): argument 'field' must be (N, H, W, 2) = [${n}, ${h}, ${w}, 2] for this input, got [${field.shape}]`);
  }
  if (!field.dtype.startsWith('float')) throw new TypeError(`applyField(): argument 'field' must be a floating tensor, got ${field.dtype}`);
  if (field.device !== input.device) throw new TypeError(`applyField(): 'input' is on ${input.device} but 'field' is on ${field.device}`);
  const interpolates = mode !== 'nearest';
  if (interpolates && !input.dtype.startsWith('float')) {
    throw new TypeError(`applyField(): mode '${mode}' interpolates and needs a floating 'input', got ${input.dtype}; labels use 'nearest'`);
  }
  // On the CPU one native pass samples every channel from a double-precision source point.
  if (input.device === 'cpu') return native.remap(input, field, mode);
  return tidy(() => {
    // grid_sample's normalised coordinates in float64: in float32 a 500-pixel tile's points would
    // be off by 3e-5 pixels, which the bicubic kernel turns into visible error.
    const ys = makeTensor(Array.from({ length: h }, (_, k) => k), { dtype: 'float64', device: field.device }).reshape([1, h, 1]);
    const xs = makeTensor(Array.from({ length: w }, (_, k) => k), { dtype: 'float64', device: field.device }).reshape([1, 1, w]);
    const sourceY = field.to('float64').select(3, 0).add(ys);
    const sourceX = field.to('float64').select(3, 1).add(xs);
    const grid = stack([sourceX.mul(2 / Math.max(w - 1, 1)).sub(1), sourceY.mul(2 / Math.max(h - 1, 1)).sub(1)], 3);
    const out = gridSample(input.to('float64'), grid, { mode, paddingMode: 'reflection', alignCorners: true });
    return interpolates ? out.to(input.dtype) : out.round().to(input.dtype);
  });
}
