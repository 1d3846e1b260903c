// Fine-tune the shipped nuclei model on the sample nuclei from TypeScript (what `unet train
// --init nuclei` does), then score the held-out ones before and after.
//   npm run examples   (or: npx tsc -p tsconfig.examples.json && node build/examples/fine-tune.js --steps 900)
import * as path from 'node:path';

import {
  labelsFromProbabilities,
  loadFolder,
  loadPretrained,
  metrics,
  predictProbabilities,
  prepareSamples,
  runTraining,
  torch,
} from 'unet-torch';
import type { PostprocessOptions, TrainingSample, UNet } from 'unet-torch';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1] || 300);
const data = path.join(__dirname, '..', '..', 'examples', 'dsb2018');

/** SEG of `model` on the samples, with the model's own post-processing. */
function seg(model: UNet, samples: TrainingSample[], postprocess: PostprocessOptions): number {
  const frames = samples.map((sample) => ({
    predicted: torch.tidy(() => labelsFromProbabilities(predictProbabilities(model, sample.image), postprocess)),
    reference: sample.instances,
  }));
  const { seg: score } = metrics.ctcScores(frames);
  torch.dispose(frames.map((frame) => frame.predicted));
  return score;
}

async function main(): Promise<void> {
  const { model, description } = loadPretrained('nuclei');
  // The model's own normalisation and targets: a border class where nuclei touch.
  const targets = { target: 'borders', weights: 'paper', borderWidth: 1 } as const;
  const read = (folder: string) =>
    prepareSamples(
      loadFolder(path.join(data, folder), description.normalisation, { channels: model.options.inChannels }),
      'instances',
      3,
      targets,
    );
  const samples = read('train');
  const test = read('test');
  console.log(`held-out nuclei, the shipped model: SEG ${seg(model, test, description.postprocess).toFixed(3)}`);
  const result = await runTraining({
    model,
    train: samples.slice(3),
    validation: samples.slice(0, 3),
    // The model as it starts is validated too (epoch 0): training that only makes it worse keeps it.
    validateStart: true,
    steps,
    stepsPerEpoch: Math.max(1, Math.floor(steps / 3)),
    tileSize: 188,
    optimizer: 'adam',
    lr: 1e-4,
    schedule: 'cosine',
    postprocess: description.postprocess,
    outDir: path.join('runs', 'example-fine-tune'),
    onEvent: (event) => {
      if (event.type === 'epoch') console.log(`step ${event.step}: validation SEG ${event.validation?.seg?.toFixed(3)}`);
    },
  });
  // runTraining leaves the last step's weights in `model`; the run folder holds the best ones.
  console.log(
    `held-out nuclei after ${result.step} steps: SEG ${seg(model, test, result.postprocess ?? description.postprocess).toFixed(3)} (runs/example-fine-tune holds the best model)`,
  );
  torch.dispose([...samples, ...test].flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]));
  model.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
