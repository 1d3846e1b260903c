'use strict';
// Our side of bench/predict.js and bench/training.js, each case in its own process so that its
// peak memory is its own:
//   node bench/predict-side.js predict PRESET SIZE TILE REPEATS THREADS PRECISION → { ms, peakRssMb }
//   node bench/predict-side.js train PRESET TILE STEPS THREADS AUGMENT  → { tilesPerSecond, peakRssMb, lastLoss }
const { torch, createUNet, predictProbabilities, runTraining } = require('../dist/index.js');
const { prepareSamples } = require('../dist/data/dataset.js');
const { numberArguments, presetArgument } = require('./support');

const [what, preset, ...rest] = process.argv.slice(2);
torch.manualSeed(0);
const model = createUNet(presetArgument(preset));

async function main() {
  if (what === 'predict') {
    const [size, tile, repeats, threads] = /** @type {[number, number, number, number]} */ (numberArguments(rest, 4));
    const precision = /** @type {import('../dist').Precision} */ (rest[4]);
    torch.setNumThreads(threads);
    const image = torch.randn([1, size, size]);
    torch.tidy(() => {
      predictProbabilities(model, image.narrow(1, 0, 64).narrow(2, 0, 64), { tileSize: tile, precision }); // warm-up, as the reference
    });
    let best = Infinity;
    for (let k = 0; k < repeats; k += 1) {
      const start = process.hrtime.bigint();
      torch.tidy(() => {
        predictProbabilities(model, image, { tileSize: tile, precision });
      });
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
    }
    return { ms: best, peakRssMb: process.resourceUsage().maxRSS / 1024 };
  }
  const [tile, steps, threads] = /** @type {[number, number, number]} */ (numberArguments(rest, 3));
  const augment = rest[3] === 'augment';
  torch.setNumThreads(threads);
  // One 256 × 256 image with random targets and weights, as the reference loop uses.
  const label = torch.rand([256, 256]).gt(0.5).to('int32');
  const [sample] = prepareSamples([{ name: 'random', image: torch.randn([1, 256, 256]), label }], 'classes', 2);
  if (sample === undefined) throw new Error('no sample');
  sample.weights = torch.keep(torch.rand([256, 256]).add(0.5));
  /** @type {Omit<import('../dist').TrainOptions, 'steps'>} */
  const common = {
    model,
    train: [sample],
    tileSize: tile,
    optimizer: 'sgd',
    lr: 0.01,
    momentum: 0.99,
    augment: augment ? undefined : false,
    stepsPerEpoch: 1e9,
  };
  await runTraining({ ...common, steps: 2 }); // warm-up
  const start = process.hrtime.bigint();
  const result = await runTraining({ ...common, steps, seed: 1 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    tilesPerSecond: steps / seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    lastLoss: result.losses[result.losses.length - 1],
  };
}

main().then((result) => process.stdout.write(JSON.stringify(result)));
