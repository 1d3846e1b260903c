// Pictures for people to look at: gray images, label images in colour, overlays, and panels
// of them side by side, as 8-bit RGB. Only types come from the tensor layer: the ONNX engine
// uses the array functions here without libtorch.
import { describe } from '../arguments';
import type { Tensor } from '../tensor';

/** An 8-bit RGB picture, pixels interleaved (H × W × 3). */
export interface Picture {
  /** Rows. */
  height: number;
  /** Columns. */
  width: number;
  /** height × width × 3 bytes: red, green and blue of each pixel, row by row. */
  rgb: Uint8Array;
}

/**
 * Checks that `fn`'s argument `name` is a Tensor. Only its shape is read here (the class itself
 * would load the addon into the browser page), so a tensor is known by its shape.
 */
function tensorLike(fn: string, name: string, value: unknown): Tensor {
  const shape = (value as { shape?: unknown } | null | undefined)?.shape;
  if (value === null || typeof value !== 'object' || !Array.isArray(shape))
    throw new TypeError(`${fn}(): argument '${name}' must be a Tensor, got ${describe(value)}`);
  return value as Tensor;
}

/** Checks that `fn`'s argument `name` is a Picture: `height` × `width` × 3 bytes. */
export function checkPicture(fn: string, name: string, value: unknown): Picture {
  const { height, width, rgb } = (value ?? {}) as Partial<Picture>;
  if (
    value === null ||
    typeof value !== 'object' ||
    !(rgb instanceof Uint8Array) ||
    !Number.isInteger(height) ||
    !Number.isInteger(width) ||
    height! < 0 ||
    width! < 0 ||
    rgb.length !== height! * width! * 3
  )
    throw new TypeError(`${fn}(): argument '${name}' must be a picture { height, width, rgb: height × width × 3 bytes }`);
  return value as Picture;
}

function sizeOf(map: Tensor, what: string): [number, number] {
  if (map.ndim !== 2) throw new RangeError(`${what} must be 2-d (H, W), got shape [${map.shape}]`);
  return map.shape as [number, number];
}

/** An image (H, W), (1, H, W) or RGB (3, H, W) with values in [0, 1] (clamped). */
export function imagePicture(image: Tensor): Picture {
  tensorLike('imagePicture', 'image', image);
  const planes = image.ndim === 2 ? 1 : image.shape[0]!;
  if (!(image.ndim === 2 || (image.ndim === 3 && (planes === 1 || planes === 3)))) {
    throw new RangeError(`imagePicture(): the image must be (H, W), (1, H, W) or (3, H, W), got shape [${image.shape}]`);
  }
  const [height, width] = image.shape.slice(-2) as [number, number];
  const values = image.to('float32').toTypedArray() as Float32Array;
  const plane = height * width;
  const rgb = new Uint8Array(3 * plane);
  for (let k = 0; k < plane; k += 1) {
    for (let c = 0; c < 3; c += 1) rgb[3 * k + c] = Math.round(Math.min(1, Math.max(0, values[(planes === 3 ? c : 0) * plane + k]!)) * 255);
  }
  return { height, width, rgb };
}

/** A distinct, stable colour per id (golden-ratio hues), black for 0. */
export function labelColour(id: number): [number, number, number] {
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
    throw new RangeError(`labelColour(): argument 'id' must be a label id (an integer >= 0), got ${describe(id)}`);
  if (id === 0) return [0, 0, 0];
  const hue = (id * 0.618033988749895) % 1;
  const channel = (shift: number): number => Math.round(255 * (0.55 + 0.45 * Math.cos(2 * Math.PI * (hue + shift))));
  return [channel(0), channel(1 / 3), channel(2 / 3)];
}

/** Labels (H, W) in colour, or blended over `image` (as `imagePicture` takes it) with cell outlines. */
export function labelPicture(labels: Tensor, image?: Tensor, opacity = 0.35): Picture {
  tensorLike('labelPicture', 'labels', labels);
  if (image !== undefined) tensorLike('labelPicture', 'image', image);
  const [height, width] = sizeOf(labels, 'labelPicture(): the labels');
  return labelPictureOf(labels.to('int32').toTypedArray() as Int32Array, height, width, image ? imagePicture(image) : undefined, opacity);
}

/** Label ids (row-major H × W) in colour, or blended over the picture `base` with cell outlines. */
export function labelPictureOf(ids: Int32Array, height: number, width: number, base?: Picture, opacity = 0.35): Picture {
  if (base && (base.height !== height || base.width !== width))
    throw new RangeError(`labelPicture(): the image is ${base.width}×${base.height} but the labels ${width}×${height}`);
  const rgb = new Uint8Array(3 * ids.length);
  for (let k = 0; k < ids.length; k += 1) {
    const colour = labelColour(ids[k]!);
    if (!base) {
      rgb.set(colour, 3 * k);
      continue;
    }
    const x = k % width;
    const outline =
      ids[k] !== 0 &&
      ((x > 0 && ids[k - 1] !== ids[k]) ||
        (x < width - 1 && ids[k + 1] !== ids[k]) ||
        (k >= width && ids[k - width] !== ids[k]) ||
        (k + width < ids.length && ids[k + width] !== ids[k]));
    const alpha = ids[k] === 0 ? 0 : outline ? 1 : opacity;
    for (let c = 0; c < 3; c += 1) rgb[3 * k + c] = Math.round(base.rgb[3 * k + c]! * (1 - alpha) + colour[c]! * alpha);
  }
  return { height, width, rgb };
}

/**
 * A gray picture of planar samples (C × H × W) for display: the mean over the channels, its
 * minimum black and its maximum white.
 */
export function stretchedPicture(data: Float32Array, channels: number, height: number, width: number): Picture {
  const plane = height * width;
  const mean = new Float32Array(plane);
  for (let c = 0; c < channels; c += 1) for (let k = 0; k < plane; k += 1) mean[k] = mean[k]! + data[c * plane + k]! / channels;
  let low = Infinity;
  let high = -Infinity;
  for (const value of mean) {
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  const rgb = new Uint8Array(3 * plane);
  for (let k = 0; k < plane; k += 1) rgb.fill(Math.round(((mean[k]! - low) / Math.max(high - low, 1e-6)) * 255), 3 * k, 3 * k + 3);
  return { height, width, rgb };
}

/** Pictures in rows (each row left to right), with `gap` white pixels between them. */
export function panel(rows: Picture[][], gap = 8): Picture {
  if (!Array.isArray(rows) || rows.length === 0 || !rows.every((row) => Array.isArray(row) && row.length > 0))
    throw new TypeError("panel(): argument 'rows' must be a non-empty array of non-empty arrays of pictures");
  for (const row of rows) for (const picture of row) checkPicture('panel', 'rows', picture);
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`panel(): argument 'gap' must be an integer >= 0, got ${String(gap)}`);
  const width = Math.max(...rows.map((row) => row.reduce((sum, p) => sum + p.width, 0) + gap * (row.length - 1)));
  const heights = rows.map((row) => Math.max(...row.map((p) => p.height)));
  const height = heights.reduce((sum, h) => sum + h, 0) + gap * (rows.length - 1);
  const rgb = new Uint8Array(3 * width * height).fill(255);
  let top = 0;
  rows.forEach((row, r) => {
    let left = 0;
    for (const picture of row) {
      for (let y = 0; y < picture.height; y += 1)
        rgb.set(picture.rgb.subarray(3 * y * picture.width, 3 * (y + 1) * picture.width), 3 * ((top + y) * width + left));
      left += picture.width + gap;
    }
    top += heights[r]! + gap;
  });
  return { height, width, rgb };
}
