'use strict';
// Preloaded (`node -r`) by test/engine.test.ts and test/cli.test.ts: loading the unet-torch addon
// throws, so that a command that needs it fails and one that runs without it (predict --engine
// onnxruntime, the `unet` overview) proves so.
const Module = require('node:module');

const extensions = /** @type {Record<string, (module: unknown, filename: string) => void>} */ (/** @type {any} */ (Module)._extensions);
const load = extensions['.node'];
extensions['.node'] = function loadNative(module, filename) {
  if (filename.endsWith('unet_torch.node')) throw new Error(`the unet-torch addon was loaded: ${filename}`);
  return load?.call(this, module, filename);
};
