// The PyTorch reference (reference/, run by the Python that npm install found or made): how the
// library reaches it for `unet compare`, the benchmarks and the tests.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

import { libtorchRecord } from './native';
import { packageRoot } from './package-root';

/** The Python that has torch and the reference's packages. */
export function referencePython(): string {
  return libtorchRecord.python ?? path.join(packageRoot, '.venv', 'bin', 'python');
}

/** Runs `python -m reference <args>` and returns its standard output; a failure names the fix. */
export function runReference(args: string[]): string {
  try {
    return execFileSync(referencePython(), ['-m', 'reference', ...args], {
      cwd: packageRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
    throw new Error(
      `the PyTorch reference failed (${referencePython()} -m reference ${args[0]}): ${stderr.split('\n').slice(-3).join(' ') || (error as Error).message}. ` +
        'It needs a Python with torch, numpy and safetensors: the project venv that `npm install` creates, or set TORCH_PYTHON.',
    );
  }
}
