// The flags every libtorch verb shares, applied: libtorch's thread count and the image size limit.
import { setMaxImagePixels } from '../io/limits';
import { setNumThreads } from '../runtime';
import { integerOption } from './args';
import { UsageError } from './command';

/** Applies the common flags (`--threads`, `--max-pixels`) a verb was given. */
export function applyCommonFlags(values: { threads?: string; 'max-pixels'?: string }): void {
  const threads = integerOption('threads', values.threads);
  if (threads !== undefined) {
    if (threads < 1) throw new UsageError(`--threads must be at least 1, got ${threads}`);
    setNumThreads(threads);
  }
  const maxPixels = integerOption('max-pixels', values['max-pixels']);
  if (maxPixels !== undefined) {
    if (maxPixels < 1) throw new UsageError(`--max-pixels must be at least 1, got ${maxPixels}`);
    setMaxImagePixels(maxPixels);
  }
}
