// Label images as plain int32 arrays (row-major H × W ids, 0 the background): components, sizes,
// seeded growth, borders between instances and thinning. No libtorch: the tensor path
// (lib/labels), the ONNX engine and the browser page all use these.
import { describe } from '../arguments';

/**
 * Checks `fn`'s argument `name`: a `type` of `height` × `width` pixels, row-major, with `height`
 * and `width` integers >= 0 (without them, any length). Errors name the argument, as the
 * library's other checks do, since these functions are public (`labels.*`).
 */
export function checkPixels(
  fn: string,
  name: string,
  values: unknown,
  type: typeof Int32Array | typeof Uint8Array | 'array-like',
  height?: unknown,
  width?: unknown,
): void {
  const typeName = type === 'array-like' ? 'an array of numbers' : `an ${type.name}`;
  const fits = type === 'array-like' ? ArrayBuffer.isView(values) || Array.isArray(values) : values instanceof type;
  if (!fits) throw new TypeError(`${fn}(): argument '${name}' must be ${typeName}, got ${describe(values)}`);
  if (height === undefined && width === undefined) return;
  for (const [extent, value] of [
    ['height', height],
    ['width', width],
  ] as const)
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
      throw new RangeError(`${fn}(): argument '${extent}' must be an integer >= 0, got ${describe(value)}`);
  const length = (values as ArrayLike<number>).length;
  if (length !== (height as number) * (width as number))
    throw new RangeError(`${fn}(): argument '${name}' must hold ${String(height)}×${String(width)} pixels, got ${length}`);
}

/**
 * The bit depth of a grayscale PNG of label `ids`: 8, or 16 when an id exceeds 255. `unet
 * predict` and the browser page write label images by this one rule; an id outside 0..65535 fits
 * neither and is refused, naming `fn`.
 */
export function labelPngBitDepth(fn: string, ids: ArrayLike<number>): 8 | 16 {
  let max = 0;
  for (let k = 0; k < ids.length; k += 1) {
    const id = ids[k]!;
    if (!(id >= 0 && id <= 65535)) throw new RangeError(`${fn}(): label ids must be in 0..65535, got ${id}`);
    if (id > max) max = id;
  }
  return max > 255 ? 16 : 8;
}

/** Pixel neighbourhood of a connected component: 4 (edges) or 8 (edges and corners). */
export type Connectivity = 4 | 8;

/**
 * The connected components of the non-zero pixels of `mask` (H × W), as ids 1..K in raster order
 * of their first pixel (0 stays background): the same ids as the addon's kernel
 * (`connectedComponents` in lib/labels).
 */
export function componentValues(mask: ArrayLike<number>, height: number, width: number, connectivity: Connectivity = 4): Int32Array {
  checkPixels('componentValues', 'mask', mask, 'array-like', height, width);
  if (connectivity !== 4 && connectivity !== 8)
    throw new RangeError(`componentValues(): option 'connectivity' must be 4 or 8, got ${String(connectivity)}`);
  const ids = new Int32Array(mask.length);
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < ids.length; start += 1) {
    if (mask[start] === 0 || ids[start] !== 0) continue;
    next += 1;
    ids[start] = next;
    stack.push(start);
    while (stack.length > 0) {
      const at = stack.pop()!;
      const y = Math.floor(at / width);
      const x = at - y * width;
      for (let dy = -1; dy <= 1; dy += 1) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx += 1) {
          const nx = x + dx;
          if (nx < 0 || nx >= width || (dx === 0 && dy === 0) || (connectivity === 4 && dx !== 0 && dy !== 0)) continue;
          const neighbour = ny * width + nx;
          if (mask[neighbour] !== 0 && ids[neighbour] === 0) {
            ids[neighbour] = next;
            stack.push(neighbour);
          }
        }
      }
    }
  }
  return ids;
}

/** Pixels per id: index k holds the area of id k (index 0: background). */
export function areas(values: Int32Array): number[] {
  checkPixels('areas', 'values', values, Int32Array);
  const counts: number[] = [];
  for (const id of values) {
    if (id < 0) throw new RangeError(`label ids must be >= 0, found ${id}`);
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return Array.from(counts, (count) => count ?? 0);
}

/** Ids renumbered 1..K in raster order of their first pixel (0 stays 0). */
export function relabelSequential(values: Int32Array): Int32Array {
  checkPixels('relabelSequential', 'values', values, Int32Array);
  const next = new Map<number, number>();
  return values.map((id) => {
    if (id === 0) return 0;
    let mapped = next.get(id);
    if (mapped === undefined) {
      mapped = next.size + 1;
      next.set(id, mapped);
    }
    return mapped;
  });
}

/** Objects smaller than `minSize` pixels become background; the others are renumbered 1..K. */
export function removeSmallObjects(values: Int32Array, minSize: number): Int32Array {
  checkPixels('removeSmallObjects', 'values', values, Int32Array);
  if (!(typeof minSize === 'number' && minSize >= 0))
    throw new RangeError(`removeSmallObjects(): 'minSize' must be >= 0, got ${describe(minSize)}`);
  const area = areas(values);
  return relabelSequential(values.map((id) => (id !== 0 && area[id]! < minSize ? 0 : id)));
}

/**
 * Grows labelled seeds into the pixels of `allowed` (non-zero) that no seed holds, each pixel going
 * to the seed it is nearest to along paths inside `allowed` (4-connected breadth-first order: on a
 * tie, the seed that reached the pixel first in raster order). Pixels of `allowed` that no path
 * reaches stay 0. Returns new ids (the seeds' ids).
 */
export function growSeeds(seeds: Int32Array, allowed: Uint8Array, height: number, width: number): Int32Array {
  checkPixels('growSeeds', 'seeds', seeds, Int32Array, height, width);
  checkPixels('growSeeds', 'allowed', allowed, Uint8Array, height, width);
  const out = Int32Array.from(seeds);
  let frontier: number[] = [];
  for (let k = 0; k < out.length; k += 1) if (out[k] !== 0) frontier.push(k);
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const at of frontier) {
      const y = Math.floor(at / width);
      const x = at - y * width;
      const id = out[at]!;
      if (y > 0) claim(at - width);
      if (y < height - 1) claim(at + width);
      if (x > 0) claim(at - 1);
      if (x < width - 1) claim(at + 1);
      function claim(neighbour: number): void {
        if (out[neighbour] === 0 && allowed[neighbour] !== 0) {
          out[neighbour] = id;
          next.push(neighbour);
        }
      }
    }
    frontier = next;
  }
  return out;
}

/**
 * Pixels of an object that lie within `width` pixels (Chebyshev distance, so `width` 1 is the
 * 8-neighbourhood) of a pixel of another object: where touching instances meet. 1 marks them.
 */
export function touchingBorders(values: Int32Array, height: number, width: number, borderWidth = 1): Uint8Array {
  checkPixels('touchingBorders', 'values', values, Int32Array, height, width);
  if (!Number.isInteger(borderWidth) || borderWidth < 1)
    throw new RangeError(`touchingBorders(): 'borderWidth' must be a positive integer, got ${describe(borderWidth)}`);
  const border = new Uint8Array(values.length);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const id = values[y * width + x]!;
      if (id === 0) continue;
      search: for (let dy = -borderWidth; dy <= borderWidth; dy += 1) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -borderWidth; dx <= borderWidth; dx += 1) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const other = values[ny * width + nx]!;
          if (other !== 0 && other !== id) {
            border[y * width + x] = 1;
            break search;
          }
        }
      }
    }
  }
  return border;
}

// The deletion tables of the two sub-iterations of Lam, Lee and Suen's thinning (1992), the one
// scikit-image's `thin` uses: bit k of a code is the k-th neighbour counter-clockwise from the
// right (right, top-right, top, top-left, left, bottom-left, bottom, bottom-right).
const THIN_TABLES: [Uint8Array, Uint8Array] = (() => {
  const bitsOf = (code: number): boolean[] => Array.from({ length: 9 }, (_, i) => ((code >> i) & 1) === 1);
  const g1 = (b: boolean[]): boolean => [0, 2, 4, 6].filter((i) => !b[i] && (b[i + 1] || b[(i + 2) % 8])).length === 1;
  const g2 = (b: boolean[]): boolean => {
    let n1 = 0;
    let n2 = 0;
    for (const k of [1, 3, 5, 7]) {
      if (b[k] || b[k - 1]) n1 += 1;
      if (b[k] || b[(k + 1) % 8]) n2 += 1;
    }
    return [2, 3].includes(Math.min(n1, n2));
  };
  const g3 = (b: boolean[]): boolean => !((b[1] || b[2] || !b[7]) && b[0]);
  const g3p = (b: boolean[]): boolean => !((b[5] || b[6] || !b[3]) && b[4]);
  const first = new Uint8Array(256);
  const second = new Uint8Array(256);
  for (let code = 0; code < 256; code += 1) {
    const b = bitsOf(code);
    const common = g1(b) && g2(b);
    first[code] = common && g3(b) ? 1 : 0;
    second[code] = common && g3p(b) ? 1 : 0;
  }
  return [first, second];
})();
const THIN_NEIGHBOURS: [number, number][] = [
  [0, 1],
  [-1, 1],
  [-1, 0],
  [-1, -1],
  [0, -1],
  [1, -1],
  [1, 0],
  [1, 1],
];

/**
 * Thins the non-zero pixels of a mask to one-pixel-wide, 8-connected lines that keep its topology
 * (Lam, Lee and Suen's two sub-iteration thinning, as scikit-image's `morphology.thin`; outside
 * the image counts as 0). Returns 0/1 pixels.
 */
export function thin(mask: Uint8Array, height: number, width: number): Uint8Array {
  checkPixels('thin', 'mask', mask, Uint8Array, height, width);
  const image = Uint8Array.from(mask, (v) => (v !== 0 ? 1 : 0));
  const codes = new Uint8Array(image.length);
  for (let changed = true; changed; ) {
    changed = false;
    for (const table of THIN_TABLES) {
      // Each sub-iteration decides from the image as it was when it began (a parallel step).
      for (let y = 0; y < height; y += 1) {
        for (let x = 0; x < width; x += 1) {
          let code = 0;
          THIN_NEIGHBOURS.forEach(([dy, dx], bit) => {
            const ny = y + dy;
            const nx = x + dx;
            if (ny >= 0 && ny < height && nx >= 0 && nx < width && image[ny * width + nx] === 1) code |= 1 << bit;
          });
          codes[y * width + x] = code;
        }
      }
      for (let k = 0; k < image.length; k += 1) {
        if (image[k] === 1 && table[codes[k]!] === 1) {
          image[k] = 0;
          changed = true;
        }
      }
    }
  }
  return image;
}
