// The centre of a batch of maps: what the valid-convolution U-Net does to a skip connection, and
// what its loss does to labels larger than the logits. A torch-level helper below the U-Net, not
// part of the torch.* surface (PyTorch keeps it in torchvision).
import { tensorArg } from '../check';
import type { Tensor } from '../tensor';
import { narrow } from './indexing';

/** The centre height × width of `map` (N, C, H, W), as a view (the input itself when it already has that size). */
export function centreCrop(map: Tensor, height: number, width: number): Tensor {
  tensorArg('centreCrop', 'map', map);
  if (map.ndim !== 4) throw new RangeError(`centreCrop(): argument 'map' must be (N, C, H, W), got shape [${map.shape}]`);
  const [, , h, w] = map.shape as [number, number, number, number];
  for (const [name, size, within] of [
    ['height', height, h],
    ['width', width, w],
  ] as const)
    if (!Number.isInteger(size) || size < 0 || size > within)
      throw new RangeError(`centreCrop(): argument '${name}' must be an integer in 0..${within}, got ${String(size)}`);
  if (h === height && w === width) return map;
  const rows = narrow(map, 2, Math.floor((h - height) / 2), height);
  try {
    return narrow(rows, 3, Math.floor((w - width) / 2), width);
  } finally {
    rows.dispose();
  }
}
