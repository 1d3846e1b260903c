// Argument checks that need no libtorch: the readers, the label arrays and the pictures use them
// in the ONNX engine and the browser page as well, so nothing here may load the addon
// (lib/check.ts holds the checks that know the Tensor class).

/** A value as argument errors describe it: its type, and a number or string itself. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'object') {
    // The class's own name (a Tensor, an Int32Array); a plain object has Object's.
    const name: unknown = (value as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name !== 'string' || name === '' || name === 'Object') return 'an object';
    return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
  }
  return `a ${typeof value}`;
}

/** `value` when it is a non-empty string (a file path); a TypeError naming the argument otherwise. */
export function pathArg(fn: string, name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`${fn}(): argument '${name}' must be a file path (a non-empty string), got ${describe(value)}`);
  return value;
}
