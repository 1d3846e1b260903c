import { parseArgs } from 'node:util';

import { info } from '../runtime';

/** `unet info [--json]` */
export function runInfo(args: string[]): number {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean', default: false } }, strict: true });
  const facts = info();
  if (values.json) {
    process.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
    return 0;
  }
  const rows: [string, string][] = [
    ['libtorch', `${facts.libtorchVersion} at ${facts.libtorchPath}`],
    ['found by', `${facts.libtorchSource}: ${facts.libtorchReason}`],
    ['CUDA build', facts.cudaBuild ? `yes (CUDA runtime ${facts.cudaRuntimeVersion ?? 'unknown'})` : 'no'],
    ['CUDA available', facts.cudaAvailable ? `yes, ${facts.gpus} GPU(s)` : 'no'],
    ['threads', `${facts.threads} (of ${facts.cpus} CPUs)`],
    ['addon', facts.addon],
    ['node', facts.node],
  ];
  for (const [key, value] of rows) process.stdout.write(`${key.padEnd(15)} ${value}\n`);
  return 0;
}
