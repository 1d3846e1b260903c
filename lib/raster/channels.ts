// An image's planes as a network's input channels take them: the one rule `unet predict` (both
// engines) and the browser page apply to a gray image and a colour one. It loads no libtorch.
import type { ImageRaster } from './image';

/** An image whose channels no rule turns into the network's (reported by `unet predict`, which skips the file). */
export class ChannelsError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'ChannelsError';
}

/**
 * `image` as a network of `channels` input channels takes it: as it is when the counts match; a
 * colour image for a one-channel network as one plane (the first where its three are equal, a
 * gray image stored as colour, as DSB2018's own PNGs; else their mean); a gray image for a
 * three-channel network as its plane three times. Any other pair of counts is a ChannelsError
 * naming `source` (a file name).
 */
export function fitChannels(image: ImageRaster, channels: number, source: string): ImageRaster {
  const { height, width, data } = image;
  if (image.channels === channels) return image;
  const plane = height * width;
  if (image.channels === 3 && channels === 1) {
    const fitted = new Float32Array(plane);
    let gray = true;
    for (let k = 0; k < plane && gray; k += 1) gray = data[k] === data[plane + k] && data[k] === data[2 * plane + k];
    // Equal planes stay bitwise what a gray file of the same values gives.
    for (let k = 0; k < plane; k += 1) fitted[k] = gray ? data[k]! : (data[k]! + data[plane + k]! + data[2 * plane + k]!) / 3;
    return { channels: 1, height, width, data: fitted };
  }
  if (image.channels === 1 && channels === 3) {
    const fitted = new Float32Array(3 * plane);
    for (let c = 0; c < 3; c += 1) fitted.set(data.subarray(0, plane), c * plane);
    return { channels: 3, height, width, data: fitted };
  }
  throw new ChannelsError(`${source}: the model takes ${channels} channel(s), the image has ${image.channels}`);
}
