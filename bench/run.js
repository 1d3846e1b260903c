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
  checkpoint: "a training checkpoint of the paper's network written to disk vs torch.save",
  augment: 'augmentation throughput (elastic + rotation + flip) vs the scipy pipeline',
  predict: 'overlap-tile prediction of 512² and 2048² images vs the PyTorch loop',
  runtimes: 'prediction of a 512² image on libtorch, onnxruntime-node and onnxruntime-web (Chromium)',
  training: 'training throughput (tiles/s) of train() vs a plain PyTorch loop',
  distributed: "data-parallel training over Gloo (2 ranks) vs PyTorch's DistributedDataParallel",
  soak: 'memory over 1,000 training steps (resident, heap, tensors): flat',
  fuzz: 'the seeded fuzzer of the public API, 20,000 cases in child processes',
};
// glibc returns every freed block above its mmap threshold (at most 32 MB) to the system, and the
// next step faults the pages back in, which costs more than the arithmetic on some VMs (14 µs a
// page on the one these figures come from). Both sides of every benchmark run with the same
// allocator settings, so that what is compared is the libraries, not the page faults.
const ALLOCATOR = 'glibc.malloc.mmap_threshold=4294967296:glibc.malloc.trim_threshold=17179869184';
const env = { ...process.env, GLIBC_TUNABLES: process.env.GLIBC_TUNABLES ?? ALLOCATOR };
const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(BENCHMARKS);
for (const name of chosen) {
  if (!(name in BENCHMARKS)) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n## ${name}: ${BENCHMARKS[name]}\n`);
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, [path.join(__dirname, `${name}.js`)], { stdio: 'inherit', env });
  console.log(`\n(${name}: ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} s)`);
}
