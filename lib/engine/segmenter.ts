// Segmentation with an exported U-Net over onnxruntime, in Node or in the browser: the runtime is
// handed in (onnxruntime-node or onnxruntime-web), the rest is plain arrays. It reads the tile
// rule and the post-processing from the model's metadata and runs the same overlap-tile
// prediction, test-time augmentation and post-processing as `unet predict`.
import { ONNX_INPUT, ONNX_OUTPUT, type UNetMetadata, unetMetadata } from '../onnx/metadata';
import type { ImageRaster, LabelRaster } from '../raster/image';
import { normaliseRaster } from '../raster/normalise';
import { labelValuesFromProbabilities } from '../raster/postprocess';
import { type Planes, predictPlanes, type TileRunner } from '../raster/tiles';

/** An onnxruntime tensor, as far as the segmenter reads it. */
export interface OrtTensor {
  /** Its shape. */
  readonly dims: readonly number[];
  /** Its elements (a Float32Array for float32). */
  readonly data: unknown;
}
/** An onnxruntime inference session, as far as the segmenter uses it. */
export interface OrtSession {
  /** Runs the graph on named inputs; resolves to the named outputs. */
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  /** Frees the session. */
  release(): Promise<void>;
}
/** The part of onnxruntime's API (onnxruntime-node or onnxruntime-web) the segmenter uses. */
export interface OrtRuntime {
  /** Opens a model. */
  InferenceSession: {
    /** A session over the model's bytes, with onnxruntime's session options. */
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession>;
  };
  /** Makes an input tensor. */
  Tensor: {
    /** A tensor of float32 `data` in the shape `dims`. */
    new (type: 'float32', data: Float32Array, dims: readonly number[]): OrtTensor;
  };
}

/** Options of {@link OnnxSegmenter.segment}. */
export interface SegmentOptions {
  /** Input tile extent (default: the model's default tile). */
  tileSize?: number;
  /** Tiles per run (default 1). */
  batchSize?: number;
  /** Test-time augmentation (default: as the model's description says). */
  tta?: boolean;
  /** Called with the fraction done. */
  onProgress?: (fraction: number) => void;
}

/** What segmenting an image gives. */
export interface Segmentation {
  /** The image as the network saw it (normalised), planar C × H × W. */
  normalised: Planes;
  /** Class probabilities, planar classes × H × W. */
  probabilities: Planes;
  /** Cell ids (or class ids for a `classes` network). */
  labels: LabelRaster;
}

/** An exported U-Net in an onnxruntime session. */
export class OnnxSegmenter {
  private constructor(
    private readonly session: OrtSession,
    private readonly ort: OrtRuntime,
    /** The tile rule and model description from the file's metadata. */
    readonly metadata: UNetMetadata,
  ) {}

  /** Opens an exported model's bytes in `ort`; throws when they are not a U-Net exported here. */
  static async create(ort: OrtRuntime, model: Uint8Array, sessionOptions: Record<string, unknown> = {}): Promise<OnnxSegmenter> {
    const metadata = unetMetadata(model);
    return new OnnxSegmenter(await ort.InferenceSession.create(model, sessionOptions), ort, metadata);
  }

  /** Segments an image (channels × H × W samples in [0, 1], as the readers give them). */
  async segment(image: ImageRaster, options: SegmentOptions = {}): Promise<Segmentation> {
    const { model, tile } = this.metadata;
    if (image.channels !== model.options.inChannels)
      throw new RangeError(`predict: the model takes ${model.options.inChannels} channel(s), the image has ${image.channels}`);
    const normalised: Planes = { ...image, data: normaliseRaster(image, model.normalisation) };
    const probabilities = await predictPlanes(normalised, tile, this.runTiles, {
      tileSize: options.tileSize,
      batchSize: options.batchSize,
      tta: options.tta ?? model.tta,
      onProgress: options.onProgress,
    });
    const { height, width } = image;
    const labels = labelValuesFromProbabilities(probabilities.data, probabilities.channels, height, width, model.postprocess);
    return { normalised, probabilities, labels: { height, width, data: labels } };
  }

  /** The network on a batch of tiles (count × channels × size × size): their logits. */
  readonly runTiles: TileRunner = async (tiles, count, size) => {
    const channels = this.metadata.model.options.inChannels;
    const output = await this.session.run({ [ONNX_INPUT]: new this.ort.Tensor('float32', tiles, [count, channels, size, size]) });
    const logits = output[ONNX_OUTPUT]!;
    return { data: logits.data as Float32Array, classes: logits.dims[1]!, size: logits.dims[3]! };
  };

  /** Frees the session. */
  async release(): Promise<void> {
    await this.session.release();
  }
}
