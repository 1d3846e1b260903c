// NumPy's .npy format (version 1.0, C order) written from raw bytes, with no libtorch: what
// lib/io/npy's saveNpy and the ONNX engine write.
import { writeFileAtomic } from '../io/atomic';

/** The first six bytes of every .npy file. */
export const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** A .npy file's bytes: `descr` is NumPy's type string ('<f4', '|u1', …), `data` the little-endian elements. */
export function npyBytes(descr: string, shape: readonly number[], data: Uint8Array): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  // The header, with its 10-byte preamble, pads with spaces to a multiple of 64 and ends in a newline.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = `${header.padEnd(total - 10 - 1, ' ')}\n`;
  const out = new Uint8Array(total + data.length);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, total);
  return out;
}

/** Writes float32 values of `shape` as a .npy file, atomically. */
export function saveFloat32Npy(file: string, values: Float32Array, shape: readonly number[]): void {
  writeFileAtomic(file, npyBytes('<f4', shape, new Uint8Array(values.buffer, values.byteOffset, values.byteLength)));
}
