import * as fs from 'node:fs';
import * as path from 'node:path';

/** Thrown when a file cannot be written; the message names the file, the reason and what is left. */
export class FileWriteError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'FileWriteError';
}

/** Produces a file's contents piece by piece (so that a large file is never whole in memory). */
export type ContentWriter = (write: (chunk: Uint8Array) => void) => void;

/**
 * Writes `data` to `file` so that readers see the old file or the whole new one, never a part:
 * it writes a temporary file beside it, flushes it to disk, then renames it over `file`.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string | ContentWriter): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const failure = (error: unknown): FileWriteError => {
    const { code, message } = error as NodeJS.ErrnoException;
    const why =
      code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT'
        ? "the disk (or this process's file size limit) is full"
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? 'the folder is not writable'
          : code === 'ENOENT' || code === 'ENOTDIR'
            ? 'the folder does not exist'
            : message;
    return new FileWriteError(
      `cannot write ${file}: ${why} (${code ?? message}); ${fs.existsSync(file) ? 'the previous file is unchanged' : 'nothing was written'}`,
    );
  };
  let descriptor: number;
  try {
    descriptor = fs.openSync(temporary, 'w');
  } catch (error) {
    throw failure(error);
  }
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
    if ((error as NodeJS.ErrnoException).code !== undefined) throw failure(error);
    throw error;
  }
  fs.closeSync(descriptor);
  fs.renameSync(temporary, file);
}
