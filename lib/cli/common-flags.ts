// The flags every libtorch verb shares, applied: libtorch's thread count and the image size limit.
import { setNumThreads } from '../runtime';
import { applyMaxPixelsFlag, threadsOption } from './args';

/** Applies the common flags (`--threads`, `--max-pixels`) a verb was given. */
export function applyCommonFlags(values: { threads?: string; 'max-pixels'?: string }): void {
  const threads = threadsOption(values);
  if (threads !== undefined) setNumThreads(threads);
  applyMaxPixelsFlag(values);
}
