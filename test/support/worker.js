'use strict';
// Runs in a worker_thread: loads the addon in its own environment and computes.
const { parentPort, workerData } = require('node:worker_threads');
const { torch } = require('../../dist/index.js');

if (workerData.spin) {
  // Creates tensors until the main thread terminates this worker mid-call.
  parentPort?.postMessage('spinning');
  for (;;) {
    torch.tidy(() => torch.randn([64, 64]).matmul(torch.randn([64, 64])));
    torch.ones([8]).add(1);
  }
}

const total = torch.tidy(() => {
  let x = torch.full([128, 128], workerData.value, { dtype: 'float64' });
  for (let k = 0; k < 200; k += 1) x = x.matmul(torch.eye(128, undefined, { dtype: 'float64' }));
  return x.sum().item();
});
// Left for the worker's own teardown to free.
const leftover = [torch.randn([256, 256]), torch.ones([10])];
parentPort?.postMessage({ total, live: torch.memory().liveTensors - leftover.length });
