// The ONNX engine in Node: onnxruntime-node (an optional dependency) and the image files. Nothing
// here or below loads the libtorch addon, so a service can segment with an exported model alone.
import * as fs from 'node:fs';

import { type OrtRuntime, OnnxSegmenter } from './segmenter';

/** onnxruntime-node, or an error that says how to install it. */
export function nodeRuntime(): OrtRuntime {
  try {
    return require('onnxruntime-node') as OrtRuntime;
  } catch (error) {
    throw new Error(
      `the onnxruntime engine needs the npm package onnxruntime-node (${(error as Error).message.split('\n')[0]}); ` +
        'install it with ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node',
    );
  }
}

/** Opens an exported U-Net file (`unet export`) in onnxruntime-node. */
export async function loadOnnxSegmenter(file: string, sessionOptions: Record<string, unknown> = {}): Promise<OnnxSegmenter> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new Error(`${file}: cannot read (${(error as Error).message})`);
  }
  try {
    return await OnnxSegmenter.create(nodeRuntime(), new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), sessionOptions);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}
