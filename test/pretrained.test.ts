// The nuclei model that ships in the package: it loads from float16 weights, segments the
// example test nuclei (never trained or tuned on) as the challenges score it, from TypeScript and
// from `unet predict --model nuclei`, and a name that is not shipped gets a clear error.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { data, loadPretrained, metrics, predict, readLabelPng, torch } from '../lib';
import { PRETRAINED, resolveModel } from '../lib/unet/pretrained';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
const testImages = path.join(__dirname, '..', 'examples', 'dsb2018', 'test', 'images');
const testLabels = path.join(__dirname, '..', 'examples', 'dsb2018', 'test', 'labels');

describe('the shipped nuclei model', () => {
  test('its description records the recipe, the data and the held-out scores', () => {
    const { model, description } = loadPretrained('nuclei');
    try {
      expect(description.training?.recipe).toBe('nuclei');
      const heldout = (description.training as { heldout?: { test: { seg: number; objects: number } } }).heldout;
      expect(heldout?.test.objects).toBeGreaterThan(0);
      expect(description.postprocess.kind).toBe('borders');
      // float16 on disk, float32 in the network
      for (const [, parameter] of model.namedParameters()) expect(parameter.dtype).toBe('float32');
    } finally {
      model.dispose();
    }
  });

  test('segments the held-out example nuclei well from TypeScript', () => {
    const { model, description } = loadPretrained('nuclei');
    try {
      const frames = data.listImages(testImages).map((file) =>
        torch.tidy(() => {
          const [page] = data.readImages(file);
          const image = data.normaliseImage(page!, description.normalisation);
          const probabilities = predict.predictProbabilities(model, image, { tta: description.tta });
          const predicted = predict.labelsFromProbabilities(probabilities, description.postprocess);
          const reference = readLabelPng(path.join(testLabels, path.basename(file)));
          return metrics.ctcFrameScores(predicted, reference, path.basename(file));
        }),
      );
      // pooled over every nucleus of the four images, as ctcScores pools
      const objects = frames.reduce((sum, f) => sum + f.objects, 0);
      const seg = frames.reduce((sum, f) => sum + f.jaccardSum, 0) / objects;
      expect(objects).toBe(210);
      // An untrained network scores about 0 here; docs/results.md has this model's figures.
      expect(seg).toBeGreaterThan(0.6);
    } finally {
      model.dispose();
    }
  });

  test('unet predict --model nuclei writes a label image per input', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-pretrained-'));
    try {
      const image = path.join(testImages, 'fadeb0ab092833f2.png');
      const result = spawnSync(process.execPath, [cli, 'predict', '--model', 'nuclei', '--out', out, image], { encoding: 'utf8' });
      expect(result.status).toBe(0);
      // It says which model it used and how: the shipped one, with its recorded post-processing.
      expect(result.stderr).toContain(path.join('models', 'nuclei', 'model.safetensors'));
      expect(result.stderr).toContain('"kind":"borders"');
      const labels = readLabelPng(path.join(out, 'fadeb0ab092833f2.png'));
      expect(labels.max().item()).toBeGreaterThan(20);
      labels.dispose();
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('a name the package does not ship is refused with the names it does', () => {
    expect(Object.keys(PRETRAINED)).toEqual(['nuclei']);
    expect(() => resolveModel('mitochondria')).toThrow('mitochondria: no such model folder or file, and not a shipped model (nuclei)');
    expect(() => loadPretrained('mitochondria')).toThrow("unknown pretrained model 'mitochondria'; the package ships: nuclei");
  });
});
