'use strict';
// One side of bench/unet.js, in its own process so that its peak memory is its own:
//   node bench/unet-step.js PRESET MODE SIZE STEPS THREADS   → JSON { msPerStep, peakRssMb, last }
const { torch, createUNet, optim } = require('../dist/index.js');
const { crossEntropyStep, presetArgument } = require('./support');

const [preset, mode, size, steps, threads] = process.argv.slice(2);
torch.setNumThreads(Number(threads));
torch.manualSeed(0);
const model = createUNet(presetArgument(preset));
const extent = Number(size);
const out = model.outputSize(extent);
const x = torch.randn([1, 1, extent, extent]);
const target = torch.randint(0, 2, [1, out, out]);
const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.99 });

function step() {
  if (mode === 'forward') {
    model.eval();
    return torch.noGrad(() => torch.tidy(() => model.forward(x).sum().item()));
  }
  model.train();
  return crossEntropyStep({ model, optimizer, x, target });
}

step(); // warm-up, as on the PyTorch side
let best = Infinity;
let last;
for (let k = 0; k < Number(steps); k += 1) {
  const start = process.hrtime.bigint();
  last = step();
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
}
process.stdout.write(JSON.stringify({ msPerStep: best, peakRssMb: process.resourceUsage().maxRSS / 1024, last }));
