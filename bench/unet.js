'use strict';
// The U-Net's training step and forward pass, TypeScript vs the PyTorch reference, side by side:
// time (best of N after a warm-up) and peak resident memory, each side in its own process.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { alternate, referencePython, printTable, verdict } = require('./support');

const THREADS = String(Math.min(2, require('node:os').availableParallelism()));
// [preset, mode, tile, timed steps per process, alternating rounds]
const CASES = [
  ['ronneberger2015', 'forward', 572, 3, 3],
  ['ronneberger2015', 'train', 572, 2, 3],
  ['compact', 'forward', 572, 20, 5],
  ['compact', 'train', 572, 10, 5],
];

function ours(preset, mode, size, steps) {
  const output = execFileSync(
    process.execPath,
    [path.join(__dirname, 'unet-step.js'), preset, mode, String(size), String(steps), THREADS],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return JSON.parse(output);
}

function pytorch(preset, mode, size, steps) {
  const args = [
    '-m',
    'reference',
    'bench-unet',
    '--preset',
    preset,
    '--mode',
    mode,
    '--size',
    String(size),
    '--steps',
    String(steps),
    '--threads',
    THREADS,
  ];
  const output = execFileSync(referencePython(), args, {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return JSON.parse(output);
}

const rows = CASES.map(([preset, mode, size, steps, rounds]) => {
  const { ours: a, theirs: b } = alternate(
    rounds,
    ['msPerStep'],
    () => ours(preset, mode, size, steps),
    () => pytorch(preset, mode, size, steps),
  );
  return [
    `${preset} ${mode} ${size}×${size}`,
    a.msPerStep.toFixed(0),
    b.msPerStep.toFixed(0),
    (a.msPerStep / b.msPerStep).toFixed(3),
    verdict(a.msPerStep / b.msPerStep, '<=', 1.02),
    a.peakRssMb.toFixed(0),
    b.peakRssMb.toFixed(0),
    (a.peakRssMb / b.peakRssMb).toFixed(2),
    verdict(a.peakRssMb / b.peakRssMb, '<=', 1.1),
  ];
});
printTable(
  [
    'case',
    'unet-torch ms',
    'PyTorch ms',
    'time ratio',
    'time target',
    'unet-torch peak MB',
    'PyTorch peak MB',
    'memory ratio',
    'memory target',
  ],
  rows,
);
console.log(
  `\n(${THREADS} threads, CPU; each side in its own process, alternating rounds, best step after one warm-up; peak memory: the last round)`,
);
