// What an exported U-Net's metadata holds, and a reader of it that needs no protobuf library (a
// ModelProto's metadata_props, field 14, are its only top-level fields read), so that Node and the
// browser page find the tile rule and the post-processing the same way.
import type { TileRule } from '../raster/tile-rule';
import type { ModelDescription } from '../unet/model-files';

export type { TileRule } from '../raster/tile-rule';

/** Metadata keys of an exported U-Net. */
export const ONNX_METADATA = {
  /** JSON of {@link TileRule}. */
  tile: 'unet.tile',
  /** JSON of the model description (model.json without the training record). */
  model: 'unet.model',
} as const;

/** The name of the graph's input: the image batch (N, C, H, W). */
export const ONNX_INPUT = 'image';
/** The name of the graph's output: the logits (N, classes, H', W'). */
export const ONNX_OUTPUT = 'logits';

/** An exported U-Net's tile rule and description. */
export interface UNetMetadata {
  /** Which input tile sizes the network takes, and the output each gives. */
  tile: TileRule;
  /** The network's options, normalisation, post-processing and test-time augmentation, as its `model.json` has them (without the training record). */
  model: Omit<ModelDescription, 'training'>;
}

const METADATA_PROPS = 14;

function varint(bytes: Uint8Array, at: { offset: number }): number {
  let value = 0;
  let factor = 1;
  for (;;) {
    if (at.offset >= bytes.length) throw new RangeError('truncated');
    const byte = bytes[at.offset]!;
    at.offset += 1;
    value += (byte & 0x7f) * factor;
    if (byte < 0x80) return value;
    factor *= 128;
  }
}

// The length-delimited fields of a message: [field number, bytes] for each, others skipped.
function* fields(bytes: Uint8Array): Generator<[number, Uint8Array]> {
  const at = { offset: 0 };
  while (at.offset < bytes.length) {
    const key = varint(bytes, at);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) varint(bytes, at);
    else if (wire === 1) at.offset += 8;
    else if (wire === 5) at.offset += 4;
    else if (wire === 2) {
      const length = varint(bytes, at);
      if (at.offset + length > bytes.length) throw new RangeError('truncated');
      yield [field, bytes.subarray(at.offset, at.offset + length)];
      at.offset += length;
    } else throw new RangeError(`wire type ${wire}`);
  }
}

/** The metadata_props of an ONNX model file's bytes; throws when the bytes are not a ModelProto. */
export function readOnnxMetadata(bytes: Uint8Array): Record<string, string> {
  // By tag, not instanceof: a Buffer or an array from another realm (a worker, a test sandbox) is as good.
  if (Object.prototype.toString.call(bytes) !== '[object Uint8Array]')
    throw new TypeError(`readOnnxMetadata(): argument 'bytes' must be a Uint8Array (a file's contents), got ${typeof bytes}`);
  const metadata: Record<string, string> = {};
  const text = new TextDecoder();
  try {
    for (const [field, entry] of fields(bytes)) {
      if (field !== METADATA_PROPS) continue;
      let key = '';
      let value = '';
      for (const [part, data] of fields(entry)) {
        if (part === 1) key = text.decode(data);
        else if (part === 2) value = text.decode(data);
      }
      metadata[key] = value;
    }
  } catch (error) {
    throw new Error(`not an ONNX model (${(error as Error).message} protobuf)`);
  }
  return metadata;
}

/** The tile rule and description an exported U-Net carries; throws naming what is missing. */
export function unetMetadata(bytes: Uint8Array): UNetMetadata {
  const metadata = readOnnxMetadata(bytes);
  const tile = metadata[ONNX_METADATA.tile];
  const model = metadata[ONNX_METADATA.model];
  if (tile === undefined || model === undefined)
    throw new Error(`not a U-Net exported by unet-torch: the ONNX metadata has no '${ONNX_METADATA.tile}' and '${ONNX_METADATA.model}'`);
  try {
    return { tile: JSON.parse(tile) as TileRule, model: JSON.parse(model) as UNetMetadata['model'] };
  } catch (error) {
    throw new Error(`the U-Net metadata of this ONNX model is not valid JSON (${(error as Error).message})`);
  }
}
