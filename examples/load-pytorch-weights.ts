// Weights trained in PyTorch, used here: a state dict saved by Python's torch.save (or
// safetensors) loads into the same network, whose parameter names are PyTorch's, and gives the
// same logits. The PyTorch side runs in the reference venv that `npm install` made.
//   node build/examples/load-pytorch-weights.js
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createUNet, type Tensor, torch } from 'unet-torch';

const root = path.join(__dirname, '..', '..');
const python = fs.existsSync(path.join(root, '.venv', 'bin', 'python')) ? path.join(root, '.venv', 'bin', 'python') : 'python3';
const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-example-'));
const weights = path.join(folder, 'compact.pt');
const input = path.join(folder, 'tile.npy');
const logits = path.join(folder, 'logits.npy');

try {
  // In Python: the reference U-Net (reference/unet.py), seeded, saved with torch.save.
  execFileSync(
    python,
    [
      '-c',
      `import torch; from reference.unet import create_unet; torch.manual_seed(7); torch.save(create_unet("compact").state_dict(), ${JSON.stringify(weights)})`,
    ],
    { cwd: root },
  );
  const model = createUNet('compact');
  model.loadStateDict(torch.load(weights) as Record<string, Tensor>); // throws, listing keys, if they do not fit
  model.eval();
  torch.manualSeed(1);
  const tile = torch.randn([1, 1, 188, 188]);
  torch.saveNpy(input, tile);
  // The same forward pass in PyTorch, for comparison.
  execFileSync(python, ['-m', 'reference', 'unet', '--preset', 'compact', '--weights', weights, '--input', input, '--out', logits], {
    cwd: root,
  });
  const ours = torch.noGrad(() => model.forward(tile));
  const theirs = torch.loadNpy(logits);
  const difference = torch.tidy(() => ours.sub(theirs).abs().max().item() as number);
  console.log(`logits ${ours.shape.join('×')}: largest difference from PyTorch ${difference}`);
  if (difference > 1e-4) process.exitCode = 1;
  torch.dispose([tile, ours, theirs]);
  model.dispose();
} finally {
  fs.rmSync(folder, { recursive: true, force: true });
}
