import * as fs from 'node:fs';
import * as path from 'node:path';

/** Produces a file's contents piece by piece (so that a large file is never whole in memory). */
export type ContentWriter = (write: (chunk: Uint8Array) => void) => void;

/**
 * Writes `data` to `file` so that readers see the old file or the whole new one, never a part:
 * it writes a temporary file beside it, flushes it to disk, then renames it over `file`.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string | ContentWriter): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const descriptor = fs.openSync(temporary, 'w');
  try {
    const write = (chunk: Uint8Array): void => {
      let written = 0;
      while (written < chunk.length) written += fs.writeSync(descriptor, chunk, written, chunk.length - written);
    };
    if (typeof data === 'function') data(write);
    else write(typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(descriptor);
  } catch (error) {
    fs.closeSync(descriptor);
    fs.rmSync(temporary, { force: true });
    throw error;
  }
  fs.closeSync(descriptor);
  fs.renameSync(temporary, file);
}
