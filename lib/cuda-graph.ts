// CUDA graphs, shaped as PyTorch's torch.cuda.CUDAGraph and torch.cuda.graph: CUDA work captured
// once and replayed with one launch. The tensors the captured work reads and writes keep their
// memory (the graph's private pool), so a replay reads new values copied into the same inputs and
// leaves its results in the same outputs.
import { isPromiseLike } from './memory';
import { native } from './native';

/**
 * A captured sequence of CUDA work (PyTorch's `torch.cuda.CUDAGraph`). Capture with
 * {@link graph}, or `captureBegin()` … `captureEnd()`; then `replay()` runs it again. Needs a GPU
 * and an addon built with its CUDA code (`unet info`: CUDA kernels built).
 */
export class CUDAGraph {
  private readonly handle: unknown = native.cudaGraphNew();

  /**
   * Starts capturing the CUDA work queued from now on, on a side stream of `device` (default
   * 'cuda') that first waits for the work already queued. Nothing runs until `replay()`.
   */
  captureBegin(device = 'cuda'): void {
    native.cudaGraphCaptureBegin(this.handle, device);
  }

  /** Ends the capture and makes the graph ready to replay; the current stream is restored. */
  captureEnd(): void {
    native.cudaGraphCaptureEnd(this.handle);
  }

  /** Runs the captured work again on the current stream, with the values its inputs hold now. */
  replay(): void {
    native.cudaGraphReplay(this.handle);
  }

  /** Frees the captured graph and its memory pool; the graph can then capture again. */
  reset(): void {
    native.cudaGraphReset(this.handle);
  }
}

/**
 * Captures the CUDA work of `fn` into `cudaGraph` (PyTorch's `with torch.cuda.graph(g):`) and
 * returns what `fn` returns: the tensors it made are the graph's outputs, rewritten by each
 * `replay()`. Waits for the device and empties the allocator's cache first, as PyTorch does. The
 * work must not wait on the host (no `item()`, no reading a tensor back): that ends the capture
 * with an error. Run `fn` once or more before capturing, so that what it allocates lazily (an
 * optimizer's state, cuBLAS workspaces) exists outside the graph.
 */
export function graph<R>(cudaGraph: CUDAGraph, fn: () => R, device = 'cuda'): R {
  native.cudaSynchronize(device);
  native.cudaEmptyCache();
  cudaGraph.captureBegin(device);
  let result: R;
  try {
    result = fn();
    if (isPromiseLike(result)) throw new TypeError('cuda.graph(): fn returned a Promise; capture is synchronous');
  } catch (error) {
    try {
      cudaGraph.captureEnd();
    } catch {
      // The capture is invalid after a failed operation; the operation's error says why.
    }
    throw error;
  }
  cudaGraph.captureEnd();
  return result;
}
