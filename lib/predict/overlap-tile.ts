// Overlap-tile prediction (the paper's Fig. 2): an image of any size is segmented tile by tile,
// each tile's input extended by mirroring where it leaves the image. Tiles start on multiples of
// the network's total pooling factor, so that, for the valid-convolution network, the stitched
// result is what one forward pass over the whole (mirror-padded) image would give. The image, the
// tiles and the stitched scores stay on the network's device: one copy there and one back.
import { autocast } from '../amp';
import { noGrad } from '../autograd';
import { zeros } from '../creation';
import { OutOfMemoryError, tileOutOfMemory } from '../errors';
import { backends } from '../runtime';
import { tidy } from '../memory';
import { softmax } from '../nn/functional';
import { stack } from '../ops/join';
import type { Tensor } from '../tensor';
import { cropMirrored } from '../data/mirror';
import { type UNet, unetArg } from '../unet/model';
import { tensorArg } from '../check';
import { checkOptions, oneOf } from '../ops/options';
import { overlapStep, type TileGeometry } from '../raster/tiles';
import { PRECISIONS, type Precision } from './precision';

/** Options of `predictProbabilities`. */
export interface PredictOptions {
  /** Input tile extent (valid for the network); default: 572 for the paper's depth, else the smallest valid extent ≥ 256 + margins. */
  tileSize?: number;
  /** Tiles per forward pass (default 1): more is faster on a GPU, memory grows with it. */
  batchSize?: number;
  /** Average over the 8 flips and quarter turns of the image (test-time augmentation, as in the paper's ISBI entry). */
  tta?: boolean;
  /** Context kept on each side of a tile with same padding, in pixels (default 2 × the pooling factor). */
  context?: number;
  /** Where the network runs (default: where its parameters are). */
  device?: string;
  /**
   * Turn oneDNN off while predicting on the CPU, so that the stitched result equals one forward
   * pass over the whole image bitwise (for the valid-convolution network); about 10× slower on a CPU.
   * With oneDNN (the default) they agree to about 1e-5: its sums depend on the image's width.
   */
  exact?: boolean;
  /**
   * The network's number format (default 'float32'). 'float16' or 'bfloat16' run it under
   * autocast (PyTorch's `torch.autocast(device_type, dtype)`): the convolutions in that format, the
   * rest, and the stitched scores, in float32; the scores move by about 1e-2. Faster where the
   * hardware has the format (bfloat16 on a CPU with AVX-512 BF16, a GPU's tensor cores), slower
   * elsewhere.
   */
  precision?: Precision;
}

/** How an image is cut into tiles along one axis. */
interface Axis {
  /** Output start of each tile. */
  starts: number[];
  /** Output rows each tile contributes (the last one may contribute fewer). */
  step: number;
}

/** The tile geometry for a model and tile size: the input margin and the stride between tiles. */
export function tileGeometry(model: UNet, tileSize: number, context?: number): TileGeometry {
  unetArg('tileGeometry', "argument 'model'", model);
  if (!model.isValidInputSize(tileSize)) model.outputSize(tileSize); // throws, naming the nearest valid sizes
  const { padding, depth } = model.options;
  return overlapStep(padding, 2 ** (depth - 1), padding === 'valid' ? model.marginFor(tileSize) : 0, tileSize, context);
}

function axis(extent: number, step: number): Axis {
  const starts: number[] = [];
  for (let start = 0; start < extent; start += step) starts.push(start);
  return { starts, step };
}

function predictOnce(
  model: UNet,
  image: Tensor,
  tileSize: number,
  batchSize: number,
  context: number | undefined,
  precision: Precision,
): Tensor {
  const [, height, width] = image.shape as [number, number, number];
  const { margin, step } = tileGeometry(model, tileSize, context);
  const rows = axis(height, step);
  const columns = axis(width, step);
  const result = zeros([model.options.classes, height, width], { device: image.device });
  const tiles = rows.starts.flatMap((top) => columns.starts.map((left) => ({ top, left })));
  const forward = (input: Tensor): Tensor =>
    precision === 'float32'
      ? model.forward(input)
      : autocast(() => model.forward(input), { deviceType: image.device.startsWith('cuda') ? 'cuda' : 'cpu', dtype: precision });
  for (let first = 0; first < tiles.length; first += batchSize) {
    const group = tiles.slice(first, first + batchSize);
    tidy(() => {
      const scores = forward(stack(group.map(({ top, left }) => cropMirrored(image, top - margin, left - margin, tileSize, tileSize))));
      // With same padding the output has the input's size: skip the context.
      const offset = model.options.padding === 'valid' ? 0 : margin;
      group.forEach(({ top, left }, k) => {
        const h = Math.min(step, height - top);
        const w = Math.min(step, width - left);
        result
          .narrow(1, top, h)
          .narrow(2, left, w)
          .copy_(scores.select(0, k).narrow(1, offset, h).narrow(2, offset, w));
      });
    });
  }
  return result;
}

// The 8 symmetries of the square as (forward, inverse) pairs on (C, H, W) tensors.
const SYMMETRIES: [(x: Tensor) => Tensor, (x: Tensor) => Tensor][] = [0, 1, 2, 3].flatMap((turns) =>
  [false, true].map((flip): [(x: Tensor) => Tensor, (x: Tensor) => Tensor] => {
    const turn = (x: Tensor, k: number): Tensor => {
      let out = x;
      for (let i = 0; i < ((k % 4) + 4) % 4; i += 1) out = out.transpose(1, 2).flip([2]);
      return out;
    };
    return [
      (x) => turn(flip ? x.flip([2]) : x, turns),
      (x) => {
        const back = turn(x, -turns);
        return flip ? back.flip([2]) : back;
      },
    ];
  }),
);

/**
 * Class scores (classes, H, W), float32 on the CPU, of an image (C, H, W) normalised as for
 * training, by overlap-tile prediction (no test-time augmentation). The network's memory grows
 * with the tile size and the batch, not with the image; on a GPU the image and its scores
 * (classes × H × W floats, twice that with test-time augmentation) are on the device too.
 */
export function predictLogits(model: UNet, image: Tensor, options: Omit<PredictOptions, 'tta'> = {}): Tensor {
  return run(model, image, options, (source, tileSize, batchSize, precision) =>
    predictOnce(model, source, tileSize, batchSize, options.context, precision),
  );
}

/**
 * Class probabilities (classes, H, W), float32 on the CPU, of an image (C, H, W) normalised as
 * for training: the soft-max of `predictLogits`, or with `tta` the mean of the 8 flipped and
 * turned predictions' probabilities.
 */
export function predictProbabilities(model: UNet, image: Tensor, options: PredictOptions = {}): Tensor {
  return run(model, image, options, (source, tileSize, batchSize, precision) =>
    tidy(() => {
      const passes = options.tta ? SYMMETRIES : SYMMETRIES.slice(0, 1);
      let sum: Tensor | null = null;
      for (const [forward, inverse] of passes) {
        const probabilities = softmax(inverse(predictOnce(model, forward(source), tileSize, batchSize, options.context, precision)), 0);
        sum = sum === null ? probabilities : sum.add(probabilities);
      }
      return passes.length === 1 ? sum! : sum!.div(passes.length);
    }),
  );
}

function run(
  model: UNet,
  image: Tensor,
  options: PredictOptions,
  predict: (source: Tensor, tileSize: number, batchSize: number, precision: Precision) => Tensor,
): Tensor {
  unetArg('predict', "argument 'model'", model);
  tensorArg('predict', 'image', image);
  options = checkOptions('predict', options, ['tileSize', 'batchSize', 'tta', 'context', 'device', 'exact', 'precision']);
  if (image.ndim !== 3 || image.shape[0] !== model.options.inChannels) {
    throw new RangeError(
      `predict: the image must be (C, H, W) with C = ${model.options.inChannels}, got shape [${image.shape.join(', ')}]`,
    );
  }
  const tileSize = options.tileSize ?? model.defaultTileSize;
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`predict: option 'batchSize' must be a positive integer, got ${batchSize}`);
  const precision = oneOf('predict', 'precision', options.precision ?? 'float32', PRECISIONS);
  const device = options.device ?? model.parameters().next().value?.device ?? 'cpu';
  const wasTraining = model.training;
  const mkldnn = backends.mkldnn.enabled;
  model.eval();
  if (options.exact) backends.mkldnn.enabled = false;
  try {
    // The result leaves the device as float32 on the CPU, whatever the image's dtype and place.
    return noGrad(() => tidy(() => predict(image.to({ device, dtype: 'float32' }), tileSize, batchSize, precision).cpu()));
  } catch (error) {
    if (!(error instanceof OutOfMemoryError)) throw error;
    throw tileOutOfMemory('predict', { tileSize, batchSize, smallerTile: model.smallerInputSize(tileSize), device }, error);
  } finally {
    model.train(wasTraining);
    backends.mkldnn.enabled = mkldnn;
  }
}
