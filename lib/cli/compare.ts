// `unet compare`: the TypeScript U-Net and the PyTorch reference, side by side on the same seeded
// weights and data: forward logits, loss, every parameter gradient, 20 SGD steps, and the time
// each side takes. What a sceptical user runs before trusting the library.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { loadSafetensors, saveSafetensors } from '../io/safetensors';
import { tidy } from '../memory';
import { crossEntropy } from '../nn/functional';
import { noGrad } from '../autograd';
import { SGD } from '../optim/sgd';
import { randint, randn } from '../creation';
import { runReference } from '../reference';
import { getNumThreads, manualSeed } from '../runtime';
import type { Tensor } from '../tensor';
import { PRESETS, createUNet } from '../unet/presets';
import { integerOption, numberOption } from './args';
import { defineCommand } from './command';
import { DEFAULT_PRESET, PRESET_FLAG, presetOption } from './training-flags';

/** The largest difference between two tensors, absolute and relative to the reference's largest magnitude. */
function difference(ours: Tensor, theirs: Tensor): { abs: number; rel: number } {
  return tidy(() => {
    const abs = ours.to('float64').sub(theirs.to('float64')).abs().max().item() as number;
    const scale = theirs.to('float64').abs().max().item() as number;
    return { abs, rel: scale === 0 ? abs : abs / scale };
  });
}

function format(value: number): string {
  return value === 0 ? '0' : value.toExponential(2);
}

/** `unet compare` */
export const compareCommand = defineCommand({
  name: 'compare',
  synopsis: '[options]',
  flags: {
    preset: PRESET_FLAG,
    size: {
      type: 'string',
      placeholder: 'S',
      help: 'input tile extent (default 572 for ronneberger2015, else the smallest with a 64-pixel output)',
    },
    steps: { type: 'string', placeholder: 'N', help: 'SGD steps compared (default 20)' },
    lr: { type: 'string', placeholder: 'X', help: 'learning rate (default 0.01)' },
    momentum: { type: 'string', placeholder: 'X', help: 'momentum (default 0.99)' },
    seed: { type: 'string', placeholder: 'N', help: 'seed of the weights and data (default 0)' },
  },
  run(values) {
    return compare(values);
  },
});

function compare(values: { preset?: string; size?: string; steps?: string; lr?: string; momentum?: string; seed?: string }): number {
  const preset = presetOption(values.preset) ?? DEFAULT_PRESET;
  const steps = integerOption('steps', values.steps) ?? 20;
  const lr = numberOption('lr', values.lr) ?? 0.01;
  const momentum = numberOption('momentum', values.momentum) ?? 0.99;
  manualSeed(integerOption('seed', values.seed) ?? 0);
  const model = createUNet(preset);
  const size = integerOption('size', values.size) ?? (preset === 'ronneberger2015' ? 572 : model.inputSizeFor(64));
  const outSize = model.outputSize(size);
  const x = randn([1, PRESETS[preset].inChannels, size, size]);
  const target = randint(0, PRESETS[preset].classes, [1, outSize, outSize]);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-compare-'));
  try {
    const dataFile = path.join(folder, 'data.safetensors');
    const resultFile = path.join(folder, 'result.safetensors');
    tidy(() =>
      saveSafetensors(dataFile, {
        ...Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [`weight.${k}`, v])),
        x,
        target,
      }),
    );
    process.stdout.write(
      `unet compare: preset ${preset}, ${model.numParameters().toLocaleString('en-US')} parameters, input ${size}×${size} → ${outSize}×${outSize}, ` +
        `${steps} SGD steps (lr ${lr}, momentum ${momentum}), ${getNumThreads()} threads, evaluation mode (no drop-out)\n`,
    );
    process.stdout.write('running TypeScript …\n');
    model.eval();
    // Forward time: the best of three after a warm-up (the first call also builds kernels' plans).
    let forwardMs = Infinity;
    for (let run = 0; run < 4; run += 1) {
      const begin = process.hrtime.bigint();
      noGrad(() => tidy(() => model.forward(x)));
      if (run > 0) forwardMs = Math.min(forwardMs, Number(process.hrtime.bigint() - begin) / 1e6);
    }
    const ours: Record<string, Tensor> = tidy(() => {
      const logits = model.forward(x);
      const loss = crossEntropy(logits, target);
      loss.backward();
      const grads = Object.fromEntries([...model.namedParameters()].map(([name, p]) => [`grad.${name}`, p.grad!.clone()]));
      return { logits: logits.detach(), loss: loss.detach(), ...grads };
    });
    const optimizer = new SGD(model.parameters(), { lr, momentum });
    const losses: number[] = [];
    const start = process.hrtime.bigint();
    for (let step = 0; step < steps; step += 1) {
      optimizer.zeroGrad();
      losses.push(
        tidy(() => {
          const loss = crossEntropy(model.forward(x), target);
          loss.backward();
          return loss.item() as number;
        }),
      );
      optimizer.step();
    }
    const stepMs = Number(process.hrtime.bigint() - start) / 1e6 / Math.max(steps, 1);
    process.stdout.write('running PyTorch (python -m reference compare) …\n\n');
    runReference([
      'compare',
      '--preset',
      preset,
      '--data',
      dataFile,
      '--out',
      resultFile,
      '--steps',
      String(steps),
      '--lr',
      String(lr),
      '--momentum',
      String(momentum),
      '--threads',
      String(getNumThreads()),
    ]);
    const { tensors: theirs, metadata } = loadSafetensors(resultFile);
    const rows: [string, string, string][] = [];
    const add = (label: string, d: { abs: number; rel: number }): void => void rows.push([label, format(d.abs), format(d.rel)]);
    add('forward logits', difference(ours.logits!, theirs.logits!));
    add('loss', difference(ours.loss!, theirs.loss!));
    for (const [name] of model.namedParameters()) add(`gradient ${name}`, difference(ours[`grad.${name}`]!, theirs[`grad.${name}`]!));
    const lossDiff = losses.reduce(
      (worst, value, k) => Math.max(worst, Math.abs(value - (theirs.losses!.toTypedArray() as Float64Array)[k]!)),
      0,
    );
    const lossScale = Math.max(...Array.from(theirs.losses!.toTypedArray() as Float64Array, Math.abs));
    rows.push([`loss over ${steps} SGD steps`, format(lossDiff), format(lossScale === 0 ? lossDiff : lossDiff / lossScale)]);
    const finals = tidy(() => Object.entries(model.stateDict()).map(([key, value]) => difference(value, theirs[`final.${key}`]!)));
    rows.push([
      `weights after ${steps} steps`,
      format(Math.max(...finals.map((d) => d.abs))),
      format(Math.max(...finals.map((d) => d.rel))),
    ]);
    const width = Math.max(...rows.map(([label]) => label.length), 8);
    process.stdout.write(`${'quantity'.padEnd(width)}  ${'max |ours - PyTorch|'.padStart(20)}  ${'relative'.padStart(10)}\n`);
    for (const [label, abs, rel] of rows) process.stdout.write(`${label.padEnd(width)}  ${abs.padStart(20)}  ${rel.padStart(10)}\n`);
    const theirForward = Number(metadata.forwardMs);
    const theirStep = Number(metadata.stepMs);
    process.stdout.write(`\n${'time'.padEnd(24)}  ${'unet-torch'.padStart(12)}  ${'PyTorch'.padStart(12)}  ${'ratio'.padStart(6)}\n`);
    process.stdout.write(
      `${'forward pass (ms)'.padEnd(24)}  ${forwardMs.toFixed(1).padStart(12)}  ${theirForward.toFixed(1).padStart(12)}  ${(forwardMs / theirForward).toFixed(2).padStart(6)}\n`,
    );
    process.stdout.write(
      `${'training step (ms)'.padEnd(24)}  ${stepMs.toFixed(1).padStart(12)}  ${theirStep.toFixed(1).padStart(12)}  ${(stepMs / theirStep).toFixed(2).padStart(6)}\n`,
    );
    const worst = Math.max(...rows.map(([, , rel]) => Number(rel)));
    process.stdout.write(
      `\n${worst === 0 ? 'identical: every number above matches PyTorch bit for bit' : `largest relative difference ${format(worst)}`}\n`,
    );
    optimizer.dispose();
    tidy(() => {
      for (const tensor of [...Object.values(ours), ...Object.values(theirs)]) tensor.dispose();
    });
    return 0;
  } finally {
    model.dispose();
    x.dispose();
    target.dispose();
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
