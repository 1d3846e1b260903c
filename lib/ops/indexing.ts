// Indexing: narrow/select, Python-style slicing with `index`, advanced indexing with integer and
// boolean tensors, gather/scatter and masks.
import { tidy } from '../memory';
import { native } from '../native';
import { Tensor, type TensorLike } from '../tensor';
import { tensorArg } from '../check';

/** A slice `start:end:step`; omitted parts mean "from the start", "to the end", step 1. */
export interface Slice {
  /** The first index (default 0; negative counts from the end). */
  start?: number;
  /** The index it stops before (default: the end; negative counts from the end). */
  end?: number;
  /** The step (default 1). */
  step?: number;
}
/** `slice(2, 5)` is Python's `2:5`; `slice(undefined, undefined, 2)` is `::2`. */
export function slice(start?: number, end?: number, step?: number): Slice {
  return { start, end, step };
}

/**
 * One item of an index, as in Python's `x[...]`: an integer selects (and removes) a dimension; a
 * slice, or a string such as `':'`, `'2:5'`, `'::2'`, `'-3:'`, keeps it; `'...'` stands for all
 * dimensions not named; `null` inserts a dimension of size 1 (Python's `None`); an integer tensor
 * picks positions and a boolean tensor masks (advanced indexing, which copies).
 */
export type IndexItem = number | string | Slice | Tensor | null;

type Parsed =
  | { kind: 'int'; value: number }
  | { kind: 'slice'; slice: Slice }
  | { kind: 'ellipsis' }
  | { kind: 'newaxis' }
  | { kind: 'tensor'; tensor: Tensor };

function parseInteger(text: string, whole: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (!/^-?\d+$/.test(trimmed)) throw new TypeError(`index(): '${whole}' is not a valid index: '${trimmed}' is not an integer`);
  return Number(trimmed);
}

function parseItem(item: IndexItem): Parsed {
  if (item === null) return { kind: 'newaxis' };
  if (item instanceof Tensor) return { kind: 'tensor', tensor: item };
  if (typeof item === 'number') {
    if (!Number.isInteger(item)) throw new TypeError(`index(): an index must be an integer, got ${item}`);
    return { kind: 'int', value: item };
  }
  if (typeof item === 'string') {
    const text = item.trim();
    if (text === '...') return { kind: 'ellipsis' };
    if (text === 'None') return { kind: 'newaxis' };
    const parts = text.split(':');
    if (parts.length === 1) {
      const value = parseInteger(text, item);
      if (value === undefined) throw new TypeError(`index(): an empty string is not an index (use ':' for a full slice)`);
      return { kind: 'int', value };
    }
    if (parts.length > 3) throw new TypeError(`index(): '${item}' is not a valid slice`);
    const [start, end, step] = parts.map((part) => parseInteger(part, item));
    return { kind: 'slice', slice: { start, end, step } };
  }
  if (typeof item === 'object' && !Array.isArray(item)) return { kind: 'slice', slice: item };
  throw new TypeError(
    `index(): an index item must be an integer, a slice string, a slice, a Tensor or null, got ${Array.isArray(item) ? 'an array' : typeof item}`,
  );
}

/** The items of a spec; one string may hold them all, comma-separated: `':, 2:5, ::2'`. */
function parseSpec(items: IndexItem[]): Parsed[] {
  const expanded = items.length === 1 && typeof items[0] === 'string' && items[0].includes(',') ? items[0].split(',') : items;
  const parsed = expanded.map(parseItem);
  if (parsed.filter((p) => p.kind === 'ellipsis').length > 1) throw new TypeError("index(): an index can have only one '...'");
  return parsed;
}

/**
 * Applies the basic part of an index (integers, slices, `...`, new axes) as views, and returns the
 * view with the advanced-index list (one entry per remaining dimension: a tensor or null).
 */
function applyBasic(input: Tensor, spec: Parsed[]): { view: Tensor; advanced: (Tensor | null)[] } {
  const consumed = spec.reduce(
    (n, p) => n + (p.kind === 'int' || p.kind === 'slice' ? 1 : p.kind === 'tensor' ? (p.tensor.dtype === 'bool' ? p.tensor.ndim : 1) : 0),
    0,
  );
  const ndim = input.ndim;
  if (consumed > ndim) throw new RangeError(`index(): too many indices for a tensor of dimension ${ndim} (got ${consumed})`);
  let view = input;
  let dim = 0;
  const advanced: (Tensor | null)[] = [];
  for (const item of spec) {
    switch (item.kind) {
      case 'int':
        view = native.select(view, dim, item.value);
        break;
      case 'slice':
        view = native.slice(view, dim, item.slice.start, item.slice.end, item.slice.step ?? 1);
        advanced.push(null);
        dim += 1;
        break;
      case 'newaxis':
        view = native.unsqueeze(view, dim);
        advanced.push(null);
        dim += 1;
        break;
      case 'ellipsis':
        for (let k = 0; k < ndim - consumed; k += 1) advanced.push(null);
        dim += ndim - consumed;
        break;
      case 'tensor':
        advanced.push(item.tensor);
        dim += item.tensor.dtype === 'bool' ? item.tensor.ndim : 1;
        break;
    }
  }
  while (advanced.length > 0 && advanced[advanced.length - 1] === null) advanced.pop();
  return { view, advanced };
}

/**
 * Python's `x[...]`: `index(x, ':', '2:5', '::2')` or `index(x, ':, 2:5, ::2')` is `x[:, 2:5, ::2]`;
 * `index(x, 0, mask)` is `x[0, mask]`. Basic indexing returns a view; tensors in the index copy.
 */
export function index(input: Tensor, ...items: IndexItem[]): Tensor {
  tensorArg('index', 'input', input);
  const spec = parseSpec(items);
  return tidy(() => {
    const { view, advanced } = applyBasic(input, spec);
    if (advanced.length > 0) return native.index(view, advanced);
    return view === input ? native.alias(input) : view;
  });
}

/** Python's `x[...] = value`, in place: writes `value` (broadcast) where `index` points. Returns `input`. */
export function indexPut_(input: Tensor, items: IndexItem | IndexItem[], value: TensorLike): Tensor {
  tensorArg('indexPut_', 'input', input);
  const spec = parseSpec(Array.isArray(items) ? items : [items]);
  tidy(() => {
    const { view, advanced } = applyBasic(input, spec);
    if (advanced.length > 0) native.indexPut_(view, advanced, value, false);
    else if (value instanceof Tensor) native.copy_(view, value);
    else native.fill_(view, value);
  });
  return input;
}

/** The view of `length` elements from `start` along `dim`. */
export function narrow(input: Tensor, dim: number, start: number, length: number): Tensor {
  return native.narrow(input, dim, start, length);
}
/** The view at `index` along `dim`, without that dimension. */
export function select(input: Tensor, dim: number, index: number): Tensor {
  return native.select(input, dim, index);
}
/** The entries at the positions `index` (1-d integer tensor) along `dim`. */
export function indexSelect(input: Tensor, dim: number, index: Tensor): Tensor {
  return native.indexSelect(input, dim, index);
}
/** `out[i][j] = input[index[i][j]][j]` for dim 0, and so on. */
export function gather(input: Tensor, dim: number, index: Tensor): Tensor {
  return native.gather(input, dim, index);
}
/** A copy of `input` with `src` (a tensor or a number) written at `index` along `dim`. */
export function scatter(input: Tensor, dim: number, index: Tensor, src: TensorLike): Tensor {
  return native.scatter(input, dim, index, src);
}
/** A copy of `input` with `value` where `mask` is true. */
export function maskedFill(input: Tensor, mask: Tensor, value: TensorLike): Tensor {
  return native.maskedFill(input, mask, value);
}
/** The elements where `mask` is true, as a 1-d tensor. */
export function maskedSelect(input: Tensor, mask: Tensor): Tensor {
  return native.maskedSelect(input, mask);
}
