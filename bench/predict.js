'use strict';
// Overlap-tile prediction of a 512 × 512 and a 2048 × 2048 image with the compact U-Net (572
// tiles), in float32 and (512 × 512) in bfloat16 under autocast, here and in the PyTorch
// reference's overlap-tile loop, each side in its own process.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { alternate, referencePython, printTable } = require('./support');

const THREADS = String(Math.min(2, require('node:os').availableParallelism()));
const PRESET = 'compact';
const TILE = '572';

function ours(size, precision, repeats) {
  return JSON.parse(
    execFileSync(
      process.execPath,
      [path.join(__dirname, 'predict-side.js'), 'predict', PRESET, String(size), TILE, String(repeats), THREADS, precision],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  );
}

function pytorch(size, precision, repeats) {
  const args = [
    '-m',
    'reference',
    'bench-predict',
    '--preset',
    PRESET,
    '--size',
    String(size),
    '--tile',
    TILE,
    '--repeats',
    String(repeats),
    '--threads',
    THREADS,
    '--precision',
    precision,
  ];
  return JSON.parse(
    execFileSync(referencePython(), args, { cwd: path.join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );
}

const rows = /** @type {[number, string, number, number][]} */ ([
  [512, 'float32', 2, 2],
  [2048, 'float32', 1, 2],
  [512, 'bfloat16', 2, 2],
]).map(([size, precision, repeats, rounds]) => {
  const { ours: a, theirs: b } = alternate(
    rounds,
    ['ms'],
    () => ours(size, precision, repeats),
    () => pytorch(size, precision, repeats),
  );
  return [
    `${size}×${size}${precision === 'float32' ? '' : `, ${precision}`}`,
    a.ms.toFixed(0),
    b.ms.toFixed(0),
    (a.ms / b.ms).toFixed(3),
    a.peakRssMb.toFixed(0),
    b.peakRssMb.toFixed(0),
    (a.peakRssMb / b.peakRssMb).toFixed(2),
  ];
});
printTable(['image', 'unet-torch ms', 'PyTorch ms', 'time ratio', 'unet-torch peak MB', 'PyTorch peak MB', 'memory ratio'], rows);
console.log(`\n(${PRESET}, ${TILE} tiles, ${THREADS} threads, CPU; the image is random, the work is the same)`);
