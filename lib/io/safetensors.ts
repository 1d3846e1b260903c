// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
// tensor's dtype, shape and byte range, then the raw little-endian bytes.
import * as fs from 'node:fs';

import type { DType } from '../dtype';
import { native } from '../native';
import type { Tensor } from '../tensor';
import { writeFileAtomic } from './atomic';

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
  override name = 'SafetensorsError';
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** The bytes of a safetensors file holding `tensors` (in key order) and string `metadata`. */
export function serializeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, HeaderEntry | Record<string, string>> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    const bytes = new Uint8Array(native.toBytes(tensor));
    header[name] = { dtype: CODES[tensor.dtype], shape: tensor.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8); // the format aligns the data to 8 bytes
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}

/** Parses safetensors bytes into CPU tensors; `source` names the file in errors. */
export function deserializeSafetensors(
  bytes: Uint8Array,
  source = 'safetensors data',
): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${source}: not a valid safetensors file: ${why}`);
  };
  if (bytes.length < 8) fail(`it has ${bytes.length} bytes, fewer than the 8-byte header length`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > bytes.length - 8) fail(`the header claims ${headerLength} bytes but only ${bytes.length - 8} follow (truncated?)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, headerLength).toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    return fail(`the header is not JSON (${(error as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors: Record<string, Tensor> = {};
  try {
    for (const [name, value] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const entry = value as HeaderEntry;
      const dtype = DTYPE_OF_CODE.get(entry?.dtype);
      if (!dtype) fail(`tensor '${name}' has dtype ${String(entry?.dtype)}, which unet-torch does not read`);
      const [begin, end] = entry.data_offsets ?? [];
      if (!Array.isArray(entry.shape) || typeof begin !== 'number' || typeof end !== 'number' || begin > end) {
        fail(`tensor '${name}' has a malformed entry`);
      }
      if (dataStart + (end as number) > bytes.length) fail(`tensor '${name}' ends past the end of the file (truncated?)`);
      const slice = new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart + (begin as number), (end as number) - (begin as number));
      // The copy puts the bytes at an address aligned for any dtype.
      tensors[name] = native.fromBytes(slice.slice(), entry.shape, dtype as DType);
    }
  } catch (error) {
    for (const tensor of Object.values(tensors)) tensor.dispose();
    if (error instanceof SafetensorsError) throw error;
    return fail((error as Error).message);
  }
  return { tensors, metadata };
}

/** Writes tensors to a safetensors file, atomically. */
export function saveSafetensors(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, serializeSafetensors(tensors, metadata));
}

/** Reads a safetensors file into CPU tensors. */
export function loadSafetensors(file: string): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  return deserializeSafetensors(fs.readFileSync(file), file);
}
