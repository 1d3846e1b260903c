// A grayscale PNG encoder for the page's label download, on the platform's CompressionStream: no
// library. Its bit depth follows `unet predict`'s rule (labelPngBitDepth).
import { labelPngBitDepth } from '../lib/raster/labels';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** Label ids (row-major) as the bytes of a grayscale PNG. */
export async function encodeLabelPng(ids: Int32Array, width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  const bytesPerSample = labelPngBitDepth('encodeLabelPng', ids) / 8;
  const stride = 1 + width * bytesPerSample;
  const raw = new Uint8Array(height * stride);
  for (let y = 0; y < height; y += 1)
    for (let x = 0; x < width; x += 1) {
      const id = ids[y * width + x]!;
      const at = y * stride + 1 + x * bytesPerSample;
      if (bytesPerSample === 2) {
        raw[at] = id >> 8;
        raw[at + 1] = id & 0xff;
      } else raw[at] = id;
    }
  // CompressionStream's 'deflate' is the zlib format that IDAT holds.
  const compressed = new Uint8Array(await new Response(new Blob([raw]).stream().pipeThrough(new CompressionStream('deflate'))).arrayBuffer());
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = bytesPerSample * 8;
  header[9] = 0; // grayscale
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', header), chunk('IDAT', compressed), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
