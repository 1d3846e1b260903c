// Builds an ONNX graph node by node: unique names, constants as initializers, typed attributes.
import { ONNX_DTYPE, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto';

/** An attribute value, tagged with its ONNX type (a JS number alone cannot say int or float). */
export type AttributeValue = { int: number } | { float: number } | { ints: number[] } | { floats: number[] } | { string: string };

function attribute(name: string, value: AttributeValue): OnnxAttribute {
  if ('int' in value) return { name, type: 'INT', i: value.int };
  if ('float' in value) return { name, type: 'FLOAT', f: value.float };
  if ('ints' in value) return { name, type: 'INTS', ints: value.ints };
  if ('floats' in value) return { name, type: 'FLOATS', floats: value.floats };
  return { name, type: 'STRING', s: new TextEncoder().encode(value.string) };
}

/** A graph under construction. */
export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly counts = new Map<string, number>();

  /** A name not used yet, from `stem`. */
  private fresh(stem: string): string {
    const count = this.counts.get(stem) ?? 0;
    this.counts.set(stem, count + 1);
    return count === 0 ? stem : `${stem}_${count}`;
  }

  /** A float32 constant (a weight); returns its name. */
  floats(name: string, values: Float32Array, dims: number[]): string {
    const unique = this.fresh(name);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength).slice();
    this.initializers.push({ name: unique, dims, dataType: ONNX_DTYPE.float32, rawData: bytes });
    return unique;
  }

  /** An int64 constant (a shape, slice bounds); returns its name. */
  int64s(name: string, values: number[]): string {
    const unique = this.fresh(name);
    const data = BigInt64Array.from(values, (value) => BigInt(value));
    this.initializers.push({ name: unique, dims: [values.length], dataType: ONNX_DTYPE.int64, rawData: new Uint8Array(data.buffer) });
    return unique;
  }

  /**
   * Appends a node of `opType` reading `inputs` ('' for an optional input left out); returns the
   * name of its one output, `output` when given.
   */
  node(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output?: string): string {
    const name = this.fresh(output ?? opType);
    this.nodes.push({
      name,
      opType,
      input: inputs,
      output: [name],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    });
    return name;
  }

  /** The model with this graph. */
  toModel(options: {
    name: string;
    inputs: OnnxValueInfo[];
    outputs: OnnxValueInfo[];
    opset: number;
    irVersion: number;
    producerVersion: string;
    docString: string;
    metadata: Record<string, string>;
  }): OnnxModel {
    return {
      irVersion: options.irVersion,
      opsetImport: [{ domain: '', version: options.opset }],
      producerName: 'unet-torch',
      producerVersion: options.producerVersion,
      docString: options.docString,
      metadataProps: Object.entries(options.metadata).map(([key, value]) => ({ key, value })),
      graph: { name: options.name, node: this.nodes, initializer: this.initializers, input: options.inputs, output: options.outputs },
    };
  }
}

/** A float32 tensor of the graph's inputs or outputs; string dimensions are dynamic. */
export function floatTensorInfo(name: string, dims: (number | string)[]): OnnxValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE.float32,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}
