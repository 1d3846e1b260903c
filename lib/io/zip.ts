// Reading the records of an uncompressed ZIP archive (what torch.save writes), ZIP64 included,
// from an open file, one record at a time.
import * as fs from 'node:fs';

/** Thrown for a file that is not a readable archive; the message names the file and the fault. */
export class ArchiveError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'ArchiveError';
}

interface Entry {
  name: string;
  method: number;
  size: number;
  localHeaderOffset: number;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = fs.readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

/** The stored records of a ZIP file, by name. */
export class ZipReader {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly fd: number,
    private readonly file: string,
  ) {
    const size = fs.fstatSync(fd).size;
    const fail = (why: string): never => {
      throw new ArchiveError(`${file}: not a readable PyTorch archive: ${why}`);
    };
    const tailLength = Math.min(size, 22 + 65535 + 20);
    const tail = readAt(fd, size - tailLength, tailLength);
    let eocd = -1;
    for (let k = tail.length - 22; k >= 0; k -= 1) {
      if (tail.readUInt32LE(k) === 0x06054b50) {
        eocd = k;
        break;
      }
    }
    if (eocd < 0) fail('no ZIP end-of-directory record (truncated, or not a torch.save file)');
    let count = tail.readUInt16LE(eocd + 10);
    let directorySize = tail.readUInt32LE(eocd + 12);
    let directoryOffset = tail.readUInt32LE(eocd + 16);
    if (directoryOffset === 0xffffffff || count === 0xffff) {
      const locator = eocd - 20;
      if (locator < 0 || tail.readUInt32LE(locator) !== 0x07064b50) fail('a ZIP64 archive without its locator');
      const record = readAt(fd, Number(tail.readBigUInt64LE(locator + 8)), 56);
      if (record.readUInt32LE(0) !== 0x06064b50) fail('a broken ZIP64 end-of-directory record');
      count = Number(record.readBigUInt64LE(32));
      directorySize = Number(record.readBigUInt64LE(40));
      directoryOffset = Number(record.readBigUInt64LE(48));
    }
    if (directoryOffset + directorySize > size) fail('the directory lies past the end of the file (truncated?)');
    const directory = readAt(fd, directoryOffset, directorySize);
    let position = 0;
    for (let k = 0; k < count; k += 1) {
      if (position + 46 > directory.length || directory.readUInt32LE(position) !== 0x02014b50) fail('a broken directory entry');
      const method = directory.readUInt16LE(position + 10);
      let size32: number = directory.readUInt32LE(position + 24);
      const nameLength = directory.readUInt16LE(position + 28);
      const extraLength = directory.readUInt16LE(position + 30);
      const commentLength = directory.readUInt16LE(position + 32);
      let offset: number = directory.readUInt32LE(position + 42);
      const name = directory.toString('utf8', position + 46, position + 46 + nameLength);
      // ZIP64 extra field: the 64-bit values of the fields that hold 0xffffffff, in order.
      let extra = position + 46 + nameLength;
      const extraEnd = extra + extraLength;
      while (extra + 4 <= extraEnd) {
        const id = directory.readUInt16LE(extra);
        const length = directory.readUInt16LE(extra + 2);
        if (id === 0x0001) {
          let field = extra + 4;
          if (directory.readUInt32LE(position + 24) === 0xffffffff) {
            size32 = Number(directory.readBigUInt64LE(field));
            field += 8;
          }
          if (directory.readUInt32LE(position + 20) === 0xffffffff) field += 8;
          if (directory.readUInt32LE(position + 42) === 0xffffffff) offset = Number(directory.readBigUInt64LE(field));
        }
        extra += 4 + length;
      }
      this.entries.set(name, { name, method, size: size32, localHeaderOffset: offset });
      position = extraEnd + commentLength;
    }
  }

  /** Record names. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** The bytes of a record, in a fresh buffer (aligned for any element type). */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) throw new ArchiveError(`${this.file}: the archive has no record '${name}'`);
    if (entry.method !== 0)
      throw new ArchiveError(
        `${this.file}: record '${name}' is compressed (method ${entry.method}); torch.save stores records uncompressed`,
      );
    const header = readAt(this.fd, entry.localHeaderOffset, 30);
    if (header.length < 30 || header.readUInt32LE(0) !== 0x04034b50)
      throw new ArchiveError(`${this.file}: record '${name}' has a broken local header`);
    const start = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
    const data = new Uint8Array(new ArrayBuffer(entry.size));
    const read = fs.readSync(this.fd, data, 0, entry.size, start);
    if (read !== entry.size) throw new ArchiveError(`${this.file}: record '${name}' is truncated (${read} of ${entry.size} bytes)`);
    return data;
  }
}
