// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian bytes.
import * as fs from 'node:fs';

import { type DType, ELEMENT_SIZE } from '../dtype';
import { native } from '../native';
import type { Tensor } from '../tensor';
import { writeFileAtomic } from './atomic';
import { pathArg } from '../arguments';
import { objectArg, tensorArg } from '../check';

const CODES: Record<DType, string> = {
  float32: 'F32',
  float64: 'F64',
  float16: 'F16',
  bfloat16: 'BF16',
  int8: 'I8',
  int16: 'I16',
  int32: 'I32',
  int64: 'I64',
  uint8: 'U8',
  bool: 'BOOL',
};
const DTYPE_OF_CODE = new Map(Object.entries(CODES).map(([dtype, code]) => [code, dtype as DType]));

/** Thrown for a file that is not a valid safetensors file; the message names the file and the fault. */
export class SafetensorsError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'SafetensorsError';
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * Writes tensors (in key order) and string metadata to a safetensors file, atomically. Tensors are
 * copied out one at a time, so the file is never whole in memory.
 */
export function saveSafetensors(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  pathArg('saveSafetensors', 'file', file);
  for (const [key, value] of Object.entries(objectArg<Record<string, unknown>>('saveSafetensors', 'tensors', tensors)))
    tensorArg('saveSafetensors', `tensors.${key}`, value);
  objectArg('saveSafetensors', 'metadata', metadata);
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const length = tensor.numel() * ELEMENT_SIZE[tensor.dtype];
    header[name] = { dtype: CODES[tensor.dtype], shape: tensor.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // the format aligns the data to 8 bytes
  const headerBytes = Buffer.from(json, 'utf8');
  writeFileAtomic(file, (write) => {
    const length = new Uint8Array(8);
    new DataView(length.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
    write(length);
    write(headerBytes);
    for (const tensor of Object.values(tensors)) write(new Uint8Array(native.toBytes(tensor)));
  });
}

/**
 * Reads a safetensors file into CPU tensors, one tensor's bytes at a time (a large file is never
 * loaded twice). Errors name the file and what is wrong with it.
 */
export function loadSafetensors(file: string): {
  /** The tensors by name, in the file's dtypes. */
  tensors: Record<string, Tensor>;
  /** The header's `__metadata__` strings (empty when the file has none). */
  metadata: Record<string, string>;
} {
  pathArg('loadSafetensors', 'file', file);
  const fail = (why: string): never => {
    throw new SafetensorsError(`${file}: not a valid safetensors file: ${why}`);
  };
  const fd = fs.openSync(file, 'r');
  const tensors: Record<string, Tensor> = {};
  try {
    const size = fs.fstatSync(fd).size;
    const read = (position: number, length: number): Uint8Array => {
      const buffer = new Uint8Array(new ArrayBuffer(length));
      const got = fs.readSync(fd, buffer, 0, length, position);
      if (got !== length) fail(`it ends after ${position + got} bytes (truncated?)`);
      return buffer;
    };
    if (size < 8) fail(`it has ${size} bytes, fewer than the 8-byte header length`);
    const headerLength = Number(new DataView(read(0, 8).buffer).getBigUint64(0, true));
    if (headerLength > size - 8) fail(`the header claims ${headerLength} bytes but only ${size - 8} follow (truncated?)`);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(read(8, headerLength)).toString('utf8')) as Record<string, unknown>;
    } catch (error) {
      return fail(`the header is not JSON (${(error as Error).message})`);
    }
    const dataStart = 8 + headerLength;
    const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const entry = value as HeaderEntry;
      const dtype = DTYPE_OF_CODE.get(entry?.dtype);
      if (!dtype) fail(`tensor '${name}' has dtype ${String(entry?.dtype)}, which unet-torch does not read`);
      const [begin, end] = entry.data_offsets ?? [];
      if (!Array.isArray(entry.shape) || typeof begin !== 'number' || typeof end !== 'number' || begin > end)
        fail(`tensor '${name}' has a malformed entry`);
      const expected = (entry.shape as number[]).reduce((product, extent) => product * extent, 1) * ELEMENT_SIZE[dtype as DType];
      if ((end as number) - (begin as number) !== expected)
        fail(`tensor '${name}' has ${(end as number) - (begin as number)} bytes for shape [${entry.shape}], which needs ${expected}`);
      if (dataStart + (end as number) > size) fail(`tensor '${name}' ends past the end of the file (truncated?)`);
      tensors[name] = native.fromBytes(read(dataStart + (begin as number), expected), entry.shape, dtype as DType);
    }
    return { tensors, metadata };
  } catch (error) {
    for (const tensor of Object.values(tensors)) tensor.dispose();
    if (error instanceof SafetensorsError) throw error;
    return fail((error as Error).message);
  } finally {
    fs.closeSync(fd);
  }
}
