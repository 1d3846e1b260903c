'use strict';
// A small convolutional network's training step (forward, loss, backward, SGD update) against
// this API and the identical PyTorch script (bench/conv.py), run side by side on the same device.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { torch } = require('../dist/index.js');
const { alternate, referencePython, printTable } = require('./support');

const F = torch.nn.functional;
const STEPS = 20;
const THREADS = Math.min(2, torch.getNumThreads());

function measureOurs(device) {
  torch.setNumThreads(THREADS);
  torch.manualSeed(0);
  const shapes = [[16, 1, 3, 3], [16], [32, 16, 3, 3], [32], [32, 16, 2, 2], [16], [2, 16, 1, 1], [2]];
  const params = shapes.map((shape) => torch.tidy(() => torch.randn(shape).mul(0.1).to({ device }).requiresGrad_(true)));
  const x = torch.randn([8, 1, 64, 64], { device });
  const target = torch.randint(0, 2, [8, 64, 64], { device });
  const step = () =>
    torch.tidy(() => {
      const [w1, b1, w2, b2, wt, bt, w3, b3] = params;
      let h = F.relu(F.conv2d(x, w1, { bias: b1, padding: 1 }));
      h = F.maxPool2d(h, 2);
      h = F.relu(F.conv2d(h, w2, { bias: b2, padding: 1 }));
      h = F.relu(F.convTranspose2d(h, wt, { bias: bt, stride: 2 }));
      const loss = F.crossEntropy(F.conv2d(h, w3, { bias: b3 }), target);
      loss.backward();
      torch.noGrad(() => {
        for (const p of params) {
          p.add_(p.grad, -0.01);
          p.grad = null;
        }
      });
      return loss.item();
    });
  let best = Infinity;
  let lastLoss = NaN;
  for (let r = 0; r < 3; r += 1) {
    const start = process.hrtime.bigint();
    for (let s = 0; s < STEPS; s += 1) lastLoss = step();
    if (device !== 'cpu') torch.cuda.synchronize();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6 / STEPS);
  }
  torch.dispose([params, x, target]);
  return { msPerStep: best, lastLoss };
}

function measurePython(device) {
  const output = execFileSync(referencePython(), [path.join(__dirname, 'conv.py'), String(STEPS), String(THREADS), device], { encoding: 'utf8' });
  return JSON.parse(output);
}

const devices = ['cpu', ...(torch.cuda.isAvailable() ? ['cuda'] : [])];
// The loss after the last step shows that both sides trained the same network the same way.
printTable(
  ['device', 'unet-torch ms/step', 'PyTorch ms/step', 'ratio', 'target', 'last loss (ours / PyTorch)'],
  devices.map((device) => {
    const { ours, theirs: python } = alternate(3, ['msPerStep'], () => measureOurs(device), () => measurePython(device));
    const ratio = (ours.msPerStep / python.msPerStep).toFixed(3);
    return [device, ours.msPerStep.toFixed(2), python.msPerStep.toFixed(2), ratio, '<= 1.05', `${ours.lastLoss} / ${python.lastLoss}`];
  }),
);
if (devices.length === 1) console.log('\n(CUDA row skipped: torch.cuda.isAvailable() is false)');
