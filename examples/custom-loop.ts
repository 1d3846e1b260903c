// A training loop written by hand: nn modules, an optimizer, and `tidy` to free each step's
// intermediate tensors, on generated touching cells. The loss printed falls.
//   node build/examples/custom-loop.js --steps 100
import { nn, optim, syntheticCells, torch } from 'unet-torch';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1] || 100);
const F = torch.nn.functional;

torch.manualSeed(0);
const model = new nn.Sequential(
  new nn.Conv2d(1, 16, 3, { padding: 1 }),
  new nn.BatchNorm2d(16),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.ConvTranspose2d(16, 8, 2, { stride: 2 }),
  new nn.ReLU(),
  new nn.Conv2d(8, 2, 1),
);
const optimizer = new optim.Adam(model.parameters(), { lr: 3e-3 });
const { image, label } = syntheticCells(1, { height: 64, width: 64 });
const images = image.unsqueeze(0); // (1, 1, 64, 64)
const targets = label.gt(0).to('int64').unsqueeze(0); // (1, 64, 64): cell or background

const before = torch.memory().liveTensors;
let first = NaN;
let last = NaN;
for (let step = 0; step < steps; step += 1) {
  optimizer.zeroGrad();
  const loss = torch.tidy(() => {
    // Everything made in here (activations, the loss tensor, views) is freed at the end of the scope.
    const value = F.crossEntropy(model.forward(images), targets);
    value.backward();
    return value.item() as number;
  });
  optimizer.step();
  if (step === 0) first = loss;
  last = loss;
  if (step % 25 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}`);
}
// Optimizer state appears on the first step; after that nothing accumulates.
console.log(`loss ${first.toFixed(4)} → ${last.toFixed(4)}; live tensors ${before} before the loop, ${torch.memory().liveTensors} after`);
if (!(last < first)) process.exitCode = 1;
