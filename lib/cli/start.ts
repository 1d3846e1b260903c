// `unet start` (what `npm start` runs): trains the compact U-Net on the sample nuclei shipped in
// examples/ for a few minutes on the CPU, segments the held-out images, scores them, and says
// where the pictures are. It runs the same verbs a user would type, and prints them.
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { packageRoot } from '../native';
import { numberOption } from './args';
import { runEval } from './eval';
import { runPredict } from './predict';
import { runTrain } from './train';

const USAGE = `usage: unet start [--minutes M] [--out DIR]
  --minutes M   training time (default 3)
  --out DIR     where the run goes (default runs/quickstart)
`;

/** `unet start` */
export async function runStart(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { minutes: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', default: false } } });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const minutes = numberOption('minutes', values.minutes) ?? 3;
  const run = values.out ?? path.join('runs', 'quickstart');
  const data = path.join(packageRoot, 'examples', 'dsb2018');
  const steps: [string, string[], (args: string[]) => number | Promise<number>][] = [
    ['train', ['--data', path.join(data, 'train'), '--out', run, '--preset', 'compact', '--tile', '316', '--optimizer', 'adam', '--schedule', 'cosine', '--steps', '1500', '--epoch-steps', '100', '--minutes', String(minutes)], runTrain],
    ['predict', ['--model', run, '--out', path.join(run, 'predictions'), path.join(data, 'test', 'images')], runPredict],
    ['eval', ['--pred', path.join(run, 'predictions'), '--truth', path.join(data, 'test', 'labels'), '--json', path.join(run, 'eval.json')], runEval],
  ];
  for (const [verb, verbArgs, runVerb] of steps) {
    process.stdout.write(`\n$ unet ${verb} ${verbArgs.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
    const code = await runVerb(verbArgs);
    if (code !== 0) return code;
  }
  process.stdout.write(`\nDone. Look at:
  ${path.join(run, 'predictions')}/*.overlay.png   the held-out nuclei, segmented (each cell its colour)
  ${path.join(run, 'curves.png')}                  loss and validation IoU/Dice during training
  ${path.join(run, 'eval.json')}                    the scores above, as JSON
  ${path.join(run, 'best.safetensors')}             the weights (model.json describes the network; PyTorch loads them too)
`);
  return 0;
}
