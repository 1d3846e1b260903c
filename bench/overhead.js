'use strict';
// Per-call overhead (issue: foundation): an op returning a new tensor, an in-place op, and item(),
// on 1-element tensors, against the same loops in PyTorch, run side by side.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { torch } = require('../dist/index.js');
const { alternate, referencePython, printTable, verdict } = require('./support');

const CALLS = 200000;

function bestNsPerCall(loop, calls, repeats = 7) {
  let best = Infinity;
  for (let r = 0; r < repeats; r += 1) {
    const start = process.hrtime.bigint();
    loop(calls);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / calls);
  }
  return best;
}

function measureOurs() {
  torch.setNumThreads(1);
  const a = torch.ones([1]);
  const b = torch.ones([1]);
  const scalar = torch.tensor(1.5);
  // New tensors are freed by tidy() every 1,000 calls, as a training loop would.
  const newTensor = (n) => {
    for (let k = 0; k < n; k += 1000)
      torch.tidy(() => {
        for (let j = 0; j < 1000; j += 1) a.add(b);
      });
  };
  const inPlace = (n) => {
    for (let k = 0; k < n; k += 1) a.add_(b);
  };
  const item = (n) => {
    for (let k = 0; k < n; k += 1) scalar.item();
  };
  return { newTensor: bestNsPerCall(newTensor, CALLS), inPlace: bestNsPerCall(inPlace, CALLS), item: bestNsPerCall(item, CALLS) };
}

function main() {
  const { ours, theirs: python } = alternate(3, ['newTensor', 'inPlace', 'item'], measureOurs, () =>
    JSON.parse(execFileSync(referencePython(), [path.join(__dirname, 'overhead.py'), String(CALLS)], { encoding: 'utf8' })),
  );
  const targets = { newTensor: 1.2, inPlace: 1.0, item: 1.0 };
  const labels = { newTensor: 'a.add(b) (new tensor)', inPlace: 'a.add_(b) (in place)', item: 't.item()' };
  printTable(
    ['call', 'unet-torch ns', 'PyTorch ns', 'ratio', 'target'],
    Object.keys(labels).map((key) => [
      labels[key],
      ours[key].toFixed(0),
      python[key].toFixed(0),
      (ours[key] / python[key]).toFixed(2),
      verdict(ours[key] / python[key], '<=', targets[key]),
    ]),
  );
}

main();
