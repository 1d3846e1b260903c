'use strict';
// What the choice of an ISBI 2012 run's watershed costs: every setting that training's
// calibration tries (lib/train/calibrate.ts), scored by the foreground-restricted Rand error on
// the validation slices that chose among them and on the test slices that only report, for one
// or more runs of `unet accuracy --sets isbi2012 --protocols heldout` (their kept weights, with
// the split of that command). A diagnosis: no recipe is chosen from its test column.
// usage: node scripts/watershed-grid.js DATA RUN [RUN...]
//   DATA: the folder holding isbi2012/ (or isbi2012 itself); RUN: a run folder (its model.json)
const fs = require('node:fs');
const path = require('node:path');
const { torch } = require('../dist');
const { BENCHMARK_SETS, stemSet } = require('../dist/cli/accuracy.js');
const { loadTrainingSamples } = require('../dist/cli/train.js');
const { trainingRequest } = require('../dist/cli/training-flags.js');
const { basePostprocess } = require('../dist/raster/postprocess.js');
const { calibratePostprocess, medianCellArea } = require('../dist/train/calibrate.js');
const { isbiScoresOf, validationProbabilities } = require('../dist/train/validate.js');
const { loadTrainedModel } = require('../dist/unet/model-files.js');

const [data, ...runs] = process.argv.slice(2);
if (!data || runs.length === 0) {
  console.error('usage: node scripts/watershed-grid.js DATA RUN [RUN...]');
  process.exit(2);
}
const folder = fs.existsSync(path.join(data, 'isbi2012', 'images')) ? path.join(data, 'isbi2012') : data;
const split = BENCHMARK_SETS.isbi2012;
if (split === undefined) throw new Error('unet accuracy has no isbi2012 split');
const samples = loadTrainingSamples(folder, trainingRequest({ recipe: 'isbi2012' }));
const validation = stemSet(samples, split.validation, 'isbi2012');
const test = stemSet(samples, split.test, 'isbi2012');
const typicalArea = medianCellArea(samples.filter((s) => !validation.includes(s) && !test.includes(s)));

/** @param {import('../dist').PostprocessOptions} p */
const settingOf = (p) => `σ ${p.watershed?.sigma}, seeds > ${p.threshold}, ≥ ${p.minSize} px`;
/** @type {{ run: string; trials: { setting: string; validation: number; test: number }[] }[]} */
const results = [];
for (const run of runs) {
  const { model, description } = loadTrainedModel(run);
  if (description.training?.benchmark !== 'isbi2012' || description.training?.protocol !== 'heldout')
    throw new Error(`${run}: not a run of unet accuracy --sets isbi2012 --protocols heldout (its model.json says otherwise)`);
  const tileSize = /** @type {number | undefined} */ (description.training.validationTileSize) ?? model.defaultTileSize;
  const options = { tileSize, tta: description.tta };
  const validationMaps = validationProbabilities(model, validation, options);
  const testMaps = validationProbabilities(model, test, options);
  try {
    const { trials } = calibratePostprocess(validation, validationMaps, basePostprocess('cells', true), 'rand', typicalArea);
    results.push({
      run,
      trials: trials.map((trial) => ({
        setting: settingOf(trial.postprocess),
        validation: /** @type {import('../dist/train/calibrate.js').MembraneTrial} */ (trial).randError,
        test: isbiScoresOf(test, testMaps, trial.postprocess, ['randError']).randError,
      })),
    });
    process.stderr.write(`${run}: ${trials.length} settings scored\n`);
  } finally {
    torch.dispose([...validationMaps, ...testMaps]);
    model.dispose();
  }
}

/**
 * The setting of least validation Rand error (the first tried on ties, as calibration chooses),
 * summed over `chosenBy`'s runs; its index in each run's trials.
 * @param {typeof results} chosenBy
 */
const choose = (chosenBy) => {
  const totals = chosenBy[0]?.trials.map((_, k) => chosenBy.reduce((sum, r) => sum + (r.trials[k]?.validation ?? Number.NaN), 0)) ?? [];
  return totals.reduce((best, total, k) => (total < (totals[best] ?? Number.POSITIVE_INFINITY) ? k : best), 0);
};
/**
 * @param {{ setting: string; validation: number; test: number }[]} trials
 * @param {number} k
 */
const trialAt = (trials, k) => {
  const trial = trials[k];
  if (trial === undefined) throw new Error(`no setting ${k}: the runs were calibrated over different grids`);
  return trial;
};
const f = (/** @type {number} */ x) => x.toFixed(3);
console.log('| run | chosen on its validation slices | validation | test | least test Rand error of the grid | test range |');
console.log('| --- | --- | --- | --- | --- | --- |');
for (const { run, trials } of results) {
  const chosen = trialAt(trials, choose([{ run, trials }]));
  const tests = trials.map((t) => t.test);
  const least = trials.reduce((a, b) => (b.test < a.test ? b : a));
  console.log(
    `| ${run} | ${chosen.setting} | ${f(chosen.validation)} | ${f(chosen.test)} | ${f(least.test)} (${least.setting}) | ${f(Math.min(...tests))}–${f(Math.max(...tests))} |`,
  );
}
if (results.length > 1) {
  // One setting for every run, chosen on the other runs' validation slices alone.
  console.log("\n| run | one setting chosen on the other runs' validation | test |");
  console.log('| --- | --- | --- |');
  for (const [k, { run, trials }] of results.entries()) {
    const chosen = trialAt(trials, choose(results.filter((_, j) => j !== k)));
    console.log(`| ${run} | ${chosen.setting} | ${f(chosen.test)} |`);
  }
}
