// ONNX's published schema (schemas/onnx.proto, unchanged) loaded with protobufjs: the one place
// that knows how a model is encoded and decoded. The interfaces below type the part of the schema
// this project writes; protobufjs names fields in camelCase (ir_version → irVersion).
import * as path from 'node:path';

import * as protobuf from 'protobufjs';

import { packageRoot } from '../package-root';

/** TensorProto.DataType values used here. */
export const ONNX_DTYPE = { float32: 1, int64: 7 } as const;

/** An AttributeProto: exactly one of the value fields, with its type. */
export interface OnnxAttribute {
  name: string;
  type: 'FLOAT' | 'INT' | 'STRING' | 'FLOATS' | 'INTS';
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}

/** A NodeProto. */
export interface OnnxNode {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}

/** A TensorProto holding its elements in `rawData` (little-endian). */
export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}

/** One dimension of a tensor type: a fixed size or a named (dynamic) one. */
export type OnnxDimension = { dimValue: number } | { dimParam: string };

/** A ValueInfoProto of a tensor: a graph input or output. */
export interface OnnxValueInfo {
  name: string;
  type: { tensorType: { elemType: number; shape: { dim: OnnxDimension[] } } };
}

/** A ModelProto with one graph. */
export interface OnnxModel {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  metadataProps: { key: string; value: string }[];
  graph: {
    name: string;
    node: OnnxNode[];
    initializer: OnnxTensor[];
    input: OnnxValueInfo[];
    output: OnnxValueInfo[];
  };
}

let modelType: protobuf.Type | null = null;

function modelProto(): protobuf.Type {
  if (modelType === null) modelType = protobuf.loadSync(path.join(packageRoot, 'schemas', 'onnx.proto')).lookupType('onnx.ModelProto');
  return modelType;
}

/** The bytes of an ONNX model file. */
export function encodeModel(model: OnnxModel): Uint8Array {
  const type = modelProto();
  const message = type.fromObject(model);
  const problem = type.verify(message);
  if (problem !== null) throw new Error(`exportOnnx(): the model does not fit ONNX's schema: ${problem}`);
  return type.encode(message).finish();
}

/**
 * An ONNX model file's contents as plain objects (int64 fields as numbers, bytes as Uint8Array);
 * throws when the bytes are not a ModelProto.
 */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const type = modelProto();
  const message = type.decode(bytes);
  return type.toObject(message, { longs: Number, enums: String, arrays: true }) as OnnxModel;
}
