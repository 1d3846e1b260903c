'use strict';
// Runs in a worker_thread: trains a small U-Net on generated cells and reports every step.
const { parentPort, workerData } = require('node:worker_threads');
const { torch, unet, UNet, runTraining, syntheticCells } = require('../../dist/index.js');
const { normaliseImage, prepareSamples } = require('../../dist/data/dataset.js');

torch.setNumThreads(1);
const raw = [1, 2].map((seed) => {
  const { image, label } = syntheticCells(seed, { height: 64, width: 64 });
  return { name: `cells${seed}`, image: normaliseImage(image), label };
});
const samples = prepareSamples(raw, 'instances', 2);
const model = new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 8 });
runTraining({
  model,
  train: samples,
  steps: workerData.steps,
  tileSize: model.inputSizeFor(40),
  optimizer: 'adam',
  onEvent: (event) => event.type === 'step' && parentPort?.postMessage(event.loss),
}).then((result) => parentPort?.postMessage({ done: result.step }));
