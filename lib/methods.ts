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
import { pick } from './pick';
import { Tensor } from './tensor';

/** The functions that are also tensor methods, under their method names (PyTorch's). */
export const tensorMethods = {
  ...math,
  ...pick(compare, 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'logicalAnd', 'logicalOr', 'logicalNot', 'isnan', 'isfinite', 'equal', 'allclose'),
  ...linalg,
  ...shape,
  ...pick(reduce, 'sum', 'mean', 'prod', 'argmax', 'argmin', 'std', 'var', 'norm', 'all', 'any', 'cumsum'),
  ...pick(indexing, 'narrow', 'select', 'index', 'indexPut_', 'indexSelect', 'gather', 'scatter', 'maskedFill', 'maskedSelect'),
  ...pick(join, 'split', 'chunk'),
  ...pick(F, 'relu', 'relu_', 'sigmoid', 'tanh', 'softmax', 'logSoftmax'),
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
