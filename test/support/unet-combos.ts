// Every U-Net option combination on a small network: what test/unet.test.ts checks against
// PyTorch and test/onnx.test.ts against onnxruntime.
import type { UNetOptions } from '../../lib';

/** 64 combinations of padding, up-sampling, normalisation, activation, initialisation and drop-out (depth 3, 4 base channels). */
export function optionCombinations(): UNetOptions[] {
  const combos: UNetOptions[] = [];
  for (const padding of ['valid', 'same'] as const)
    for (const upsampling of ['transposed', 'bilinear'] as const)
      for (const normalization of ['none', 'batch', 'instance', 'group'] as const)
        for (const activation of ['relu', 'leakyRelu'] as const)
          for (const init of ['paper', 'pytorch'] as const)
            for (const dropout of [0, 0.5])
              combos.push({
                inChannels: 2,
                classes: 3,
                depth: 3,
                baseChannels: 4,
                padding,
                upsampling,
                normalization,
                groups: 2,
                activation,
                negativeSlope: 0.1,
                dropout,
                init,
              });
  return combos;
}

/** The same options as reference/unet.py's UNetOptions, in Python source. */
export function pythonOptions(options: UNetOptions): string {
  return `UNetOptions.from_camel(${JSON.stringify(options).replace(/true/g, 'True').replace(/false/g, 'False')})`;
}
