#!/usr/bin/env node
// The `unet` command line: one verb per file in this folder.
import { runAccuracy } from './accuracy';
import { runAugment } from './augment';
import { runCompare } from './compare';
import { runEval } from './eval';
import { runPredict } from './predict';
import { runStart } from './start';
import { runTrain } from './train';
import { runDemo } from './demo';
import { runInfo } from './info';
import { runWeightMap } from './weightmap';

type Verb = (args: string[]) => Promise<number> | number;

const VERBS: Record<string, { run: Verb; summary: string }> = {
  start: { run: runStart, summary: 'what npm start runs: train on the sample nuclei for a few minutes, segment and score the held-out ones' },
  train: { run: runTrain, summary: 'train a U-Net on images/ and labels/ (checkpoints, validation, curves; --resume)' },
  predict: { run: runPredict, summary: 'segment images of any size by overlap-tile (label PNG, probabilities .npy, overlay)' },
  accuracy: { run: runAccuracy, summary: 'the results table: train each benchmark set with its recipe for a fixed time, score held-out frames as the challenges do' },
  eval: { run: runEval, summary: 'score predicted labels against the truth: IoU, Dice, pixel, Rand and warping error, SEG' },
  info: { run: runInfo, summary: 'the libtorch in use, CUDA, GPUs and threads (--json for JSON)' },
  demo: { run: runDemo, summary: 'a short tour of tensors, autograd and memory scopes' },
  weightmap: { run: runWeightMap, summary: 'the paper\'s border weight map of a label image, as .npy or a .png picture' },
  augment: { run: runAugment, summary: 'one augmented sample (elastic, rotation, flips, gray values) as PNGs, with a preview' },
  compare: { run: runCompare, summary: 'the U-Net here and in PyTorch side by side: values, gradients, 20 SGD steps, time' },
};

function usage(): string {
  const lines = Object.entries(VERBS).map(([name, verb]) => `  ${name.padEnd(10)} ${verb.summary}`);
  return `usage: unet <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 1 : 0;
  }
  const verb = VERBS[name];
  if (!verb) {
    process.stderr.write(`unet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return verb.run(args);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`unet: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
