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
/** The `ord`-norm of all elements taken as one vector (PyTorch's `torch.linalg.vector_norm`). */
export function vectorNorm(input: Tensor, ord = 2): Tensor {
  return native.vectorNorm(input, ord);
}
/** The diagonal of a matrix (a vector), or the diagonal matrix of a vector. */
export function diag(input: Tensor, diagonal = 0): Tensor {
  return native.diag(input, diagonal);
}
/** Q and R of the reduced QR decomposition. */
export function qr(input: Tensor): {
  /** The factor with orthonormal columns, (…, M, K) for K = min(M, N). */
  Q: Tensor;
  /** The upper triangular factor, (…, K, N). */
  R: Tensor;
} {
  const [Q, R] = native.linalgQr(input);
  return { Q, R };
}
