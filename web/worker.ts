// The page's worker: onnxruntime-web (WASM, or WebGPU where the browser has it) running the same
// overlap-tile prediction and post-processing as `unet predict` (lib/engine/segmenter), off the
// page's thread.
import { OnnxSegmenter, type OrtRuntime } from '../lib/engine/segmenter';
import type { Reply, Request } from './protocol';

let segmenter: OnnxSegmenter | null = null;

function reply(message: Reply, transfer: Transferable[] = []): void {
  (self as unknown as { postMessage(message: Reply, transfer: Transferable[]): void }).postMessage(message, transfer);
}

async function runtime(): Promise<OrtRuntime & { env: { wasm: { wasmPaths: string; numThreads: number } } }> {
  // onnxruntime-web sits beside the page (ort/), copied there by the build.
  const url = new URL('ort/ort.min.mjs', self.location.href).href;
  const ort = (await import(url)) as OrtRuntime & { env: { wasm: { wasmPaths: string; numThreads: number } } };
  ort.env.wasm.wasmPaths = new URL('ort/', self.location.href).href;
  // One thread: several need cross-origin isolation, which a plain static server does not give.
  ort.env.wasm.numThreads = 1;
  return ort;
}

self.onmessage = async (event: MessageEvent<Request>): Promise<void> => {
  const request = event.data;
  try {
    if (request.type === 'model') {
      if (segmenter !== null) await segmenter.release();
      segmenter = null;
      const ort = await runtime();
      let lastError: unknown = null;
      for (const provider of request.executionProviders) {
        try {
          segmenter = await OnnxSegmenter.create(ort, new Uint8Array(request.bytes), { executionProviders: [provider] });
          reply({ type: 'model-ready', metadata: segmenter.metadata, executionProvider: provider });
          return;
        } catch (error) {
          lastError = error;
          // Not an ONNX U-Net at all: no other provider will do better.
          if (/not an ONNX model|not a U-Net exported/.test((error as Error).message)) break;
        }
      }
      throw lastError;
    }
    if (segmenter === null) throw new Error('choose a model first');
    const start = performance.now();
    const result = await segmenter.segment(request.image, { onProgress: (fraction) => reply({ type: 'progress', fraction }) });
    const labels = result.labels.data;
    const cells = segmenter.metadata.model.postprocess.kind === 'classes' ? 0 : labels.reduce((a, b) => Math.max(a, b), 0);
    reply(
      { type: 'result', labels, width: result.labels.width, height: result.labels.height, cells, seconds: (performance.now() - start) / 1000 },
      [labels.buffer],
    );
  } catch (error) {
    reply({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};
