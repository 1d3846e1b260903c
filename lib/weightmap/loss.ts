// The paper's energy: pixel-wise soft-max cross-entropy weighted per pixel by the weight map.
import { tidy } from '../memory';
import { crossEntropy } from '../nn/functional';
import type { Tensor } from '../tensor';
import { centreCrop } from '../ops/crop';
import { tensorArg } from '../check';
import { checkOptions, oneOf } from '../ops/options';

/** The reductions `weightedCrossEntropy` takes. */
export const WEIGHTED_REDUCTIONS = ['mean', 'weightedMean', 'sum', 'none'] as const;
/** How `weightedCrossEntropy` reduces the weighted per-pixel losses. */
export type WeightedReduction = (typeof WEIGHTED_REDUCTIONS)[number];

/** Options of `weightedCrossEntropy`. */
export interface WeightedCrossEntropyOptions {
  /**
   * `mean` (default): Σ w·CE over the counted pixels / their number; `weightedMean`: Σ w·CE / Σ w;
   * `sum`: Σ w·CE (the paper's energy); `none`: the (N, H, W) map of w·CE.
   */
  reduction?: WeightedReduction;
  /** Target value of pixels that count for nothing (e.g. unannotated). */
  ignoreIndex?: number;
}

function crop3(map: Tensor, height: number, width: number): Tensor {
  return centreCrop(map.unsqueeze(1), height, width).squeeze(1);
}

/**
 * Soft-max cross-entropy of `logits` (N, C, h, w) against class indices `target` (N, H, W), each
 * pixel's loss multiplied by `weights` (N, H, W). Target and weights larger than the logits (the
 * labels of a valid-convolution U-Net's input tile) are centre-cropped to the logits' size.
 */
export function weightedCrossEntropy(logits: Tensor, target: Tensor, weights: Tensor, options: WeightedCrossEntropyOptions = {}): Tensor {
  for (const [name, value] of [
    ['logits', logits],
    ['target', target],
    ['weights', weights],
  ] as const)
    tensorArg('weightedCrossEntropy', name, value);
  options = checkOptions('weightedCrossEntropy', options, ['reduction', 'ignoreIndex']);
  const reduction = oneOf('weightedCrossEntropy', 'reduction', options.reduction ?? 'mean', WEIGHTED_REDUCTIONS);
  if (logits.ndim !== 4)
    throw new RangeError(`weightedCrossEntropy(): argument 'logits' must be (N, C, H, W), got shape [${logits.shape}]`);
  const [n, , h, w] = logits.shape as [number, number, number, number];
  for (const [name, t] of [
    ['target', target],
    ['weights', weights],
  ] as const) {
    if (
      t.ndim !== 3 ||
      t.shape[0] !== n ||
      t.shape[1]! < h ||
      t.shape[2]! < w ||
      (t.shape[1]! - h) % 2 !== 0 ||
      (t.shape[2]! - w) % 2 !== 0
    ) {
      throw new RangeError(
        `weightedCrossEntropy(): argument '${name}' must be (N, H, W) with N = ${n} and H, W at least the logits' ${h}×${w} (larger by an even margin, centre-cropped), got shape [${t.shape}]`,
      );
    }
  }
  if (target.shape[1] !== weights.shape[1] || target.shape[2] !== weights.shape[2]) {
    throw new RangeError(`weightedCrossEntropy(): 'target' [${target.shape}] and 'weights' [${weights.shape}] must have the same size`);
  }
  if (!weights.dtype.startsWith('float'))
    throw new TypeError(`weightedCrossEntropy(): argument 'weights' must be floating point, got ${weights.dtype}`);
  if (!tidy(() => crop3(weights, h, w).ge(0).all().item() as boolean))
    throw new RangeError("weightedCrossEntropy(): argument 'weights' holds negative or NaN values");
  return weightedLoss(logits, target, weights, reduction, options.ignoreIndex ?? -100);
}

/**
 * `weightedCrossEntropy` without its checks, for tensors the caller made itself (the training
 * loop's batches, whose weights train() checked once per sample). Reading the weights' check
 * back would make the host wait for the forward pass at every step on a GPU.
 */
export function weightedLoss(
  logits: Tensor,
  target: Tensor,
  weights: Tensor,
  reduction: WeightedReduction = 'mean',
  ignoreIndex = -100,
): Tensor {
  const [, , h, w] = logits.shape as [number, number, number, number];
  return tidy(() => {
    const t = crop3(target, h, w);
    const wt = crop3(weights, h, w);
    const perPixel = crossEntropy(logits, t, { reduction: 'none', ignoreIndex }).mul(wt);
    if (reduction === 'none') return perPixel;
    if (reduction === 'sum') return perPixel.sum();
    const counted = t.ne(ignoreIndex);
    if (reduction === 'mean') return perPixel.sum().div(counted.sum().clamp(1));
    return perPixel.sum().div(wt.mul(counted).sum());
  });
}
