// Train a U-Net from TypeScript on the sample nuclei, then segment and score the held-out ones.
//   npm run examples   (or: npx tsc -p tsconfig.examples.json && node build/examples/train-from-typescript.js --steps 2000)
import * as path from 'node:path';

import {
  createUNet,
  labelsFromProbabilities,
  loadFolder,
  metrics,
  predictProbabilities,
  prepareSamples,
  runTraining,
  torch,
} from 'unet-torch';

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1] || 300);
const data = path.join(__dirname, '..', '..', 'examples', 'dsb2018');

async function main(): Promise<void> {
  // Targets and weight maps are computed once per label image: a third class where nuclei touch.
  const targets = { target: 'borders', weights: 'paper', borderWidth: 1 } as const;
  const samples = prepareSamples(loadFolder(path.join(data, 'train')), 'instances', 3, targets);
  const test = prepareSamples(loadFolder(path.join(data, 'test')), 'instances', 3, targets);
  torch.manualSeed(0);
  const model = createUNet('compact', { classes: 3 });
  const result = await runTraining({
    model,
    train: samples.slice(3),
    validation: samples.slice(0, 3),
    steps,
    stepsPerEpoch: Math.max(1, Math.floor(steps / 3)),
    tileSize: 188,
    optimizer: 'adam',
    schedule: 'cosine',
    postprocess: { kind: 'borders' },
    outDir: path.join('runs', 'example-train'),
    onEvent: (event) => {
      if (event.type === 'epoch') console.log(`step ${event.step}: validation SEG ${event.validation?.seg?.toFixed(3)}`);
    },
  });
  // The post-processing the run chose on its validation images, applied to the held-out images.
  const postprocess = result.postprocess ?? { kind: 'borders' as const };
  const frames = test.map((sample) => ({
    name: sample.name,
    predicted: torch.tidy(() => labelsFromProbabilities(predictProbabilities(model, sample.image), postprocess)),
    reference: sample.instances,
  }));
  const scores = metrics.ctcScores(frames);
  console.log(
    `held-out nuclei: SEG ${scores.seg.toFixed(3)}, DET ${scores.det.toFixed(3)} over ${scores.objects} nuclei after ${result.step} steps`,
  );
  torch.dispose([
    ...frames.map((f) => f.predicted),
    ...[...samples, ...test].flatMap((s) => [s.image, s.label, s.target, s.weights, s.instances]),
  ]);
  model.dispose();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
