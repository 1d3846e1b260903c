// How large an image the readers decode. A PNG or TIFF header can declare any size in a few
// bytes, and decoding it allocates for every declared pixel: an 875 KB PNG claiming 30000 × 30000
// pixels grew a process to 13 GB. Readers check the declared size against this limit before they
// decode, as PIL (MAX_IMAGE_PIXELS) and sharp (limitInputPixels) do.

/** The default limit: 2^28 pixels (about 16384 × 16384), sharp's default. */
export const DEFAULT_MAX_PIXELS = 2 ** 28;

let maxPixels = DEFAULT_MAX_PIXELS;

/** Thrown for an image whose declared size is over the limit; it names the file, the size and the option. */
export class ImageTooLargeError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'ImageTooLargeError';
}

/** The limit readers use when a call does not give its own. */
export function getMaxImagePixels(): number {
  return maxPixels;
}

/** Sets the limit for every later read (Infinity turns it off). */
export function setMaxImagePixels(pixels: number): void {
  if (typeof pixels !== 'number' || !(pixels > 0))
    throw new RangeError(`setMaxImagePixels(): the limit must be a positive number of pixels, got ${String(pixels)}`);
  maxPixels = pixels;
}

const advice = "if the file is trusted, raise the limit with option 'maxPixels' or setMaxImagePixels()";

/** Refuses a declared image size over `limit` (default: the limit set), before anything is decoded. */
export function checkImageSize(file: string, width: number, height: number, limit = maxPixels): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new ImageTooLargeError(`${file}: declares an image of ${width} × ${height} pixels, which is not a valid size`);
  }
  const pixels = width * height;
  if (pixels > limit)
    throw new ImageTooLargeError(
      `${file}: declares ${width} × ${height} pixels (${pixels.toLocaleString('en')}), more than the limit of ${limit.toLocaleString('en')} pixels; ${advice}`,
    );
}

/** Refuses pages whose pixels add up to more than `limit`. */
export function checkTotalPixels(file: string, pages: number, pixels: number, limit = maxPixels): void {
  if (pixels > limit)
    throw new ImageTooLargeError(
      `${file}: declares ${pages} pages of ${pixels.toLocaleString('en')} pixels in all, more than the limit of ${limit.toLocaleString('en')} pixels; ${advice}`,
    );
}
