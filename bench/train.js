'use strict';
// A small CNN built from nn modules, trained with SGD (momentum), against the identical PyTorch
// script (bench/train.py), run side by side on the same device.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { torch, nn, optim } = require('../dist/index.js');
const { alternate, referencePython, printTable } = require('./support');

const F = torch.nn.functional;
const STEPS = 20;
const THREADS = Math.min(2, torch.getNumThreads());

function measureOurs(device) {
  torch.setNumThreads(THREADS);
  torch.manualSeed(0);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.MaxPool2d(2),
    new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.BatchNorm2d(32), new nn.ReLU(),
    new nn.ConvTranspose2d(32, 16, 2, { stride: 2 }), new nn.ReLU(), new nn.Conv2d(16, 2, 1),
  ).to(device);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = torch.randn([8, 1, 64, 64], { device });
  const target = torch.randint(0, 2, [8, 64, 64], { device });
  const step = () => {
    optimizer.zeroGrad();
    const loss = torch.tidy(() => {
      const value = F.crossEntropy(model.forward(x), target);
      value.backward();
      return value.detach();
    });
    optimizer.step();
    const value = loss.item();
    loss.dispose();
    return value;
  };
  let best = Infinity;
  let lastLoss = NaN;
  for (let r = 0; r < 3; r += 1) {
    const start = process.hrtime.bigint();
    for (let s = 0; s < STEPS; s += 1) lastLoss = step();
    if (device !== 'cpu') torch.cuda.synchronize();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6 / STEPS);
  }
  optimizer.dispose();
  model.dispose();
  torch.dispose([x, target]);
  return { msPerStep: best, lastLoss };
}

function measurePython(device) {
  const output = execFileSync(referencePython(), [path.join(__dirname, 'train.py'), String(STEPS), String(THREADS), device], { encoding: 'utf8' });
  return JSON.parse(output);
}

const devices = ['cpu', ...(torch.cuda.isAvailable() ? ['cuda'] : [])];
// The loss after the last step shows that both sides trained the same model the same way.
printTable(
  ['device', 'unet-torch ms/step', 'PyTorch ms/step', 'ratio', 'target', 'last loss (ours / PyTorch)'],
  devices.map((device) => {
    const { ours, theirs: python } = alternate(3, ['msPerStep'], () => measureOurs(device), () => measurePython(device));
    return [device, ours.msPerStep.toFixed(2), python.msPerStep.toFixed(2), (ours.msPerStep / python.msPerStep).toFixed(3), '<= 1.05', `${ours.lastLoss} / ${python.lastLoss}`];
  }),
);
if (devices.length === 1) console.log('\n(CUDA row skipped: torch.cuda.isAvailable() is false)');
