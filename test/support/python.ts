// The parity harness: runs PyTorch on the same inputs in the reference Python (the one npm install
// found or made, with the same libtorch where possible) and brings its outputs back as tensors.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type Tensor, torch } from '../../lib';
import { loadSafetensors, saveSafetensors } from '../../lib/io/safetensors';
import { packageRoot } from '../../lib/package-root';
import { referencePython } from '../../lib/reference';

export { referencePython };

/**
 * Runs `script` with `inputs` bound to a dict of tensors; returns what it put in `outputs`. Python
 * runs with this process's intra-op thread count: a CPU kernel's reduction order (and so a float
 * sum's last bit) can depend on it, and a test may have changed ours.
 */
export function runPython(script: string, inputs: Record<string, Tensor> = {}): Record<string, Tensor> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-torch-parity-'));
  try {
    const scriptFile = path.join(folder, 'script.py');
    const inputFile = path.join(folder, 'inputs.safetensors');
    const outputFile = path.join(folder, 'outputs.safetensors');
    fs.writeFileSync(scriptFile, script);
    const threads = torch.tensor(torch.getNumThreads());
    saveSafetensors(inputFile, { ...inputs, __threads: threads });
    threads.dispose();
    execFileSync(referencePython(), ['-m', 'reference.harness', scriptFile, inputFile, outputFile], {
      cwd: packageRoot,
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    return loadSafetensors(outputFile).tensors;
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}
