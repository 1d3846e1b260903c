// `unet weightmap <label.png> --out <file.npy|file.png>`: the paper's border weight map of a label image.
import * as path from 'node:path';

import { saveNpy } from '../io/npy';
import { readLabelPng, writeColourPng } from '../io/png';
import { tidy } from '../memory';
import { WEIGHT_MAP_PRESET_NAMES, WEIGHT_MAP_PRESETS } from '../weightmap/presets';
import { type WeightMapOptions, weightMap } from '../weightmap/weight-map';
import { choiceOption, numberOption, pairOption } from './args';
import { applyCommonFlags } from './common-flags';
import { COMMON_FLAGS, defineCommand, UsageError } from './command';

const { ronneberger2015: PAPER, falk2019: FALK } = WEIGHT_MAP_PRESETS;

/** `unet weightmap` */
export const weightMapCommand = defineCommand({
  name: 'weightmap',
  synopsis: '<label.png> --out <map.npy|map.png> [options]',
  positionals: [1, 1],
  flags: {
    out: { type: 'string', placeholder: 'FILE', help: '.npy (the float32 map) or .png (a picture of it)' },
    mask: { type: 'boolean', help: 'the image is a class mask: split its foreground into cells (connected components)' },
    connectivity: { type: 'string', placeholder: '4|8', help: 'neighbourhood of those components (default 4)' },
    w0: { type: 'string', placeholder: 'N', help: `border weight (default ${PAPER.w0}, the preset's)` },
    sigma: { type: 'string', placeholder: 'N', help: `border width in pixels (default ${PAPER.sigma}, the preset's)` },
    'class-weights': {
      type: 'string',
      placeholder: 'KIND',
      help: 'balance | none | BG,CELL: the class term (default balance: N / (C · n_c))',
    },
    preset: {
      type: 'string',
      placeholder: 'NAME',
      help: `${WEIGHT_MAP_PRESET_NAMES.join(' | ')} (falk2019, the authors' 2019 release: w0 ${FALK.w0}, σ ${FALK.sigma}, gaps)`,
    },
    gaps: { type: 'boolean', help: 'insert one-pixel background gaps between touching cells first' },
    'max-pixels': COMMON_FLAGS['max-pixels'],
  },
  required: ['out'],
  run(values, positionals) {
    applyCommonFlags(values);
    return writeWeightMap(positionals[0]!, values.out!, values);
  },
});

function writeWeightMap(
  labelFile: string,
  out: string,
  values: { mask?: boolean; connectivity?: string; w0?: string; sigma?: string; 'class-weights'?: string; preset?: string; gaps?: boolean },
): number {
  const classWeightsText = values['class-weights'];
  const options: WeightMapOptions = {
    input: values.mask ? 'mask' : 'instances',
    connectivity:
      choiceOption('connectivity', values.connectivity, ['4', '8'] as const) === undefined
        ? undefined
        : (Number(values.connectivity) as 4 | 8),
    w0: numberOption('w0', values.w0),
    sigma: numberOption('sigma', values.sigma),
    classWeights:
      classWeightsText === undefined || classWeightsText === 'balance' || classWeightsText === 'none'
        ? (classWeightsText as 'balance' | 'none' | undefined)
        : pairOption('class-weights', classWeightsText),
    preset: choiceOption('preset', values.preset, WEIGHT_MAP_PRESET_NAMES),
    insertGaps: values.gaps,
  };
  const extension = path.extname(out).toLowerCase();
  if (extension !== '.npy' && extension !== '.png')
    throw new UsageError(`--out must end in .npy (the float32 map) or .png (a picture of it), got '${out}'`);
  tidy(() => {
    const labels = readLabelPng(labelFile);
    const start = process.hrtime.bigint();
    const map = weightMap(labels, options);
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (extension === '.npy') saveNpy(out, map);
    else writeColourPng(out, map);
    const [h, w] = map.shape;
    process.stdout.write(
      `${labelFile}: ${w}×${h}, weights ${(map.min().item() as number).toFixed(3)}–${(map.max().item() as number).toFixed(3)}, ${ms.toFixed(0)} ms → ${out}\n`,
    );
  });
  return 0;
}
