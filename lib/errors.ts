// Errors that callers catch by kind rather than by message. The addon throws OutOfMemoryError
// itself once this module has registered the class (tensor.ts loads it before any tensor exists).
import { native } from './native';

/**
 * Thrown when libtorch cannot allocate the memory an operation needs: CUDA out of memory on a GPU
 * (PyTorch's `torch.OutOfMemoryError`), or a CPU allocation that the system refuses. The tensors
 * made before stay valid and the process stays usable: free memory (dispose tensors,
 * `torch.cuda.emptyCache()`) or make the work smaller (a smaller tile or batch) and try again.
 * Prediction and training rethrow it with the tile and batch that did not fit (the original
 * error is the `cause`).
 */
export class OutOfMemoryError extends Error {
  /** An error with `message`; `options.cause` holds libtorch's own error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OutOfMemoryError';
  }
}
native.setOutOfMemoryErrorClass(OutOfMemoryError);

/**
 * The OutOfMemoryError for `batchSize` tiles of `tileSize` pixels that did not fit on `device`,
 * naming a smaller tile (`smallerTile`, from `UNet.smallerInputSize`) to try.
 */
export function tileOutOfMemory(
  where: string,
  tile: { tileSize: number; batchSize: number; smallerTile: number | null; device: string },
  cause: OutOfMemoryError,
): OutOfMemoryError {
  const { tileSize, batchSize, smallerTile, device } = tile;
  const tiles = batchSize === 1 ? '1 tile' : `a batch of ${batchSize} tiles`;
  const smaller =
    smallerTile === null ? 'a smaller network' : `a smaller tile: option 'tileSize' ${smallerTile} needs about half the memory`;
  const fewer = batchSize > 1 ? `, or fewer tiles at once (option 'batchSize')` : '';
  return new OutOfMemoryError(
    `${where}: ${tiles} of ${tileSize} × ${tileSize} does not fit in the memory of ${device}. Try ${smaller}${fewer}. ` +
      `Tensors made before are intact. (${cause.message})`,
    { cause },
  );
}
