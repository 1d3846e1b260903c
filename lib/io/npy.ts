// NumPy's .npy format for single arrays: a magic string, a Python-literal header (dtype, order,
// shape), then the raw little-endian elements.
import * as fs from 'node:fs';

import type { DType } from '../dtype';
import { native } from '../native';
import type { Tensor } from '../tensor';
import { NPY_MAGIC, npyBytes } from '../raster/npy';
import { writeFileAtomic } from './atomic';
import { pathArg } from '../arguments';
import { tensorArg } from '../check';

/** Thrown for a file that is not a readable .npy file; the message names the file and the fault. */
export class NpyError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'NpyError';
}

const DESCR: Partial<Record<DType, string>> = {
  float32: '<f4',
  float64: '<f8',
  float16: '<f2',
  int64: '<i8',
  int32: '<i4',
  int16: '<i2',
  int8: '|i1',
  uint8: '|u1',
  bool: '|b1',
};
const DTYPE_OF_DESCR = new Map(Object.entries(DESCR).map(([dtype, descr]) => [descr, dtype as DType]));

/** Writes one tensor as a .npy file (version 1.0, C order), atomically. bfloat16 has no NumPy type and is refused. */
export function saveNpy(file: string, tensor: Tensor): void {
  pathArg('saveNpy', 'file', file);
  tensorArg('saveNpy', 'tensor', tensor);
  const descr = DESCR[tensor.dtype];
  if (descr === undefined) throw new TypeError(`saveNpy(): NumPy has no ${tensor.dtype} type; convert the tensor first (e.g. to float32)`);
  writeFileAtomic(file, npyBytes(descr, tensor.shape, new Uint8Array(native.toBytes(tensor))));
}

/** Reads a .npy file (versions 1–3; C or Fortran order) into a CPU tensor. */
export function loadNpy(file: string): Tensor {
  pathArg('loadNpy', 'file', file);
  const bytes = fs.readFileSync(file);
  const fail = (why: string): never => {
    throw new NpyError(`${file}: not a readable .npy file: ${why}`);
  };
  if (bytes.length < 10 || !NPY_MAGIC.every((byte, k) => bytes[k] === byte)) fail('it does not start with \\x93NUMPY');
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`unknown format version ${major}`);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLength > bytes.length) fail('the header is truncated');
  const header = bytes.toString(major === 3 ? 'utf8' : 'latin1', headerStart, headerStart + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`a malformed header: ${header.trim()}`);
  const dtype = DTYPE_OF_DESCR.get(descr!) ?? DTYPE_OF_DESCR.get(descr!.replace('=', '<'));
  if (dtype === undefined) fail(`dtype '${descr}' is not one unet-torch reads (little-endian float16/32/64, int8/16/32/64, uint8, bool)`);
  const shape = shapeText!
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(Number);
  if (shape.some((size) => !Number.isInteger(size) || size < 0)) fail(`a malformed shape (${shapeText})`);
  const dataStart = headerStart + headerLength;
  const count = shape.reduce((product, size) => product * size, 1);
  const itemSize = Number(descr!.slice(2));
  if (dataStart + count * itemSize > bytes.length)
    fail(`the data is truncated: ${count} elements need ${count * itemSize} bytes, ${bytes.length - dataStart} follow`);
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset + dataStart, count * itemSize).slice();
  if (fortran === 'False') return native.fromBytes(data, shape, dtype!);
  // Fortran order: the bytes are the transpose's C order.
  const reversed = native.fromBytes(data, [...shape].reverse(), dtype!);
  const permuted = native.permute(
    reversed,
    shape.map((_, k) => shape.length - 1 - k),
  );
  try {
    return native.contiguous(permuted, 'contiguous');
  } finally {
    permuted.dispose();
    reversed.dispose();
  }
}
