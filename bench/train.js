'use strict';
// A small CNN built from nn modules, trained with SGD (momentum), against the identical PyTorch
// script (bench/train.py), side by side.
const { torch, nn, optim } = require('../dist/index.js');
const { crossEntropyStep, runStepBenchmark } = require('./support');

runStepBenchmark({
  torch,
  pythonScript: 'train.py',
  steps: 20,
  threads: Math.min(2, torch.getNumThreads()),
  setup(device) {
    const model = new nn.Sequential(
      new nn.Conv2d(1, 16, 3, { padding: 1 }),
      new nn.BatchNorm2d(16),
      new nn.ReLU(),
      new nn.MaxPool2d(2),
      new nn.Conv2d(16, 32, 3, { padding: 1 }),
      new nn.BatchNorm2d(32),
      new nn.ReLU(),
      new nn.ConvTranspose2d(32, 16, 2, { stride: 2 }),
      new nn.ReLU(),
      new nn.Conv2d(16, 2, 1),
    ).to(device);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const x = torch.randn([8, 1, 64, 64], { device });
    const target = torch.randint(0, 2, [8, 64, 64], { device });
    return {
      step: () => crossEntropyStep({ model, optimizer, x, target }),
      dispose: () => {
        optimizer.dispose();
        model.dispose();
        torch.dispose([x, target]);
      },
    };
  },
});
