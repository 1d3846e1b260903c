import { info } from '../runtime';
import { defineCommand } from './command';

/** `unet info` */
export const infoCommand = defineCommand({
  name: 'info',
  synopsis: '[--json]',
  flags: { json: { type: 'boolean', help: 'print the facts as JSON' } },
  run(values) {
    return printInfo(values.json ?? false);
  },
});

function printInfo(json: boolean): number {
  const facts = info();
  if (json) {
    process.stdout.write(`${JSON.stringify(facts, null, 2)}\n`);
    return 0;
  }
  const rows: [string, string][] = [
    ['libtorch', `${facts.libtorchVersion} at ${facts.libtorchPath}`],
    ['found by', `${facts.libtorchSource}: ${facts.libtorchReason}`],
    ['CUDA build', facts.cudaBuild ? `yes (CUDA runtime ${facts.cudaRuntimeVersion ?? 'unknown'})` : 'no'],
    ['CUDA available', facts.cudaAvailable ? `yes, ${facts.gpus} GPU(s)` : 'no'],
    [
      'distributed',
      `${facts.distributedBackends.join(', ')}${facts.ncclMissing === null ? '' : ` (nccl not built: ${facts.ncclMissing})`}`,
    ],
    [
      'CUDA kernels',
      facts.cudaKernels
        ? 'built: CUDA augmentation resamples in one fused kernel; CUDA graphs'
        : `not built (${facts.cudaKernelsMissing}): CUDA augmentation runs on torch ops; no CUDA graphs`,
    ],
    ['threads', `${facts.threads} (of ${facts.cpus} CPUs)`],
    ['CPU', `${facts.cpuModel}, kernels ${facts.cpuCapability}`],
    ['addon', facts.addon],
    ['node', facts.node],
  ];
  for (const [key, value] of rows) process.stdout.write(`${key.padEnd(15)} ${value}\n`);
  return 0;
}
