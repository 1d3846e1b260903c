import * as path from 'node:path';
import { Worker } from 'node:worker_threads';

import { torch } from '../lib';

const script = path.join(__dirname, 'support', 'worker.js');

// The training worker sets libtorch's thread count, which is process-wide, and jest reuses this
// process for later test files that compare with PyTorch at its default: restore it.
const threads = torch.getNumThreads();
afterAll(() => torch.setNumThreads(threads));

// Resolves once the worker has ended (its environment torn down), with what it reported.
function runWorker(workerData: object): Promise<{ total: number; live: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(script, { workerData });
    let report: { total: number; live: number } | undefined;
    worker.once('message', (message: { total: number; live: number }) => {
      report = message;
    });
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 && report ? resolve(report) : reject(new Error(`worker exited with ${code}`))));
  });
}

describe('worker_threads', () => {
  test('two workers load the addon and compute at once, each with its own state', async () => {
    const [a, b] = await Promise.all([runWorker({ value: 1 }), runWorker({ value: 2 })]);
    expect(a).toEqual({ total: 128 * 128, live: 0 });
    expect(b).toEqual({ total: 2 * 128 * 128, live: 0 });
    expect(torch.tidy(() => torch.ones([3]).sum().item())).toBe(3);
  });

  test('a worker that ends with live tensors frees them without disturbing the main thread', async () => {
    const before = torch.memory().liveTensors;
    for (let k = 0; k < 4; k += 1) await runWorker({ value: k });
    // At most as many: the garbage collector may meanwhile free tensors earlier test files dropped.
    expect(torch.memory().liveTensors).toBeLessThanOrEqual(before);
    expect(
      torch.tidy(() =>
        torch
          .ones([2, 2])
          .matmul(torch.ones([2, 2]))
          .sum()
          .item(),
      ),
    ).toBe(8);
  });

  test('terminating a worker in the middle of tensor calls neither aborts nor leaks into the main thread', async () => {
    const before = torch.memory().liveTensors;
    for (const delayMs of [0, 1, 5, 20]) {
      const worker = new Worker(script, { workerData: { spin: true } });
      await new Promise((resolve) => worker.once('message', resolve));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      expect(await worker.terminate()).toBe(1);
    }
    // At most as many: the garbage collector may meanwhile free tensors earlier test files dropped.
    expect(torch.memory().liveTensors).toBeLessThanOrEqual(before);
    expect(torch.tidy(() => torch.ones([4]).sum().item())).toBe(4);
  });

  test('training in a worker leaves the main thread answering; terminating it mid-step neither crashes nor leaks', async () => {
    const trainer = path.join(__dirname, 'support', 'train-worker.js');
    const before = torch.memory().liveTensors;
    // A complete run: the main thread's timer keeps firing while the worker trains.
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 5);
    const losses: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker(trainer, { workerData: { steps: 20 } });
      worker.on('message', (message: number | { done: number }) => {
        if (typeof message === 'number') losses.push(message);
        else worker.terminate().then(() => resolve(), reject);
      });
      worker.once('error', reject);
    });
    clearInterval(timer);
    expect(losses).toHaveLength(20);
    expect(ticks).toBeGreaterThan(5);
    // Terminated in the middle of training, again and again.
    for (const afterSteps of [1, 3, 6]) {
      const worker = new Worker(trainer, { workerData: { steps: 1000 } });
      let steps = 0;
      await new Promise<void>((resolve, reject) => {
        worker.on('message', () => {
          steps += 1;
          if (steps === afterSteps) setTimeout(() => worker.terminate().then(() => resolve(), reject), 3);
        });
        worker.once('error', reject);
      });
    }
    // At most as many: the garbage collector may meanwhile free tensors earlier test files dropped.
    expect(torch.memory().liveTensors).toBeLessThanOrEqual(before);
    expect(
      torch.tidy(() =>
        torch
          .ones([2, 2])
          .matmul(torch.ones([2, 2]))
          .sum()
          .item(),
      ),
    ).toBe(8);
  }, 120_000);
});
