// Gray-value variations of a batch of images, each sample with its own drawn parameters.
import { tensor as makeTensor } from '../creation';
import { tidy } from '../memory';
import { native } from '../native';
import { stack } from '../ops/join';
import type { Tensor } from '../tensor';
import { upload } from '../upload';
import type { SampleTransform } from './transform';
import { arrayArg, tensorArg } from '../check';

function perSample(values: number[], image: Tensor): Tensor {
  return upload(makeTensor(values, { dtype: image.dtype }), image.device).reshape([values.length, 1, 1, 1]);
}

/** Whether `transform` changes gray values at all. */
export function changesGray(transform: SampleTransform): boolean {
  return transform.gamma !== 1 || transform.contrast !== 1 || transform.brightness !== 0 || transform.noiseStd !== 0;
}

/**
 * Applies each sample's gamma (to the image clamped to [0, 1]), contrast about its mean,
 * brightness offset and Gaussian noise to `images` (N, C, H, W); parts left at their neutral
 * value cost nothing.
 */
export function adjustGray(images: Tensor, transforms: SampleTransform[]): Tensor {
  tensorArg('adjustGray', 'images', images);
  if (arrayArg('adjustGray', 'transforms', transforms).length !== images.shape[0])
    throw new RangeError(
      `adjustGray(): argument 'transforms' must hold one transform per image (${images.shape[0]}), got ${transforms.length}`,
    );
  return tidy(() => {
    let out = images;
    if (transforms.some((t) => t.gamma !== 1))
      out = out.clamp(0, 1).pow(
        perSample(
          transforms.map((t) => t.gamma),
          out,
        ),
      );
    if (transforms.some((t) => t.contrast !== 1)) {
      const mean = out.mean([1, 2, 3], { keepdim: true });
      out = out
        .sub(mean)
        .mul(
          perSample(
            transforms.map((t) => t.contrast),
            out,
          ),
        )
        .add(mean);
    }
    if (transforms.some((t) => t.brightness !== 0))
      out = out.add(
        perSample(
          transforms.map((t) => t.brightness),
          out,
        ),
      );
    if (transforms.some((t) => t.noiseStd !== 0)) {
      // Each sample's noise from its own generator, drawn on the CPU, so no device or batch changes it.
      const shape = images.shape.slice(1);
      const noise = upload(stack(transforms.map((t) => native.seededNormal(t.noiseSeed, shape))), out.device).to(out.dtype);
      out = out.add(
        noise.mul(
          perSample(
            transforms.map((t) => t.noiseStd),
            out,
          ),
        ),
      );
    }
    return out === images ? images.clone() : out;
  });
}
