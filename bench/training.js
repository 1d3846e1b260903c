'use strict';
// Training throughput: tiles/s of train() against a plain PyTorch loop (random tile of one
// image read with mirroring, weighted cross-entropy, SGD momentum 0.99), without augmentation on
// both sides; and ours with the paper's augmentation, for what it costs.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { alternate, referencePython, printTable } = require('./support');

const THREADS = String(Math.min(2, require('node:os').availableParallelism()));
const PRESET = 'compact';
const TILE = '316';
const STEPS = '15';

function ours(augment) {
  return JSON.parse(
    execFileSync(
      process.execPath,
      [path.join(__dirname, 'predict-side.js'), 'train', PRESET, TILE, STEPS, THREADS, augment ? 'augment' : 'plain'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
}

function pytorch() {
  const args = ['-m', 'reference', 'bench-train', '--preset', PRESET, '--tile', TILE, '--steps', STEPS, '--threads', THREADS];
  return JSON.parse(
    execFileSync(referencePython(), args, { cwd: path.join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );
}

// alternate() keeps the smallest value of the keys it is given: use seconds per tile.
const perTile = (run) => ({ ...run, secondsPerTile: 1 / run.tilesPerSecond });
const { ours: a, theirs: b } = alternate(
  3,
  ['secondsPerTile'],
  () => perTile(ours(false)),
  () => perTile(pytorch()),
);
const augmented = perTile(ours(true));
printTable(
  ['loop', 'unet-torch tiles/s', 'PyTorch tiles/s', 'ratio (ours / PyTorch)', 'unet-torch peak MB', 'PyTorch peak MB'],
  [
    [
      'no augmentation',
      (1 / a.secondsPerTile).toFixed(2),
      (1 / b.secondsPerTile).toFixed(2),
      (b.secondsPerTile / a.secondsPerTile).toFixed(3),
      a.peakRssMb.toFixed(0),
      b.peakRssMb.toFixed(0),
    ],
    ["with the paper's augmentation", (1 / augmented.secondsPerTile).toFixed(2), '', '', augmented.peakRssMb.toFixed(0), ''],
  ],
);
console.log(`\n(${PRESET}, ${TILE} tiles, batch 1, ${STEPS} steps after a warm-up, ${THREADS} threads, CPU)`);
