'use strict';
// Runs in a worker_thread: loads the addon in its own environment and computes.
const { parentPort, workerData } = require('node:worker_threads');
const { torch } = require('../../dist/index.js');

if (workerData.mode === 'forever') {
  parentPort.postMessage({ started: true });
  const held = [];
  for (;;) held.push(torch.randn([64, 64]).matmul(torch.randn([64, 64])));
}
const total = torch.tidy(() => {
  let x = torch.full([128, 128], workerData.value, { dtype: 'float64' });
  for (let k = 0; k < 200; k += 1) x = x.matmul(torch.eye(128, undefined, { dtype: 'float64' }));
  return x.sum().item();
});
parentPort.postMessage({ total, live: torch.memory().liveTensors });
