// Tensor methods: `x.add(y)` is `torch.add(x, y)`. Each method is installed from the function
// of the same name, so a method and its function cannot drift apart.
import * as F from './nn/functional';
import * as compare from './ops/compare';
import * as indexing from './ops/indexing';
import * as join from './ops/join';
import * as linalg from './ops/linalg';
import * as math from './ops/math';
import * as reduce from './ops/reduce';
import * as shape from './ops/shape';
import { Tensor } from './tensor';

/** The functions that are also tensor methods, under their method names (PyTorch's). */
export const tensorMethods = {
  ...math,
  eq: compare.eq,
  ne: compare.ne,
  lt: compare.lt,
  le: compare.le,
  gt: compare.gt,
  ge: compare.ge,
  logicalAnd: compare.logicalAnd,
  logicalOr: compare.logicalOr,
  logicalNot: compare.logicalNot,
  isnan: compare.isnan,
  isfinite: compare.isfinite,
  equal: compare.equal,
  allclose: compare.allclose,
  ...linalg,
  ...shape,
  sum: reduce.sum,
  mean: reduce.mean,
  prod: reduce.prod,
  argmax: reduce.argmax,
  argmin: reduce.argmin,
  std: reduce.std,
  var: reduce.variance,
  norm: reduce.norm,
  all: reduce.all,
  any: reduce.any,
  cumsum: reduce.cumsum,
  narrow: indexing.narrow,
  select: indexing.select,
  index: indexing.index,
  indexPut_: indexing.indexPut_,
  indexSelect: indexing.indexSelect,
  gather: indexing.gather,
  scatter: indexing.scatter,
  maskedFill: indexing.maskedFill,
  maskedSelect: indexing.maskedSelect,
  split: join.split,
  chunk: join.chunk,
  relu: F.relu,
  relu_: F.relu_,
  sigmoid: F.sigmoid,
  tanh: F.tanh,
  softmax: F.softmax,
  logSoftmax: F.logSoftmax,
};

type Method<F> = F extends (input: Tensor, ...args: infer A) => infer R ? (...args: A) => R : never;
type TensorMethods = { [K in keyof typeof tensorMethods]: Method<(typeof tensorMethods)[K]> };

declare module './tensor' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Tensor extends TensorMethods {}
}

for (const [name, fn] of Object.entries(tensorMethods) as [string, (input: Tensor, ...args: unknown[]) => unknown][]) {
  const method = function (this: Tensor, ...args: unknown[]): unknown {
    return fn(this, ...args);
  };
  Object.defineProperty(method, 'name', { value: name });
  Object.defineProperty(Tensor.prototype, name, { value: method, writable: true, configurable: true });
}
