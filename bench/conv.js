'use strict';
// A small convolutional network's training step (forward, loss, backward, SGD update) written with
// torch.nn.functional, against the identical PyTorch script (bench/conv.py), side by side.
const { torch } = require('../dist/index.js');
/** @typedef {import('../dist/index.js').Tensor} Tensor */
const { runStepBenchmark } = require('./support');

const F = torch.nn.functional;

runStepBenchmark({
  torch,
  pythonScript: 'conv.py',
  steps: 20,
  threads: Math.min(2, torch.getNumThreads()),
  setup(device) {
    const shapes = [[16, 1, 3, 3], [16], [32, 16, 3, 3], [32], [32, 16, 2, 2], [16], [2, 16, 1, 1], [2]];
    const params = shapes.map((shape) => torch.tidy(() => torch.randn(shape).mul(0.1).to({ device }).requiresGrad_(true)));
    const x = torch.randn([8, 1, 64, 64], { device });
    const target = torch.randint(0, 2, [8, 64, 64], { device });
    const step = () =>
      torch.tidy(() => {
        const [w1, b1, w2, b2, wt, bt, w3, b3] = /** @type {[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]} */ (params);
        let h = F.relu(F.conv2d(x, w1, { bias: b1, padding: 1 }));
        h = F.maxPool2d(h, 2);
        h = F.relu(F.conv2d(h, w2, { bias: b2, padding: 1 }));
        h = F.relu(F.convTranspose2d(h, wt, { bias: bt, stride: 2 }));
        const loss = F.crossEntropy(F.conv2d(h, w3, { bias: b3 }), target);
        loss.backward();
        torch.noGrad(() => {
          for (const p of params) {
            p.add_(/** @type {Tensor} */ (p.grad), -0.01);
            p.grad = null;
          }
        });
        return loss.item();
      });
    return { step, dispose: () => torch.dispose([params, x, target]) };
  },
});
