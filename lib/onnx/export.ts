// The U-Net as an ONNX graph, written layer by layer from the network's options and weights:
// every preset and option (valid and same padding, transposed and bilinear up-sampling, batch,
// instance and group normalisation, ReLU and leaky ReLU; drop-out is the identity, as in eval).
// The batch and spatial axes are dynamic; the tile rule and the model description ride along in
// the metadata, so that a runtime without libtorch can tile and post-process as `unet predict`.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { pathArg } from '../arguments';
import { writeFileAtomic } from '../io/atomic';
import { checkOptions } from '../ops/options';
import { Identity } from '../nn/modules/layers';
import { BatchNorm2d, GroupNorm, InstanceNorm2d } from '../nn/modules/norm';
import type { Conv2d, ConvTranspose2d } from '../nn/modules/conv';
import { packageRoot } from '../package-root';
import type { Tensor } from '../tensor';
import { type DoubleConv, type NormLayer, type UNet, type UpStep, unetArg } from '../unet/model';
import { type ModelDescription, defaultDescription } from '../unet/model-files';
import { extentRule, skipCrops } from '../unet/size';
import { GraphBuilder, floatTensorInfo } from './graph';
import { ONNX_INPUT, ONNX_METADATA, ONNX_OUTPUT, type TileRule } from './metadata';
import { encodeModel } from './proto';

/** The opsets `exportOnnx` writes, with the IR version each goes with (onnx/helper.py's VERSION_TABLE). */
export const ONNX_OPSETS: Readonly<Record<number, number>> = { 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 };

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** The opset: 17 (default) to 21. */
  opset?: number;
  /**
   * Normalisation, post-processing and TTA to record (a trained model's `model.json`); by default
   * the defaults of the network's options.
   */
  description?: ModelDescription;
}

/** The tile rule of a network. */
export function tileRule(model: UNet): TileRule {
  unetArg('tileRule', "argument 'model'", model);
  const rule = extentRule(model.sizeSpec);
  return { ...rule, margin: model.marginFor(rule.smallestInput), defaultTile: model.defaultTileSize };
}

function weights(tensor: Tensor): Float32Array {
  const values = tensor.toTypedArray();
  if (!(values instanceof Float32Array) && !(values instanceof Float64Array))
    throw new TypeError(`exportOnnx(): weights must be floating point, got ${tensor.dtype}`);
  return values instanceof Float32Array ? values : Float32Array.from(values);
}

/** The ONNX model of `model` as bytes (see {@link exportOnnx}). */
export function unetToOnnx(model: UNet, options: ExportOnnxOptions = {}): Uint8Array {
  // A generic Module has no known graph: the U-Net family is what this exporter writes.
  unetArg('exportOnnx', "argument 'model'", model);
  options = checkOptions('exportOnnx', options, ['opset', 'description']);
  const opset = options.opset ?? 17;
  const irVersion = ONNX_OPSETS[opset];
  if (irVersion === undefined)
    throw new RangeError(`exportOnnx(): option 'opset' must be one of ${Object.keys(ONNX_OPSETS).join(', ')}, got ${String(opset)}`);
  const description = options.description ?? defaultDescription(model.options);
  const graph = new GraphBuilder();
  const o = model.options;
  const activation = (x: string): string =>
    o.activation === 'leakyRelu' ? graph.node('LeakyRelu', [x], { alpha: { float: o.negativeSlope } }) : graph.node('Relu', [x]);

  const param = (name: string, tensor: Tensor, dims: number[] = tensor.shape): string => graph.floats(name, weights(tensor), dims);
  const conv = (prefix: string, module: Conv2d, x: string): string => {
    const [kh, kw] = module.weight.shape.slice(2) as [number, number];
    const pad = o.padding === 'same' && kh === 3 ? 1 : 0;
    const inputs = [x, param(`${prefix}.weight`, module.weight)];
    if (module.bias !== null) inputs.push(param(`${prefix}.bias`, module.bias));
    return graph.node('Conv', inputs, { kernel_shape: { ints: [kh, kw] }, pads: { ints: [pad, pad, pad, pad] } }, prefix);
  };
  const norm = (prefix: string, module: NormLayer, x: string): string => {
    if (module instanceof Identity) return x;
    if (module instanceof BatchNorm2d) {
      if (module.runningMean === null || module.runningVar === null || module.weight === null || module.bias === null)
        throw new TypeError(`exportOnnx(): ${prefix} is a BatchNorm2d without running statistics or affine parameters`);
      return graph.node(
        'BatchNormalization',
        [
          x,
          param(`${prefix}.weight`, module.weight),
          param(`${prefix}.bias`, module.bias),
          param(`${prefix}.running_mean`, module.runningMean),
          param(`${prefix}.running_var`, module.runningVar),
        ],
        { epsilon: { float: module.eps } },
        prefix,
      );
    }
    if (module.weight === null || module.bias === null) throw new TypeError(`exportOnnx(): ${prefix} has no affine parameters`);
    if (module instanceof InstanceNorm2d) {
      if (module.runningMean !== null)
        throw new TypeError(`exportOnnx(): ${prefix} tracks running statistics, which ONNX's InstanceNormalization has not`);
      const scale = param(`${prefix}.weight`, module.weight);
      return graph.node(
        'InstanceNormalization',
        [x, scale, param(`${prefix}.bias`, module.bias)],
        { epsilon: { float: module.eps } },
        prefix,
      );
    }
    if (module instanceof GroupNorm) {
      // Opset 17 has no GroupNormalization (and opset 18's scales per group): normalise
      // (N, G, C/G·H·W) per row with InstanceNormalization, then scale and shift per channel, as
      // torch.onnx exports group_norm.
      const groups = module.numGroups;
      const channels = module.numChannels;
      const shape = graph.node('Shape', [x]);
      const grouped = graph.node('Reshape', [x, graph.int64s(`${prefix}.groups`, [0, groups, -1])]);
      const normalised = graph.node(
        'InstanceNormalization',
        [
          grouped,
          graph.floats(`${prefix}.ones`, new Float32Array(groups).fill(1), [groups]),
          graph.floats(`${prefix}.zeros`, new Float32Array(groups), [groups]),
        ],
        { epsilon: { float: module.eps } },
      );
      const restored = graph.node('Reshape', [normalised, shape]);
      const scaled = graph.node('Mul', [restored, param(`${prefix}.weight`, module.weight, [channels, 1, 1])]);
      return graph.node('Add', [scaled, param(`${prefix}.bias`, module.bias, [channels, 1, 1])], {}, prefix);
    }
    throw new TypeError(`exportOnnx(): ${prefix} is a normalisation this exporter does not know`);
  };
  const doubleConv = (prefix: string, block: DoubleConv, x: string): string => {
    const first = activation(norm(`${prefix}.norm1`, block.norm1, conv(`${prefix}.conv1`, block.conv1, x)));
    return activation(norm(`${prefix}.norm2`, block.norm2, conv(`${prefix}.conv2`, block.conv2, first)));
  };

  // The contracting path; drop-out after it is the identity in evaluation.
  const levels = [...model.down] as DoubleConv[];
  const skips: string[] = [];
  let x = ONNX_INPUT;
  levels.forEach((level, index) => {
    const features = doubleConv(`down.${index}`, level, x);
    if (index < levels.length - 1) {
      skips.push(features);
      x = graph.node('MaxPool', [features], { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } });
    } else {
      x = features;
    }
  });
  // The expansive path. With valid convolutions a skip is larger than the up-sampled map by the
  // same number of pixels at any valid input size, so its centre crop is a constant slice.
  const crops = skipCrops(model.sizeSpec);
  ([...model.up] as UpStep[]).forEach((step, index) => {
    const prefix = `up.${index}`;
    let up: string;
    if (o.upsampling === 'transposed') {
      const upconv = step.upconv as ConvTranspose2d;
      const inputs = [x, param(`${prefix}.upconv.weight`, upconv.weight)];
      if (upconv.bias !== null) inputs.push(param(`${prefix}.upconv.bias`, upconv.bias));
      up = graph.node('ConvTranspose', inputs, { kernel_shape: { ints: [2, 2] }, strides: { ints: [2, 2] } }, `${prefix}.upconv`);
    } else {
      const resized = graph.node('Resize', [x, '', graph.floats(`${prefix}.scales`, Float32Array.of(1, 1, 2, 2), [4])], {
        mode: { string: 'linear' },
        coordinate_transformation_mode: { string: 'half_pixel' },
      });
      up = conv(`${prefix}.upconv`, step.upconv as Conv2d, resized);
    }
    const skip = skips.pop()!;
    const crop = crops[index]!;
    const cropped =
      crop === 0
        ? skip
        : graph.node('Slice', [
            skip,
            graph.int64s(`${prefix}.crop_starts`, [Math.floor(crop / 2), Math.floor(crop / 2)]),
            graph.int64s(`${prefix}.crop_ends`, [-(crop - Math.floor(crop / 2)), -(crop - Math.floor(crop / 2))]),
            graph.int64s(`${prefix}.crop_axes`, [2, 3]),
          ]);
    const joined = graph.node('Concat', [cropped, up], { axis: { int: 1 } });
    x = doubleConv(`${prefix}.conv`, step.conv, joined);
  });
  conv('head', model.head, x);
  // The head's output is the graph's output: rename the last node's.
  graph.nodes[graph.nodes.length - 1]!.output = [ONNX_OUTPUT];

  const { training: _training, ...recorded } = description;
  const onnx = graph.toModel({
    name: 'unet',
    inputs: [floatTensorInfo(ONNX_INPUT, ['batch', o.inChannels, 'height', 'width'])],
    outputs: [floatTensorInfo(ONNX_OUTPUT, ['batch', o.classes, 'out_height', 'out_width'])],
    opset,
    irVersion,
    producerVersion: packageVersion(),
    docString: `U-Net (${o.depth} levels, ${o.baseChannels} base channels, ${o.padding} padding): logits of ${o.classes} classes`,
    metadata: { [ONNX_METADATA.tile]: JSON.stringify(tileRule(model)), [ONNX_METADATA.model]: JSON.stringify(recorded) },
  });
  return encodeModel(onnx);
}

function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * Writes `model` as an ONNX file (atomically), in evaluation semantics: batch normalisation uses
 * its running statistics and drop-out is left out, whatever the module's mode. The graph reads
 * `image` (batch × inChannels × height × width, float32, normalised as the model's description
 * says) and writes `logits` (batch × classes × outHeight × outWidth); batch, height and width are
 * dynamic (any valid tile size). The metadata holds the tile rule (`unet.tile`) and the model
 * description (`unet.model`). Throws a TypeError for what it cannot export.
 */
export function exportOnnx(model: UNet, file: string, options: ExportOnnxOptions = {}): void {
  pathArg('exportOnnx', 'file', file);
  writeFileAtomic(file, unetToOnnx(model, options));
}
