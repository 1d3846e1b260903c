/** Element types, named as in PyTorch without the `torch.` prefix. */
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'bool';

export const DTYPES: readonly DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool'];

/** The typed array that `toTypedArray()` returns for each dtype (half types widen to float32). */
export interface TypedArrayOf {
  /** float32 values. */
  float32: Float32Array;
  /** float64 values. */
  float64: Float64Array;
  /** float16 values, widened to float32. */
  float16: Float32Array;
  /** bfloat16 values, widened to float32. */
  bfloat16: Float32Array;
  /** int8 values. */
  int8: Int8Array;
  /** int16 values. */
  int16: Int16Array;
  /** int32 values. */
  int32: Int32Array;
  /** int64 values, as BigInts. */
  int64: BigInt64Array;
  /** uint8 values. */
  uint8: Uint8Array;
  /** Booleans as 0 and 1. */
  bool: Uint8Array;
}

/** Any typed array a tensor's values come in (`toTypedArray()`), whatever its dtype. */
export type AnyTypedArray = TypedArrayOf[DType];

const READBACK: { [D in DType]: new (buffer: ArrayBuffer) => TypedArrayOf[D] } = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Float32Array,
  bfloat16: Float32Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  bool: Uint8Array,
};

/** Views a buffer the addon filled for a tensor of `dtype` as the matching typed array. */
export function viewAs<D extends DType>(dtype: D, buffer: ArrayBuffer): TypedArrayOf[D] {
  return new READBACK[dtype](buffer);
}

/** Bytes per element of each dtype. */
export const ELEMENT_SIZE: Readonly<Record<DType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  bool: 1,
};

export function isFloatingPoint(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}
