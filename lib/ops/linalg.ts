// Matrix products.
import { native } from '../native';
import type { Tensor } from '../tensor';

/** Matrix product with NumPy's broadcasting rules (vectors, matrices and batches). */
export function matmul(input: Tensor, other: Tensor): Tensor {
  return native.matmul(input, other);
}
/** Product of two matrices. */
export function mm(input: Tensor, mat2: Tensor): Tensor {
  return native.mm(input, mat2);
}
/** Batched product of two batches of matrices. */
export function bmm(input: Tensor, mat2: Tensor): Tensor {
  return native.bmm(input, mat2);
}
/** Outer product of two vectors. */
export function outer(input: Tensor, vec2: Tensor): Tensor {
  return native.outer(input, vec2);
}
