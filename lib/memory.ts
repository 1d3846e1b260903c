// Deterministic release of tensor memory: tidy scopes, keep, dispose, and the live-tensor count.
import { type MemorySnapshot, native } from './native';
import { Tensor } from './tensor';

/** Every tensor found in `value`: itself, or inside arrays, plain objects and Maps, at any depth. */
export function collectTensors(value: unknown, into: Tensor[] = [], seen = new Set<unknown>()): Tensor[] {
  if (value instanceof Tensor) {
    into.push(value);
  } else if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    if (value instanceof Map) for (const entry of value.values()) collectTensors(entry, into, seen);
    else if (Array.isArray(value)) for (const entry of value) collectTensors(entry, into, seen);
    else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const entry of Object.values(value)) collectTensors(entry, into, seen);
    }
  }
  return into;
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `fn` and then frees every tensor created during it, except the tensors it returns (found
 * inside arrays, plain objects and Maps too) and those passed to `keep`. Returned tensors move to
 * the enclosing scope. Synchronous only: a Promise would outlive the scope, so it is refused.
 */
export function tidy<R>(fn: () => R): R {
  if (typeof fn !== 'function') throw new TypeError(`tidy(): argument 'fn' must be a function, got ${typeof fn}`);
  native.beginScope();
  let result: R;
  try {
    result = fn();
  } catch (error) {
    native.endScope([]);
    throw error;
  }
  if (isPromiseLike(result)) {
    native.endScope([]);
    throw new TypeError(
      'tidy(): fn returned a Promise. tidy() is synchronous: tidy the synchronous parts, or dispose tensors yourself across awaits',
    );
  }
  native.endScope(collectTensors(result));
  return result;
}

/** Exempts `tensor` from the enclosing tidy() scopes: it lives until disposed. Returns it. */
export function keep<T extends Tensor>(tensor: T): T {
  native.keep(tensor);
  return tensor;
}

/** Disposes every tensor in `value` (a tensor, or arrays, plain objects and Maps of them). */
export function dispose(value: unknown): void {
  for (const tensor of collectTensors(value)) tensor.dispose();
}

/** Live tensors, their peak count, and bytes and tensor counts per device. */
export function memory(): MemorySnapshot {
  return native.memory();
}

export type { MemorySnapshot };
