'use strict';
// Packs a trained run folder as a model shipped in the package: models/NAME/model.json (the
// run's description, plus where its data and scores come from) and model.safetensors (the best
// weights in float16, half the size, widened back to float32 on load).
// usage: node scripts/ship-model.js RUN NAME [RESULTS.json]
const fs = require('node:fs');
const path = require('node:path');
const { torch } = require('../dist');
const { readModelDescription, saveModelDescription } = require('../dist/unet/model-files.js');

const [run, name, resultsFile] = process.argv.slice(2);
if (!run || !name) {
  console.error('usage: node scripts/ship-model.js RUN NAME [RESULTS.json]');
  process.exit(2);
}
const description = readModelDescription(path.join(run, 'model.json'));
const results = resultsFile
  ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')).filter((row) => path.resolve(row.run) === path.resolve(run))
  : [];
const out = path.join(__dirname, '..', 'models', name);
fs.mkdirSync(out, { recursive: true });
torch.tidy(() => {
  const { tensors } = torch.loadSafetensors(path.join(run, 'best.safetensors'));
  const half = Object.fromEntries(
    Object.entries(tensors).map(([key, value]) => [key, value.dtype === 'float32' ? value.to('float16') : value]),
  );
  torch.saveSafetensors(path.join(out, 'model.safetensors'), half);
});
saveModelDescription(out, { ...description, training: { ...description.training, heldout: results[0] ?? null } });
console.log(`${out}: model.json and model.safetensors (${(fs.statSync(path.join(out, 'model.safetensors')).size / 1e6).toFixed(1)} MB)`);
