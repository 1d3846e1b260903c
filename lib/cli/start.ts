// `unet start` (what `npm start` runs): trains the compact U-Net on the sample nuclei shipped in
// examples/ for a few minutes on the CPU with the nuclei recipe, segments the held-out images,
// scores them as the cell tracking challenge does, and says where the pictures are. It runs the
// same verbs a user would type, and prints them.
import * as path from 'node:path';

import { packageRoot } from '../package-root';
import { numberOption } from './args';
import { type Command, defineCommand } from './command';
import { evalCommand } from './eval';
import { predictCommand } from './predict';
import { trainCommand } from './train';

/** `unet start` */
export const startCommand = defineCommand({
  name: 'start',
  synopsis: '[--minutes M] [--out DIR]',
  flags: {
    minutes: { type: 'string', placeholder: 'M', help: 'training time (default 3)' },
    out: { type: 'string', placeholder: 'DIR', help: 'where the run goes (default runs/quickstart)' },
  },
  async run(values) {
    const minutes = numberOption('minutes', values.minutes) ?? 3;
    const run = values.out ?? path.join('runs', 'quickstart');
    const data = path.join(packageRoot, 'examples', 'dsb2018');
    const steps: [Command, string[]][] = [
      // A demo: each start trains afresh into its folder.
      [trainCommand, ['--data', path.join(data, 'train'), '--out', run, '--overwrite', '--recipe', 'nuclei', '--minutes', String(minutes)]],
      [predictCommand, ['--model', run, '--out', path.join(run, 'predictions'), path.join(data, 'test', 'images')]],
      [
        evalCommand,
        [
          '--protocol',
          'ctc',
          '--pred',
          path.join(run, 'predictions'),
          '--truth',
          path.join(data, 'test', 'labels'),
          '--json',
          path.join(run, 'eval.json'),
        ],
      ],
    ];
    for (const [command, args] of steps) {
      process.stdout.write(`\n$ unet ${command.name} ${args.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}\n`);
      const code = await command.run(args);
      if (code !== 0) return code;
    }
    process.stdout.write(`\nDone. Look at:
  ${path.join(run, 'predictions')}/*.overlay.png   the held-out nuclei, segmented (each nucleus its colour)
  ${path.join(run, 'curves.png')}                  loss and validation scores during training
  ${path.join(run, 'eval.json')}                    the scores above (SEG, DET), as JSON
  ${path.join(run, 'best.safetensors')}             the weights (model.json describes the network; PyTorch loads them too)
A ready model trained longer on more nuclei ships in the package: unet predict --model nuclei IMAGES
`);
    return 0;
  },
});
