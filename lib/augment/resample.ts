// Resampling through a displacement field, with mirroring at the borders.
import { arange } from '../creation';
import { tidy } from '../memory';
import { native } from '../native';
import { gridSample } from '../nn/functional';
import { stack } from '../ops/join';
import type { Tensor } from '../tensor';
import { arrayArg, objectArg, tensorArg } from '../check';

/** How `applyField` resamples: images bicubic (or bilinear), labels nearest, weight maps bilinear. */
export type ResampleMode = 'bicubic' | 'bilinear' | 'nearest';

const MODES: readonly ResampleMode[] = ['bicubic', 'bilinear', 'nearest'];

/** A tensor (N, C, H, W) for `applyFieldTo`, and how to resample it. */
export interface FieldTarget {
  /** The tensor to resample (N, C, H, W). */
  input: Tensor;
  /** How its values are interpolated. */
  mode: ResampleMode;
}

function checkTarget(fn: string, name: string, input: Tensor, mode: ResampleMode, field: Tensor): void {
  tensorArg(fn, name, input);
  if (!MODES.includes(mode))
    throw new RangeError(`${fn}(): argument 'mode' must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  if (input.ndim !== 4) throw new RangeError(`${fn}(): argument '${name}' must be (N, C, H, W), got shape [${input.shape}]`);
  const [n, , h, w] = input.shape as [number, number, number, number];
  if (field.ndim !== 4 || field.shape[0] !== n || field.shape[1] !== h || field.shape[2] !== w || field.shape[3] !== 2) {
    throw new RangeError(`${fn}(): argument 'field' must be (N, H, W, 2) = [${n}, ${h}, ${w}, 2] for this input, got [${field.shape}]`);
  }
  if (field.device !== input.device) throw new TypeError(`${fn}(): '${name}' is on ${input.device} but 'field' is on ${field.device}`);
  if (mode !== 'nearest' && !input.dtype.startsWith('float')) {
    throw new TypeError(`${fn}(): mode '${mode}' interpolates and needs a floating '${name}', got ${input.dtype}; labels use 'nearest'`);
  }
}

function checkField(fn: string, field: Tensor): void {
  tensorArg(fn, 'field', field);
  if (!field.dtype.startsWith('float')) throw new TypeError(`${fn}(): argument 'field' must be a floating tensor, got ${field.dtype}`);
  // The CPU pass finds NaN and infinity on its way; grid_sample would sample zeros there.
  if (field.device !== 'cpu' && !tidy(() => field.isfinite().all().item())) {
    throw new RangeError(`${fn}(): argument 'field' must hold finite displacements, found NaN or infinity`);
  }
}

// grid_sample on the field's device, in float64: in float32 a 500-pixel tile's normalised points
// would be off by 3e-5 pixels, which the bicubic kernel turns into visible error.
function gridSampleField(input: Tensor, field: Tensor, mode: ResampleMode): Tensor {
  return tidy(() => {
    const [, , h, w] = input.shape as [number, number, number, number];
    // Made on the device: a copy from the host would wait for the device's queue.
    const ys = arange(0, h, 1, { dtype: 'float64', device: field.device }).reshape([1, h, 1]);
    const xs = arange(0, w, 1, { dtype: 'float64', device: field.device }).reshape([1, 1, w]);
    const sourceY = field.to('float64').select(3, 0).add(ys);
    const sourceX = field.to('float64').select(3, 1).add(xs);
    const grid = stack([sourceX.mul(2 / Math.max(w - 1, 1)).sub(1), sourceY.mul(2 / Math.max(h - 1, 1)).sub(1)], 3);
    const out = gridSample(input.to('float64'), grid, { mode, paddingMode: 'reflection', alignCorners: true });
    return mode === 'nearest' ? out.round().to(input.dtype) : out.to(input.dtype);
  });
}

/**
 * Resamples each target's `input` (N, C, H, W) through the same per-sample fields (N, H, W, 2) in
 * pixels, as `applyField` does, and returns the results in order. On the CPU one native pass
 * computes each pixel's source point once and samples every target from it.
 */
export function applyFieldTo(field: Tensor, targets: readonly FieldTarget[]): Tensor[] {
  checkField('applyFieldTo', field);
  arrayArg('applyFieldTo', 'targets', targets);
  targets.forEach((target, k) => {
    objectArg('applyFieldTo', `targets[${k}]`, target);
    checkTarget('applyFieldTo', `targets[${k}].input`, target.input, target.mode, field);
  });
  return resampleTargets(field, targets);
}

/** How `applyField` resamples CUDA tensors in this build: see {@link cudaResampling}. */
export type CudaResampling = 'fused kernel' | 'torch ops';

/**
 * 'fused kernel' where the addon was built with nvcc against a CUDA libtorch (one kernel samples
 * every target from each pixel's source point), else 'torch ops' (one float64 grid_sample per
 * target). The two agree to float32 rounding; `unet info` says which one this build uses.
 */
export function cudaResampling(): CudaResampling {
  return native.cudaKernelsBuilt() ? 'fused kernel' : 'torch ops';
}

// The fused kernel interpolates float32 and float64 and copies any dtype for 'nearest'.
function fusedKernelTakes(target: FieldTarget): boolean {
  return target.mode === 'nearest' || target.input.dtype === 'float32' || target.input.dtype === 'float64';
}

/** applyFieldTo without the checks, for fields and targets the caller made itself. */
export function resampleTargets(field: Tensor, targets: readonly FieldTarget[]): Tensor[] {
  if (targets.length === 0) return [];
  const inputs = targets.map((target) => target.input);
  const modes = targets.map((target) => target.mode);
  if (field.device === 'cpu') return native.remap(inputs, field, modes);
  if (cudaResampling() === 'fused kernel' && targets.every(fusedKernelTakes)) return native.remapCuda(inputs, field, modes);
  return resampleWithTorchOps(field, targets);
}

/** The torch-ops path on any device: one grid_sample per target (what CUDA uses without the fused kernel). */
export function resampleWithTorchOps(field: Tensor, targets: readonly FieldTarget[]): Tensor[] {
  return targets.map((target) => gridSampleField(target.input, field, target.mode));
}

/**
 * Resamples `input` (N, C, H, W) through per-sample fields (N, H, W, 2) in pixels: out(y, x) =
 * in(y + dy, x + dx), mirrored about the outer pixel centres where that falls outside the image
 * (scipy's `mode='mirror'`). Labels resampled with `nearest` only ever hold values of the input.
 */
export function applyField(input: Tensor, field: Tensor, mode: ResampleMode): Tensor {
  checkField('applyField', field);
  checkTarget('applyField', 'input', input, mode, field);
  return resampleTargets(field, [{ input, mode }])[0]!;
}
