// Segment every image of a folder with a model: a training run's folder, or the nuclei model
// that ships in the package. Its model.json says how to normalise and how to turn probabilities
// into cells, so nothing else is needed.
//   node build/examples/predict-folder.js [MODEL] [FOLDER] [OUT]
import * as fs from 'node:fs';
import * as path from 'node:path';

import { data, loadPretrained, loadTrainedModel, predict, torch, writeLabelPng } from 'unet-torch';

const [
  location = 'nuclei',
  folder = path.join(__dirname, '..', '..', 'examples', 'dsb2018', 'test', 'images'),
  out = path.join('runs', 'example-predict'),
] = process.argv.slice(2);

const { model, description } = fs.existsSync(location) ? loadTrainedModel(location) : loadPretrained(location);
fs.mkdirSync(out, { recursive: true });
for (const file of data.listImages(folder)) {
  torch.tidy(() => {
    const [page] = data.readImages(file);
    const image = data.normaliseImage(page!, description.normalisation);
    const probabilities = predict.predictProbabilities(model, image, { tta: description.tta });
    const cells = predict.labelsFromProbabilities(probabilities, description.postprocess);
    const target = path.join(out, path.basename(file).replace(/\.\w+$/, '.png'));
    writeLabelPng(target, cells);
    console.log(`${file}: ${cells.max().item()} cells → ${target}`);
  });
}
model.dispose();
