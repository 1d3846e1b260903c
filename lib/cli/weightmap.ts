// `unet weightmap <label.png> --out <file.npy|file.png>`: the paper's border weight map of a label image.
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import { saveNpy } from '../io/npy';
import { readLabelPng, writeColourPng } from '../io/png';
import { tidy } from '../memory';
import { type WeightMapOptions, weightMap } from '../weightmap/weight-map';
import { numberOption } from './args';

const USAGE = `usage: unet weightmap <label.png> --out <map.npy|map.png> [options]
  --mask               the image is a class mask: split its foreground into cells (connected components)
  --connectivity 4|8   neighbourhood of those components (default 4)
  --w0 N --sigma N     border weight and width (default 10 and 5)
  --class-weights balance|none|BG,CELL   class term (default balance: N / (C · n_c))
  --preset ronneberger2015|falk2019      falk2019: the authors' 2019 release (w0 50, σ 6, gaps)
  --gaps               insert one-pixel background gaps between touching cells first
`;

/** `unet weightmap` */
export function runWeightMap(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: 'string' },
      mask: { type: 'boolean', default: false },
      connectivity: { type: 'string' },
      w0: { type: 'string' },
      sigma: { type: 'string' },
      'class-weights': { type: 'string' },
      preset: { type: 'string' },
      gaps: { type: 'boolean' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || values.out === undefined) {
    process.stderr.write(USAGE);
    return 2;
  }
  const classWeightsText = values['class-weights'];
  const options: WeightMapOptions = {
    input: values.mask ? 'mask' : 'instances',
    connectivity: values.connectivity === undefined ? undefined : (Number(values.connectivity) as 4 | 8),
    w0: numberOption('w0', values.w0),
    sigma: numberOption('sigma', values.sigma),
    classWeights:
      classWeightsText === undefined || classWeightsText === 'balance' || classWeightsText === 'none'
        ? (classWeightsText as 'balance' | 'none' | undefined)
        : (classWeightsText.split(',').map(Number) as [number, number]),
    preset: values.preset as WeightMapOptions['preset'],
    insertGaps: values.gaps,
  };
  const extension = path.extname(values.out).toLowerCase();
  if (extension !== '.npy' && extension !== '.png') throw new Error(`--out must end in .npy (the float32 map) or .png (a picture of it), got '${values.out}'`);
  tidy(() => {
    const labels = readLabelPng(positionals[0]!);
    const start = process.hrtime.bigint();
    const map = weightMap(labels, options);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (extension === '.npy') saveNpy(values.out!, map);
    else writeColourPng(values.out!, map);
    const [h, w] = map.shape;
    process.stdout.write(`${positionals[0]}: ${w}×${h}, weights ${(map.min().item() as number).toFixed(3)}–${(map.max().item() as number).toFixed(3)}, ${ms.toFixed(0)} ms → ${values.out}\n`);
  });
  return 0;
}
