'use strict';
// Data-parallel training on torch.distributed (Gloo over loopback), beside PyTorch's
// DistributedDataParallel on the same machine: the step time of the compact U-Net with 2 ranks ×
// 1 thread (one 188² tile per rank), the all-reduce of the paper network's 31 M parameters, and
// the tiles/s of the 2 ranks against one process with 2 threads.
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const { printTable, referencePython, verdict } = require('./support');

const ROUNDS = 3;

/** @returns {Promise<number>} a port nobody listens on now */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(address.port));
    });
  });
}

/**
 * Runs `world` ranks of one side; resolves with rank 0's milliseconds per step.
 * @param {'node' | 'python'} side
 * @param {string} mode
 * @param {number} world
 * @param {number} threads
 * @returns {Promise<number>}
 */
async function run(side, mode, world, threads) {
  const port = String(await freePort());
  const ranks = Array.from({ length: world }, (_, rank) => {
    const args = [mode, String(rank), String(world), port, String(threads)];
    const [command, script] =
      side === 'node'
        ? [process.execPath, path.join(__dirname, 'distributed-rank.js')]
        : [referencePython(), path.join(__dirname, 'distributed_rank.py')];
    return new Promise((resolve, reject) => {
      const child = spawn(command, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`${side} rank ${rank} exited with ${code}`))));
    });
  });
  const outputs = await Promise.all(ranks);
  return JSON.parse(String(outputs[0]).trim()).msPerStep;
}

/**
 * The best of ROUNDS runs of each side, alternating them so that both see the same machine.
 * @param {string} mode
 * @param {number} world
 * @param {number} threads
 */
async function sideBySide(mode, world, threads) {
  let ours = Infinity;
  let theirs = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    ours = Math.min(ours, await run('node', mode, world, threads));
    theirs = Math.min(theirs, await run('python', mode, world, threads));
  }
  return { ours, theirs };
}

async function main() {
  const ddp = await sideBySide('ddp', 2, 1);
  const alone = await sideBySide('ddp', 1, 2);
  const allReduce = await sideBySide('allreduce', 2, 1);
  const gigabytes = (31_030_658 * 4) / 1e9;
  printTable(
    ['measure', 'unet-torch', 'PyTorch', 'ratio (ours / PyTorch)', 'target'],
    [
      [
        'DDP step, 2 ranks × 1 thread (ms)',
        ddp.ours.toFixed(0),
        ddp.theirs.toFixed(0),
        (ddp.ours / ddp.theirs).toFixed(3),
        verdict(ddp.ours / ddp.theirs, '<=', 1.05),
      ],
      ['one process, 2 threads (ms)', alone.ours.toFixed(0), alone.theirs.toFixed(0), (alone.ours / alone.theirs).toFixed(3), ''],
      [
        'tiles/s: 2 ranks / 1 process',
        `${(2000 / ddp.ours).toFixed(2)} / ${(1000 / alone.ours).toFixed(2)}`,
        `${(2000 / ddp.theirs).toFixed(2)} / ${(1000 / alone.theirs).toFixed(2)}`,
        '',
        '',
      ],
      [
        'all-reduce of 31 M float32 (ms; GB/s)',
        `${allReduce.ours.toFixed(0)}; ${(gigabytes / (allReduce.ours / 1000)).toFixed(2)}`,
        `${allReduce.theirs.toFixed(0)}; ${(gigabytes / (allReduce.theirs / 1000)).toFixed(2)}`,
        (allReduce.ours / allReduce.theirs).toFixed(3),
        '',
      ],
    ],
  );
  console.log(`\n(compact U-Net, one 188² tile per rank, SGD, best of ${ROUNDS} runs of 3 × 8 steps each side, Gloo over loopback, CPU)`);
}
main();
