// The messages between the page and its worker.
import type { UNetMetadata } from '../lib/onnx/metadata';
import type { ImageRaster } from '../lib/raster/image';

/** Page → worker. */
export type Request =
  | { type: 'model'; bytes: ArrayBuffer; executionProviders: string[] }
  | { type: 'segment'; image: ImageRaster };

/** Worker → page. */
export type Reply =
  | { type: 'model-ready'; metadata: UNetMetadata; executionProvider: string }
  | { type: 'progress'; fraction: number }
  | { type: 'result'; labels: Int32Array; width: number; height: number; cells: number; seconds: number }
  | { type: 'error'; message: string };
