// Autograd beyond backward(): torch.autograd.grad and the grad-mode scopes.
import { isPromiseLike } from './memory';
import { native } from './native';
import type { Tensor } from './tensor';
import { functionArg } from './check';

/** Options of `grad`. */
export interface GradOptions {
  /** The vector of the vector-Jacobian product, one per output (needed for non-scalar outputs). */
  gradOutputs?: Tensor[];
  /** Keep the graph for another backward pass (defaults to `createGraph`). */
  retainGraph?: boolean;
  /** Record the gradient computation itself, for higher derivatives. */
  createGraph?: boolean;
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * The gradients of `outputs` with respect to `inputs` (PyTorch's `torch.autograd.grad`), without
 * touching any `.grad`. New tensors: they follow the same dispose/tidy rules as any other.
 */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor | Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const createGraph = options.createGraph ?? false;
  return native.autogradGrad(
    Array.isArray(outputs) ? outputs : [outputs],
    Array.isArray(inputs) ? inputs : [inputs],
    options.gradOutputs,
    options.retainGraph ?? createGraph,
    createGraph,
    options.allowUnused ?? false,
  );
}

// A scope cannot span an await: the mode would be restored before the awaited part runs.
function synchronous<R>(scope: string, result: R): R {
  if (isPromiseLike(result)) throw new TypeError(`${scope}(): fn returned a Promise; the scope is synchronous and has already ended`);
  return result;
}

function withGradMode<R>(scope: string, enabled: boolean, fn: () => R): R {
  functionArg(scope, 'fn', fn);
  const previous = native.isGradEnabled();
  native.setGradEnabled(enabled);
  try {
    return synchronous(scope, fn());
  } finally {
    native.setGradEnabled(previous);
  }
}

/** Runs `fn` without recording operations for autograd (PyTorch's `with torch.no_grad()`). Nestable. */
export function noGrad<R>(fn: () => R): R {
  return withGradMode('noGrad', false, fn);
}
/** Runs `fn` with recording on, also inside `noGrad` (PyTorch's `with torch.enable_grad()`). */
export function enableGrad<R>(fn: () => R): R {
  return withGradMode('enableGrad', true, fn);
}
/** Whether operations are being recorded for autograd here. */
export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}
/**
 * Runs `fn` in inference mode (PyTorch's `with torch.inference_mode()`): faster than `noGrad`,
 * and tensors made inside can never enter autograd later. Synchronous; nestable.
 */
export function inferenceMode<R>(fn: () => R): R {
  functionArg('inferenceMode', 'fn', fn);
  native.enterInferenceMode();
  try {
    return synchronous('inferenceMode', fn());
  } finally {
    native.exitInferenceMode();
  }
}
/** Whether inference mode is on here. */
export function isInferenceMode(): boolean {
  return native.isInferenceMode();
}
