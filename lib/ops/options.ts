// Validation of keyword options in JS, before the native call: the error names the function and
// the option, as a PyTorch user would want from a misspelt keyword or a bad value.

/** One extent for both axes, or [height, width]. */
export type IntOrPair = number | [number, number];

/** Throws a TypeError for keys of `options` that `fn` does not know (a misspelt option is a bug). */
export function checkOptions<O extends object>(fn: string, options: O | undefined, known: readonly (keyof O & string)[]): O {
  if (options === undefined) return {} as O;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(
      `${fn}(): options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(known as readonly string[]).includes(key)) {
      throw new TypeError(`${fn}(): unknown option '${key}'; known options: ${known.join(', ')}`);
    }
  }
  return options;
}

/** `value` when it is one of `allowed`; a TypeError naming the option otherwise. */
export function oneOf<V extends string>(fn: string, option: string, value: unknown, allowed: readonly V[]): V {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const got = typeof value === 'string' ? `'${value}'` : String(value);
    throw new TypeError(`${fn}(): option '${option}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${got}`);
  }
  return value as V;
}

/** An integer or a list of `length` integers, each at least `min`; a RangeError naming the option otherwise. */
export function intPair(fn: string, option: string, value: number | number[], min: number, length = 2): number[] {
  const values = typeof value === 'number' ? Array<number>(length).fill(value) : value;
  if (!Array.isArray(values) || values.length !== length || !values.every((v) => Number.isInteger(v))) {
    throw new TypeError(`${fn}(): option '${option}' must be an integer or ${length} integers, got ${JSON.stringify(value)}`);
  }
  if (values.some((v) => v < min)) {
    throw new RangeError(`${fn}(): option '${option}' must be >= ${min}, got ${JSON.stringify(value)}`);
  }
  return values;
}

/** A number in [low, high]; a RangeError naming the option otherwise. */
export function inRange(fn: string, option: string, value: number, low: number, high: number): number {
  if (typeof value !== 'number' || !(value >= low && value <= high)) {
    throw new RangeError(`${fn}(): option '${option}' must be a number in [${low}, ${high}], got ${String(value)}`);
  }
  return value;
}

/** How a loss reduces over elements; the integers are ATen's `at::Reduction`. */
export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTIONS: readonly Reduction[] = ['none', 'mean', 'sum'];

export function reductionCode(fn: string, value: Reduction | undefined): number {
  return REDUCTIONS.indexOf(oneOf(fn, 'reduction', value ?? 'mean', REDUCTIONS));
}
