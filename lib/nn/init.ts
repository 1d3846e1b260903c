/**
 * torch.nn.init: in-place initialisation, each step as PyTorch's `torch/nn/init.py` takes it, so
 * that a seeded model gets the same initial weights here as in PyTorch.
 * @module
 */
import { noGrad } from '../autograd';
import { empty, tensor as makeTensor } from '../creation';
import { tidy } from '../memory';
import { native } from '../native';
import { where } from '../ops/compare';
import type { Tensor } from '../tensor';

/** Non-linearities known to `calculateGain`. */
export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';
/** Which fan `kaiming*` scales by. */
export type FanMode = 'fan_in' | 'fan_out';

/** The recommended gain for a non-linearity (`param`: leaky ReLU's negative slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5.0 / 3;
    case 'relu':
      return Math.sqrt(2.0);
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2.0 / (1 + slope ** 2));
    }
    case 'selu':
      return 3.0 / 4;
    default:
      throw new TypeError(`calculateGain(): unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/** [fanIn, fanOut] of a weight: dim 1 and dim 0 times the receptive field (PyTorch's convention). */
export function calculateFanInAndFanOut(tensor: Tensor): [number, number] {
  const shape = tensor.shape;
  if (shape.length < 2) throw new RangeError('calculateFanInAndFanOut(): fan in and fan out need a tensor with at least 2 dimensions');
  const receptive = shape.slice(2).reduce((product, size) => product * size, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

function fanOf(tensor: Tensor, mode: FanMode): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new TypeError(`init: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return mode === 'fan_in' ? fanIn : fanOut;
}

function inPlace(tensor: Tensor, fill: () => void): Tensor {
  noGrad(fill);
  return tensor;
}

/** Fills with U(a, b). */
export function uniform_(tensor: Tensor, a = 0, b = 1): Tensor {
  return inPlace(tensor, () => native.uniform_(tensor, a, b));
}
/** Fills with N(mean, std²). */
export function normal_(tensor: Tensor, mean = 0, std = 1): Tensor {
  return inPlace(tensor, () => native.normal_(tensor, mean, std));
}
/** Fills with `value`. */
export function constant_(tensor: Tensor, value: number): Tensor {
  return inPlace(tensor, () => native.fill_(tensor, value));
}
/** Fills with 0. */
export function zeros_(tensor: Tensor): Tensor {
  return inPlace(tensor, () => native.zero_(tensor));
}
/** Fills with 1. */
export function ones_(tensor: Tensor): Tensor {
  return constant_(tensor, 1);
}

/** Glorot uniform: U(-a, a), a = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform_(tensor: Tensor, gain = 1.0): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  const std = gain * Math.sqrt(2.0 / (fanIn + fanOut));
  const a = Math.sqrt(3.0) * std;
  return uniform_(tensor, -a, a);
}
/** Glorot normal: N(0, gain²·2 / (fanIn + fanOut)). */
export function xavierNormal_(tensor: Tensor, gain = 1.0): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(tensor);
  return normal_(tensor, 0, gain * Math.sqrt(2.0 / (fanIn + fanOut)));
}

/** Options of the He (Kaiming) initialisations. */
export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (default 0). */
  a?: number;
  /** `'fan_in'` (default) keeps the forward pass's variance, `'fan_out'` the backward pass's. */
  mode?: FanMode;
  /** The activation whose gain scales the bound (default `'leaky_relu'`, with slope `a`). */
  nonlinearity?: Nonlinearity;
}
/** He uniform: U(-b, b), b = gain·√(3 / fan). PyTorch's default for conv and linear weights uses a = √5. */
export function kaimingUniform_(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  if (tensor.shape.includes(0)) return tensor;
  const std = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fanOf(tensor, options.mode ?? 'fan_in'));
  const bound = Math.sqrt(3.0) * std;
  return uniform_(tensor, -bound, bound);
}
/** He normal: N(0, gain² / fan); with fan in and ReLU gain this is the U-Net paper's √(2/N). */
export function kaimingNormal_(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  if (tensor.shape.includes(0)) return tensor;
  const std = calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fanOf(tensor, options.mode ?? 'fan_in'));
  return normal_(tensor, 0, std);
}

// Python's math.erf, through libm as Python itself calls it (JS has no erf).
function erf(x: number): number {
  return tidy(() => native.erf(makeTensor(x, { dtype: 'float64' })).item() as number);
}

/**
 * N(mean, std²) truncated to [a, b], drawn as PyTorch draws it (plain sampling with redraws when
 * the interval holds most of the mass, rejection sampling from U(a, b) otherwise).
 */
export function truncNormal_(tensor: Tensor, mean = 0, std = 1, a = -2, b = 2): Tensor {
  const normCdf = (x: number): number => (1.0 + erf(x / Math.sqrt(2.0))) / 2.0;
  noGrad(() =>
    tidy(() => {
      const options = { dtype: tensor.dtype, device: tensor.device };
      const p = normCdf((b - mean) / std) - normCdf((a - mean) / std);
      if (p > 0.3) {
        const lo = makeTensor(a, { dtype: tensor.dtype }).item() as number;
        const hi = makeTensor(b, { dtype: tensor.dtype }).item() as number;
        native.normal_(tensor, mean, std);
        let result = tensor;
        for (;;) {
          const mask = result.lt(lo).logicalOr(result.gt(hi));
          if (!mask.any().item()) break;
          const redraw = empty(tensor.shape, options);
          native.normal_(redraw, mean, std);
          result = where(mask, redraw, result);
        }
        if (result !== tensor) native.copy_(tensor, result);
        return;
      }
      const mode = Math.max(a, Math.min(mean, b));
      const logPeak = -0.5 * ((mode - mean) / std) ** 2;
      const logDensity = (x: Tensor): Tensor => x.sub(mean).div(std).pow(2).mul(-0.5).sub(logPeak);
      const uniform01 = (): Tensor => {
        const u = empty(tensor.shape, options);
        native.uniform_(u, 0, 1);
        return u;
      };
      native.uniform_(tensor, a, b);
      let candidates = logDensity(tensor);
      let pending = uniform01().log().gt(candidates);
      if (!pending.any().item()) return;
      let result = tensor;
      for (;;) {
        const drawn = empty(tensor.shape, options);
        native.uniform_(drawn, a, b);
        result = where(pending, drawn, result);
        candidates = logDensity(drawn);
        pending = where(pending, uniform01().log().gt(candidates), pending);
        if (!pending.any().item()) break;
      }
      native.copy_(tensor, result);
    }),
  );
  return tensor;
}

/** A (semi-)orthogonal matrix, via the QR decomposition of a Gaussian matrix, times `gain`. */
export function orthogonal_(tensor: Tensor, gain = 1): Tensor {
  if (tensor.ndim < 2) throw new RangeError('orthogonal_(): only tensors with 2 or more dimensions are supported');
  if (tensor.numel() === 0) return tensor;
  noGrad(() =>
    tidy(() => {
      const rows = tensor.shape[0]!;
      const cols = tensor.numel() / rows;
      let flattened = empty([rows, cols], { dtype: tensor.dtype, device: tensor.device });
      native.normal_(flattened, 0, 1);
      if (rows < cols) flattened = flattened.transpose(0, 1);
      let [q, r] = native.linalgQr(flattened);
      const ph = native.diag(r!, 0).sign();
      q = q!.mul(ph);
      if (rows < cols) q = q.transpose(0, 1);
      native.copy_(tensor.view(q.shape), q);
      native.mul_(tensor, gain);
    }),
  );
  return tensor;
}
