'use strict';
// Shared by the benchmarks: the reference Python, a Markdown table printer, alternating rounds,
// the training step and the training-step benchmark runner, and the augmentation throughput.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { referencePython } = require('../dist/reference.js');
const { torch, augment } = require('../dist/index.js');
const { numberArguments, presetArgument } = require('./numbers');

function printTable(header, rows) {
  const lines = [header, header.map(() => '---'), ...rows];
  for (const line of lines) console.log(`| ${line.join(' | ')} |`);
}

/**
 * Runs the two sides one after the other, `rounds` times, so that a slow spell of a shared
 * machine does not fall on one side only. Returns each side's results with the smallest value
 * of every timing key across its rounds (other keys from its last round).
 */
function alternate(rounds, timingKeys, measureOurs, measurePython) {
  const keepBest = (best, run) =>
    best === undefined ? run : { ...run, ...Object.fromEntries(timingKeys.map((key) => [key, Math.min(best[key], run[key])])) };
  let ours;
  let theirs;
  for (let round = 0; round < rounds; round += 1) {
    ours = keepBest(ours, measureOurs());
    theirs = keepBest(theirs, measurePython());
  }
  return { ours, theirs };
}

/**
 * A training-step benchmark: `setup(device)` builds our side and returns `{ step, dispose }`
 * (`step` returns the loss); `pythonScript` (beside this file) is the identical PyTorch loop,
 * called as `SCRIPT STEPS THREADS DEVICE` and printing { msPerStep, lastLoss }. Both sides run
 * alternately for three rounds on every available device; the table shows each side's best and
 * the last loss, which shows that both computed the same thing.
 */
function runStepBenchmark({ torch, pythonScript, steps, threads, setup }) {
  const measureOurs = (device) => {
    torch.setNumThreads(threads);
    torch.manualSeed(0);
    const { step, dispose } = setup(device);
    let best = Infinity;
    let lastLoss = NaN;
    for (let round = 0; round < 3; round += 1) {
      const start = process.hrtime.bigint();
      for (let s = 0; s < steps; s += 1) lastLoss = step();
      if (device !== 'cpu') torch.cuda.synchronize();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6 / steps);
    }
    dispose();
    return { msPerStep: best, lastLoss };
  };
  const measurePython = (device) =>
    JSON.parse(
      execFileSync(referencePython(), [path.join(__dirname, pythonScript), String(steps), String(threads), device], { encoding: 'utf8' }),
    );
  const devices = ['cpu', ...(torch.cuda.isAvailable() ? ['cuda'] : [])];
  printTable(
    ['device', 'unet-torch ms/step', 'PyTorch ms/step', 'ratio', 'target', 'last loss (ours / PyTorch)'],
    devices.map((device) => {
      const { ours, theirs } = alternate(
        3,
        ['msPerStep'],
        () => measureOurs(device),
        () => measurePython(device),
      );
      const ratio = ours.msPerStep / theirs.msPerStep;
      return [
        device,
        ours.msPerStep.toFixed(2),
        theirs.msPerStep.toFixed(2),
        ratio.toFixed(3),
        verdict(ratio, '<=', 1.05),
        `${ours.lastLoss} / ${theirs.lastLoss}`,
      ];
    }),
  );
  if (devices.length === 1) console.log('\n(CUDA row skipped: torch.cuda.isAvailable() is false)');
}

/**
 * One SGD step of `model` on (x, target) with the cross-entropy loss, as the PyTorch twins take
 * it; with a GradScaler `scaler`, the forward pass runs under float16 autocast. Returns the loss.
 * @param {{ model: { forward(x: import('../dist').Tensor): import('../dist').Tensor }, optimizer: import('../dist').optim.Optimizer, x: import('../dist').Tensor, target: import('../dist').Tensor, scaler?: import('../dist').GradScaler }} step
 */
function crossEntropyStep({ model, optimizer, x, target, scaler }) {
  const F = torch.nn.functional;
  optimizer.zeroGrad();
  return torch.tidy(() => {
    const forward = () => F.crossEntropy(model.forward(x), target);
    const loss = scaler ? torch.amp.autocast(forward, { deviceType: x.device.startsWith('cuda') ? 'cuda' : 'cpu' }) : forward();
    if (scaler) {
      scaler.scale(loss).backward();
      scaler.step(optimizer);
      scaler.update();
    } else {
      loss.backward();
      optimizer.step();
    }
    return loss.item();
  });
}

/**
 * Augmentation throughput on `device`: one 572×572 image + label + weight map per sample, the
 * paper's elastic deformation with a rotation and flips, in batches of `batch`; samples per second.
 */
function augmentSamplesPerSecond(device, batch, samples) {
  const SIZE = 572;
  return torch.tidy(() => {
    const image = torch.rand([batch, 1, SIZE, SIZE], { device });
    const label = torch.randint(0, 20, [batch, SIZE, SIZE], { device }).to('int32');
    const weights = torch.rand([batch, SIZE, SIZE], { device });
    const run = (first) =>
      torch.tidy(() => {
        augment.augmentBatch(
          { image, label, weights },
          Array.from({ length: batch }, (_, k) => first + k),
          { rotation: 180, flip: true },
        );
      });
    run(0); // warm-up
    if (device !== 'cpu') torch.cuda.synchronize();
    const rounds = Math.max(1, Math.round(samples / batch));
    const start = process.hrtime.bigint();
    for (let round = 0; round < rounds; round += 1) run((round + 1) * batch);
    if (device !== 'cpu') torch.cuda.synchronize();
    return (rounds * batch) / (Number(process.hrtime.bigint() - start) / 1e9);
  });
}

/**
 * A target compared: `at most 1.05: met` or `at least 10×: missed (9.3)`, for the table's target
 * column, so that a figure's verdict is printed beside it rather than left to the reader.
 */
function verdict(/** @type {number} */ value, /** @type {'<=' | '>='} */ relation, /** @type {number} */ target, unit = '') {
  const met = relation === '<=' ? value <= target : value >= target;
  return `${relation === '<=' ? 'at most' : 'at least'} ${target}${unit}: ${met ? 'met' : 'missed'}`;
}

/** The fastest of `repeats` runs of `run`, in milliseconds. */
function bestMs(/** @type {() => unknown} */ run, repeats = 3) {
  let best = Infinity;
  for (let k = 0; k < repeats; k += 1) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

module.exports = {
  bestMs,
  verdict,
  numberArguments,
  presetArgument,
  referencePython,
  printTable,
  alternate,
  runStepBenchmark,
  crossEntropyStep,
  augmentSamplesPerSecond,
};
