'use strict';
// Memory over a long training run and many predictions: resident memory, V8 heap, native tensor
// bytes and live tensors sampled every 50 steps of train() (compact U-Net, 220 tiles,
// augmentation on) and every 50 overlap-tile predictions of a 96 × 96 image; the slope over the
// second half of each run should be about 0.
//   node bench/soak.js [STEPS] [PREDICTIONS]   (default 1000 and 1000; the long form 2000 10000)
const { torch, createUNet, predictProbabilities, runTraining, syntheticCells } = require('../dist/index.js');
const { normaliseImage, prepareSamples } = require('../dist/data/dataset.js');
const { printTable } = require('./support');

const STEPS = Number(process.argv[2] ?? 1000);
const PREDICTIONS = Number(process.argv[3] ?? 1000);
torch.setNumThreads(Math.min(2, require('node:os').availableParallelism()));
torch.manualSeed(0);
const raw = [1, 2, 3].map((seed) => {
  const { image, label } = syntheticCells(seed, { height: 128, width: 128 });
  return { name: `cells${seed}`, image: normaliseImage(image), label };
});
const samples = prepareSamples(raw, 'instances', 2);
const model = createUNet('compact');
let points = [];
const sample = (step) => {
  const memory = torch.memory();
  points.push({
    step,
    rssMb: process.memoryUsage().rss / 2 ** 20,
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    nativeMb: (memory.devices.cpu?.bytes ?? 0) / 2 ** 20,
    tensors: memory.liveTensors,
  });
};

function table(what) {
  const first = points[1];
  const last = points[points.length - 1];
  printTable(
    ['quantity', `after ${first.step} ${what}`, `after ${last.step} ${what}`, 'slope over the second half, per 1,000'],
    [
      ['resident memory (MB)', first.rssMb.toFixed(1), last.rssMb.toFixed(1), slopePer1000('rssMb').toFixed(2)],
      ['V8 heap used (MB)', first.heapMb.toFixed(1), last.heapMb.toFixed(1), slopePer1000('heapMb').toFixed(2)],
      ['tensor memory, CPU (MB)', first.nativeMb.toFixed(1), last.nativeMb.toFixed(1), slopePer1000('nativeMb').toFixed(3)],
      ['live tensors', String(first.tensors), String(last.tensors), slopePer1000('tensors').toFixed(3)],
    ],
  );
}

function slopePer1000(key) {
  const half = points.slice(Math.floor(points.length / 2));
  const n = half.length;
  const mx = half.reduce((s, p) => s + p.step, 0) / n;
  const my = half.reduce((s, p) => s + p[key], 0) / n;
  const num = half.reduce((s, p) => s + (p.step - mx) * (p[key] - my), 0);
  const den = half.reduce((s, p) => s + (p.step - mx) ** 2, 0);
  return (num / den) * 1000;
}

(async () => {
  if (global.gc) global.gc();
  sample(0);
  await runTraining({
    model,
    train: samples,
    steps: STEPS,
    stepsPerEpoch: 1e9,
    tileSize: 220,
    optimizer: 'adam',
    onEvent: (e) => e.type === 'step' && e.step % 50 === 0 && sample(e.step),
  });
  table('steps');
  console.log(`\n(${STEPS} steps of train(): compact, 220 tiles, augmentation, Adam; sampled every 50 steps)\n`);
  points = [];
  const image = /** @type {NonNullable<(typeof samples)[0]>} */ (samples[0]).image.narrow(1, 0, 96).narrow(2, 0, 96);
  sample(0);
  for (let k = 1; k <= PREDICTIONS; k += 1) {
    torch.tidy(() => {
      predictProbabilities(model, image, { tileSize: 220 });
    });
    if (k % 50 === 0) sample(k);
  }
  table('predictions');
  console.log(`\n(${PREDICTIONS} overlap-tile predictions of a 96 × 96 image, 220 tiles; sampled every 50)`);
})();
