// Untrusted images: a PNG or TIFF whose header declares 30000 × 30000 pixels in a few hundred bytes
// is refused by every reader before anything is decoded (it once grew `unet weightmap` to 13 GB),
// with the file, its declared size and the option in the message; the limit can be raised; `unet
// predict` over a folder reports such a file, predicts the others and exits 1.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { DEFAULT_MAX_PIXELS, ImageTooLargeError, readImagePng, readImageTiff, setMaxImagePixels } from '../lib';
import { packageRoot } from '../lib/package-root';
import { decodeImagePng } from '../lib/raster/png';
import { decodeImageTiff } from '../lib/raster/tiff';

let folder: string;
beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-image-limits-'));
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header declaring width × height 8-bit gray pixels, followed by a few bytes of data. */
function pngDeclaring(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // gray
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', Buffer.from([0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01])),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A little-endian TIFF whose one directory declares width × height 8-bit gray pixels in one strip. */
function tiffDeclaring(width: number, height: number): Buffer {
  const entries: [number, number, number][] = [
    [256, 4, width], // ImageWidth, LONG
    [257, 4, height], // ImageLength
    [258, 3, 8], // BitsPerSample, SHORT
    [259, 3, 1], // Compression: none
    [262, 3, 1], // PhotometricInterpretation: black is zero
    [273, 4, 8 + 2 + 9 * 12 + 4], // StripOffsets: right after the directory
    [277, 3, 1], // SamplesPerPixel
    [278, 4, height], // RowsPerStrip
    [279, 4, 16], // StripByteCounts
  ];
  const out = Buffer.alloc(8 + 2 + entries.length * 12 + 4 + 16);
  out.write('II', 0, 'ascii');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  for (const [k, [tag, type, value]] of entries.entries()) {
    const at = 10 + k * 12;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(type, at + 2);
    out.writeUInt32LE(1, at + 4);
    if (type === 3) out.writeUInt16LE(value, at + 8);
    else out.writeUInt32LE(value, at + 8);
  }
  return out;
}

const DECLARED =
  /declares 30000 × 30000 pixels \(900,000,000\), more than the limit of 268,435,456 pixels; .*'maxPixels' or setMaxImagePixels\(\)/;

describe('untrusted images', () => {
  let pngBomb: string;
  let tiffBomb: string;
  beforeAll(() => {
    pngBomb = path.join(folder, 'bomb.png');
    tiffBomb = path.join(folder, 'bomb.tif');
    fs.writeFileSync(pngBomb, pngDeclaring(30000, 30000));
    fs.writeFileSync(tiffBomb, tiffDeclaring(30000, 30000));
  });

  test.each([
    ['readImagePng', () => readImagePng(pngBomb), 'bomb.png'],
    ['readImageTiff', () => readImageTiff(tiffBomb), 'bomb.tif'],
    ['decodeImagePng (no libtorch)', () => decodeImagePng(pngBomb), 'bomb.png'],
    ['decodeImageTiff (no libtorch)', () => decodeImageTiff(tiffBomb), 'bomb.tif'],
  ])('%s refuses a declared 30000 × 30000 before decoding, naming the file, its size and the option', (_, read, name) => {
    const before = process.memoryUsage().rss;
    const start = Date.now();
    let thrown: unknown;
    try {
      read();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ImageTooLargeError);
    expect((thrown as Error).message).toContain(name);
    expect((thrown as Error).message).toMatch(DECLARED);
    expect(Date.now() - start).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  test('the limit is documented, per call or for the process, and a trusted image passes once raised', () => {
    expect(DEFAULT_MAX_PIXELS).toBe(2 ** 28);
    const small = path.join(folder, 'small.png');
    fs.copyFileSync(
      path.join(
        packageRoot,
        'examples',
        'dsb2018',
        'test',
        'images',
        fs.readdirSync(path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images'))[0]!,
      ),
      small,
    );
    expect(() => readImagePng(small, { maxPixels: 1000 })).toThrow(
      /small\.png: declares 256 × 256 pixels \(65,536\), more than the limit of 1,000 pixels/,
    );
    expect(readImagePng(small, { maxPixels: 65536 }).shape.slice(1)).toEqual([256, 256]);
    setMaxImagePixels(1000);
    try {
      expect(() => readImagePng(small)).toThrow(ImageTooLargeError);
      expect(readImagePng(small, { maxPixels: 10 ** 6 }).shape.slice(1)).toEqual([256, 256]);
    } finally {
      setMaxImagePixels(DEFAULT_MAX_PIXELS);
    }
    expect(() => setMaxImagePixels(0)).toThrow(/must be a positive number of pixels/);
  });

  test('unet weightmap on the bomb fails at once naming --max-pixels (it grew to 13 GB)', () => {
    const cli = path.join(packageRoot, 'dist', 'cli', 'main.js');
    const start = Date.now();
    const result = spawnSync(process.execPath, [cli, 'weightmap', pngBomb, '--out', path.join(folder, 'w.npy')], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bomb\.png: declares 30000 × 30000 pixels .*--max-pixels/);
    expect(Date.now() - start).toBeLessThan(30_000);
  });

  test('unet predict over a folder reports the bomb, predicts the other images and exits 1', () => {
    const cli = path.join(packageRoot, 'dist', 'cli', 'main.js');
    const inputs = path.join(folder, 'inputs');
    fs.mkdirSync(inputs);
    const images = path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images');
    const good = fs.readdirSync(images)[0]!;
    fs.copyFileSync(path.join(images, good), path.join(inputs, good));
    fs.copyFileSync(pngBomb, path.join(inputs, 'bomb.png'));
    fs.copyFileSync(tiffBomb, path.join(inputs, 'huge.tif'));
    const out = path.join(folder, 'predicted');
    const result = spawnSync(process.execPath, [cli, 'predict', '--model', 'nuclei', '--out', out, '--no-tta', inputs], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bomb\.png: declares 30000 × 30000 pixels .*--max-pixels.*; skipped/);
    expect(result.stderr).toMatch(/huge\.tif: declares 30000 × 30000 pixels .*; skipped/);
    expect(result.stderr).toMatch(/2 of 3 file\(s\) could not be read/);
    expect(fs.existsSync(path.join(out, good))).toBe(true);
  });
});
