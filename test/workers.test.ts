import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { torch } from '../lib';

const script = path.join(__dirname, 'support', 'worker.js');

function runWorker(workerData: object): Promise<{ total: number; live: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

describe('worker_threads', () => {
  test('two workers load the addon and compute at once, each with its own state', async () => {
    const [a, b] = await Promise.all([runWorker({ value: 1 }), runWorker({ value: 2 })]);
    expect(a).toEqual({ total: 128 * 128, live: 0 });
    expect(b).toEqual({ total: 2 * 128 * 128, live: 0 });
    expect(torch.tidy(() => torch.ones([3]).sum().item())).toBe(3);
  });

  test('terminating a worker in the middle of work neither crashes nor disturbs the main thread', async () => {
    const worker = new Worker(script, { workerData: { mode: 'forever' } });
    await new Promise((resolve) => worker.once('message', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const code = await worker.terminate();
    expect(code).toBe(1);
    const before = torch.memory().liveTensors;
    expect(torch.tidy(() => torch.ones([2, 2]).matmul(torch.ones([2, 2])).sum().item())).toBe(8);
    expect(torch.memory().liveTensors).toBe(before);
  });
});
