'use strict';
// Augmentation throughput: one 572×572 image + label + weight map per sample, the paper's elastic
// deformation with a rotation and flips, here (batches of 1, 8 and 32 on each device) and in the
// scipy reference pipeline (one sample at a time, map_coordinates), side by side.
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { torch } = require('../dist/index.js');
const { augmentSamplesPerSecond, referencePython, printTable, verdict } = require('./support');

const SIZE = 572;

function referenceSamplesPerSecond(samples) {
  const args = ['-m', 'reference', 'bench-augment', '--size', String(SIZE), '--samples', String(samples)];
  return JSON.parse(execFileSync(referencePython(), args, { cwd: path.join(__dirname, '..'), encoding: 'utf8' })).samplesPerSecond;
}

// Five alternating rounds, so that a slow spell of a shared machine does not fall on one side
// only; each side's best rate counts. A round of each side lasts about half a second, so that
// neither gets the better chance of a short quiet spell.
let ours = 0;
let theirs = 0;
for (let round = 0; round < 5; round += 1) {
  ours = Math.max(ours, augmentSamplesPerSecond('cpu', 1, 128));
  theirs = Math.max(theirs, referenceSamplesPerSecond(12));
}
const rows = [['cpu', '1', ours.toFixed(1), theirs.toFixed(1), `${(ours / theirs).toFixed(1)}×`, verdict(ours / theirs, '>=', 10, '×')]];
for (const batch of [8, 32]) {
  const rate = augmentSamplesPerSecond('cpu', batch, 64);
  rows.push(['cpu', String(batch), rate.toFixed(1), '', `${(rate / theirs).toFixed(1)}×`, '']);
}
if (torch.cuda.isAvailable()) {
  for (const batch of [1, 8, 32]) rows.push(['cuda', String(batch), augmentSamplesPerSecond('cuda', batch, 256).toFixed(1), '', '', '']);
}
printTable(['device', 'batch', 'unet-torch samples/s', 'scipy samples/s', 'speed-up vs scipy', 'target'], rows);
if (!torch.cuda.isAvailable()) console.log('\n(CUDA rows skipped: torch.cuda.isAvailable() is false)');
