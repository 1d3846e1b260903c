// Prints tensors the way PyTorch's torch/_tensor_str.py does: precision 4, fixed, integer or
// scientific notation chosen over all printed values, summarised past 1,000 elements, 80 columns.
import { isFloatingPoint } from './dtype';
import type { Tensor } from './tensor';

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 80;

interface Formatter {
  width: number;
  format(value: number): string;
}

function exponential(value: number): string {
  // Python writes at least two exponent digits: 1.0000e+03, not 1.0000e+3.
  return value.toExponential(PRECISION).replace(/e([+-])(\d)$/, 'e$10$2');
}

function special(value: number): string | null {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return null;
}

function makeFormatter(values: number[], floating: boolean, isBool: boolean): Formatter {
  let render: (value: number) => string;
  if (isBool) {
    render = (value) => (value !== 0 ? 'True' : 'False');
  } else if (!floating) {
    render = (value) => String(value);
  } else {
    const finite = values.filter((value) => Number.isFinite(value) && value !== 0).map(Math.abs);
    const intMode = finite.every((value) => value === Math.ceil(value));
    const min = finite.length > 0 ? Math.min(...finite) : 0;
    const max = finite.length > 0 ? Math.max(...finite) : 0;
    const sciMode = finite.length > 0 && (max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4));
    render = (value) => {
      const text = special(value);
      if (text !== null) return text;
      if (sciMode) return exponential(value);
      if (intMode) return `${value.toFixed(0)}.`;
      return value.toFixed(PRECISION);
    };
  }
  const width = Math.max(1, ...values.map((value) => render(value).length));
  return { width, format: (value) => render(value).padStart(width) };
}

interface View {
  data: number[];
  shape: number[];
  offset: number;
  strides: number[];
}

function summarisedIndices(size: number, summarise: boolean): (number | null)[] {
  if (!summarise || size <= 2 * EDGE_ITEMS) return Array.from({ length: size }, (_, k) => k);
  const head = Array.from({ length: EDGE_ITEMS }, (_, k) => k);
  const tail = Array.from({ length: EDGE_ITEMS }, (_, k) => size - EDGE_ITEMS + k);
  return [...head, null, ...tail];
}

function printedValues(view: View, summarise: boolean): number[] {
  if (view.shape.length === 0) return [view.data[view.offset] as number];
  const [size, ...inner] = view.shape as [number, ...number[]];
  const [stride, ...innerStrides] = view.strides as [number, ...number[]];
  return summarisedIndices(size, summarise)
    .filter((index): index is number => index !== null)
    .flatMap((index) =>
      printedValues({ data: view.data, shape: inner, offset: view.offset + index * stride, strides: innerStrides }, summarise),
    );
}

function render(view: View, formatter: Formatter, indent: number, summarise: boolean): string {
  const [size, ...inner] = view.shape as [number, ...number[]];
  const [stride, ...innerStrides] = view.strides as [number, ...number[]];
  const indices = summarisedIndices(size, summarise);
  if (inner.length === 0) {
    const elements = indices.map((index) =>
      index === null ? ' ...' : formatter.format(view.data[view.offset + index * stride] as number),
    );
    const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (formatter.width + 2)));
    const lines: string[] = [];
    for (let start = 0; start < elements.length; start += perLine) lines.push(elements.slice(start, start + perLine).join(', '));
    return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
  }
  const slices = indices.map((index) =>
    index === null
      ? '...'
      : render(
          { data: view.data, shape: inner, offset: view.offset + index * stride, strides: innerStrides },
          formatter,
          indent + 1,
          summarise,
        ),
  );
  return `[${slices.join(`,${'\n'.repeat(inner.length)}${' '.repeat(indent + 1)}`)}]`;
}

/** The PyTorch text of a tensor, e.g. `tensor([1.5000, 2.0000], dtype=torch.float64)`. */
export function formatTensor(tensor: Tensor): string {
  const prefix = 'tensor(';
  const shape = tensor.shape;
  const numel = tensor.numel();
  const suffixes: string[] = [];
  if (tensor.device !== 'cpu') suffixes.push(`device='${tensor.device}'`);
  let body: string;
  if (numel === 0) {
    body = '[]';
    if (shape.length !== 1) suffixes.push(`size=(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`);
  } else {
    const data = Array.from(tensor.toTypedArray() as ArrayLike<number | bigint>, Number);
    const strides = shape.map((_, k) => shape.slice(k + 1).reduce((product, size) => product * size, 1));
    const view: View = { data, shape, offset: 0, strides };
    const summarise = numel > THRESHOLD;
    const formatter = makeFormatter(printedValues(view, summarise), isFloatingPoint(tensor.dtype), tensor.dtype === 'bool');
    body = shape.length === 0 ? formatter.format(data[0] as number).trim() : render(view, formatter, prefix.length, summarise);
  }
  const defaultDtype = tensor.dtype === 'float32' || tensor.dtype === 'bool' || (tensor.dtype === 'int64' && numel > 0);
  if (!defaultDtype) suffixes.push(`dtype=torch.${tensor.dtype}`);
  if (tensor.requiresGrad) suffixes.push('requires_grad=True');
  return `${prefix}${[body, ...suffixes].join(', ')})`;
}
