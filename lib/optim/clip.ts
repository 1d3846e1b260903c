// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ compute it on the CPU.
import { noGrad } from '../autograd';
import { tensor as makeTensor } from '../creation';
import { stack } from '../ops/join';
import { vectorNorm } from '../ops/linalg';
import { tidy } from '../memory';
import type { Tensor } from '../tensor';

/** Options of `clipGradNorm_`. */
export interface ClipGradNormOptions {
  /** The p of the p-norm (default 2; Infinity for the max norm). */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it. */
  errorIfNonfinite?: boolean;
}

/**
 * Scales all gradients together so that their joint norm is at most `maxNorm`. Returns the
 * joint norm before clipping (a 0-d tensor).
 */
export function clipGradNorm_(parameters: Iterable<Tensor>, maxNorm: number, options: ClipGradNormOptions = {}): Tensor {
  const normType = options.normType ?? 2;
  return noGrad(() =>
    tidy(() => {
      const grads = [...parameters].map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return makeTensor(0.0);
      const total = vectorNorm(stack(grads.map((g) => vectorNorm(g, normType))), normType);
      if (options.errorIfNonfinite && !(total.isfinite().item() as boolean)) {
        throw new RangeError(
          `clipGradNorm_(): the total norm of order ${normType} of the gradients is non-finite, so it cannot be clipped`,
        );
      }
      // Python's `max_norm / (total + 1e-6)` is `(total + 1e-6).reciprocal() * max_norm`.
      const coefficient = total.add(1e-6).reciprocal().mul(maxNorm).clamp(undefined, 1.0);
      for (const g of grads) g.mul_(coefficient);
      return total;
    }),
  );
}

/** Clamps every gradient element into [-clipValue, clipValue]. */
export function clipGradValue_(parameters: Iterable<Tensor>, clipValue: number): void {
  noGrad(() =>
    tidy(() => {
      for (const p of parameters) p.grad?.clamp_(-clipValue, clipValue);
    }),
  );
}
