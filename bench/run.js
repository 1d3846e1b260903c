'use strict';
// `npm run bench [name...]`: runs the named benchmarks (all by default), each beside its PyTorch twin.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const BENCHMARKS = {
  overhead: 'per-call overhead vs PyTorch',
  conv: 'a small convolutional training step vs PyTorch',
  train: 'a small CNN of nn modules trained with SGD vs PyTorch',
  unet: 'the U-Net presets, training step and forward pass, time and peak memory vs PyTorch',
  weightmap: 'the border weight map vs the scipy reference',
  augment: 'augmentation throughput (elastic + rotation + flip) vs the scipy pipeline',
  predict: 'overlap-tile prediction of 512² and 2048² images vs the PyTorch loop',
  training: 'training throughput (tiles/s) of train() vs a plain PyTorch loop',
  soak: 'memory over 1,000 training steps (resident, heap, tensors): flat',
  fuzz: 'the seeded fuzzer of the public API, 20,000 cases in child processes',
};
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(BENCHMARKS);
for (const name of chosen) {
  if (!(name in BENCHMARKS)) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n## ${name}: ${BENCHMARKS[name]}\n`);
  execFileSync(process.execPath, [path.join(__dirname, `${name}.js`)], { stdio: 'inherit' });
}
