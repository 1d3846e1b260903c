// Argument checks of the TypeScript layer, for functions that read an argument before any
// native call could check it: the error names the function, the argument and what came, in the
// words the native layer uses. These know the Tensor class, and so load the addon; the checks
// that need no libtorch are in lib/arguments.ts.
import { describe } from './arguments';
import { Tensor } from './tensor';

/** `value` when it is a Tensor; a TypeError naming the argument otherwise. */
export function tensorArg(fn: string, name: string, value: unknown): Tensor {
  if (!(value instanceof Tensor)) throw new TypeError(`${fn}(): argument '${name}' must be a Tensor, got ${describe(value)}`);
  return value;
}

/** `value` when it is a function; a TypeError naming the argument otherwise. */
export function functionArg<F extends (...args: never[]) => unknown>(fn: string, name: string, value: unknown): F {
  if (typeof value !== 'function') throw new TypeError(`${fn}(): argument '${name}' must be a function, got ${describe(value)}`);
  return value as F;
}

/** `value` when it is an array; a TypeError naming the argument otherwise. */
export function arrayArg<T>(fn: string, name: string, value: unknown): T[] {
  if (!Array.isArray(value)) throw new TypeError(`${fn}(): argument '${name}' must be an array, got ${describe(value)}`);
  return value as T[];
}

/** `value` when it is a plain object (not null, not an array); a TypeError naming the argument otherwise. */
export function objectArg<T extends object>(fn: string, name: string, value: unknown): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Tensor) {
    throw new TypeError(`${fn}(): argument '${name}' must be an object, got ${describe(value)}`);
  }
  return value as T;
}

/** Whether `value` is iterable and not a string (an array, a Set, a generator such as `model.parameters()`). */
export function isIterable(value: unknown): value is Iterable<unknown> {
  return (
    value !== null &&
    value !== undefined &&
    typeof value !== 'string' &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function'
  );
}

/** `value` when it is iterable; a TypeError naming the argument otherwise. */
export function iterableArg<T>(fn: string, name: string, value: unknown, expected: string): Iterable<T> {
  if (!isIterable(value)) throw new TypeError(`${fn}(): argument '${name}' must be ${expected}, got ${describe(value)}`);
  return value as Iterable<T>;
}

/** `value` when it is a positive integer; a TypeError naming the argument otherwise. */
export function positiveIntegerArg(fn: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 1)
    throw new TypeError(`${fn}(): argument '${name}' must be a positive integer, got ${describe(value)}`);
  return value as number;
}

/** `value` when it is an integer ≥ 0; a TypeError naming the argument otherwise. */
export function nonNegativeIntegerArg(fn: string, name: string, value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 0)
    throw new TypeError(`${fn}(): argument '${name}' must be a non-negative integer, got ${describe(value)}`);
  return value as number;
}

/** `value` when it is a finite number; a TypeError naming the argument otherwise. */
export function finiteNumberArg(fn: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new TypeError(`${fn}(): argument '${name}' must be a finite number, got ${describe(value)}`);
  return value;
}
