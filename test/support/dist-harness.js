'use strict';
// How test/distributed.test.ts and the NCCL check of bench/gpu.js (a GPU machine runs no jest)
// run the ranks of dist-rank.js, and what the ranks must see. Plain CommonJS over the modules it
// is given, so that the tests pass their own (lib/) and the bench the built ones (dist/).
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');

const projectRoot = path.join(__dirname, '..', '..');

/** A loopback port nobody listens on now. @returns {Promise<number>} */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

/**
 * @typedef {{ code: number | null, signal: NodeJS.Signals | null, output: Record<string, unknown>, stderr: string }} RankResult
 * A rank's exit code (null when a signal ended it, named by `signal`), the last JSON line it
 * printed (`{}` if none) and its standard error.
 */

/**
 * Runs one rank (killed after `timeoutMs`) in the project root.
 * @param {string} command @param {string[]} args @param {NodeJS.ProcessEnv} [env] @param {number} [timeoutMs]
 * @returns {Promise<RankResult>}
 */
function runRank(command, args, env = process.env, timeoutMs = 90_000) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .pop();
      resolve({ code, signal, output: line === undefined ? {} : JSON.parse(line), stderr });
    });
  });
}

/** The collectives of dist-rank.js for rank `rank` of `n`, computed by hand. */
function expectedCollectives(rank, n = 2) {
  const ranks = Array.from({ length: n }, (_, r) => r);
  const total = (f) => ranks.reduce((sum, r) => sum + f(r), 0);
  return {
    rank,
    worldSize: n,
    sum: [total((r) => 1 + r), total((r) => 10 * (r + 1))],
    avg: [total((r) => 1 + r) / n, total((r) => 10 * (r + 1)) / n],
    min: [1, 10 - (n - 1)],
    max: [n, 10],
    product: [ranks.reduce((p, r) => p * (2 + r), 1), 3 ** n],
    broadcast: [n - 1, n - 1 + 0.25], // from the last rank
    allGather: ranks.map((r) => [r, r + 0.5]),
    // rank `rank` receives the sum over ranks r of inputs[rank] = [1 + 2·rank + r·rank, 2 + 2·rank]
    reduceScatter: [total((r) => 1 + 2 * rank + r * rank), n * (2 + 2 * rank)],
  };
}

/** The small network of the DDP scenario (reference/distributed_rank.py builds the same). */
function ddpNetwork(nn) {
  return new nn.Sequential(new nn.Conv2d(1, 4, 3, { padding: 1 }), new nn.ReLU(), new nn.Conv2d(4, 2, 3, { padding: 1 }));
}

/**
 * The training scenario's data and model, the same on every rank and in the test: generated
 * cells (two to train on, one to validate) and a small U-Net from seed 0.
 * @param {{ torch: any, unet: any, UNet: any, syntheticCells: any, normaliseImage: any, prepareSamples: any }} modules
 */
function trainingSetup({ torch, unet, UNet, syntheticCells, normaliseImage, prepareSamples }) {
  const raw = [1, 2, 3].map((seed) => {
    const { image, label } = syntheticCells(seed, { height: 64, width: 64 });
    return { name: `cells${seed}`, image: normaliseImage(image), label };
  });
  const samples = prepareSamples(raw, 'instances', 2);
  torch.manualSeed(0);
  const model = new UNet({ ...unet.presetOptions('compact'), depth: 3, baseChannels: 8 });
  return { model, train: samples.slice(0, 2), validation: samples.slice(2) };
}

/**
 * What DDP with `n` ranks × 1 tile must equal: one process training on the same tiles as a batch
 * of `n`, from rank 0's initial weights. Returns each step's loss, the last step's gradients and
 * the final weights (on the CPU).
 */
function oneProcessDdp({ torch, nn, optim }, n, device = 'cpu', steps = 10) {
  const previousThreads = torch.getNumThreads();
  torch.setNumThreads(1);
  torch.manualSeed(100);
  const model = ddpNetwork(nn).to(device);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  torch.manualSeed(1);
  const tiles = torch.randn([steps, n, 1, 12, 12]).to(device);
  const targets = torch.randn([steps, n, 2, 12, 12]).to(device);
  const losses = [];
  const grads = {};
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad();
    // The mean over a batch of n is the average of the ranks' means, as DDP averages gradients.
    const difference = model.forward(tiles.select(0, step)).sub(targets.select(0, step));
    const loss = difference.mul(difference).mean();
    loss.backward();
    losses.push(loss.item());
    if (step === steps - 1) for (const [name, p] of model.namedParameters()) grads[name] = p.grad.clone().cpu();
    optimizer.step();
  }
  const weights = {};
  for (const [name, p] of model.namedParameters()) weights[name] = p.detach().clone().cpu();
  torch.setNumThreads(previousThreads);
  model.dispose();
  return { losses, grads, weights };
}

/**
 * The largest difference between DDP ranks (their losses, and the gradients and weights each saved
 * to a safetensors file) and `oneProcessDdp`: 0 when they agree exactly.
 */
function ddpDifference(loadSafetensors, rankLosses, rankFiles, alone) {
  let worst = 0;
  for (const [step, loss] of alone.losses.entries()) {
    const mean = rankLosses.reduce((sum, losses) => sum + losses[step], 0) / rankLosses.length;
    worst = Math.max(worst, Math.abs(loss - mean));
  }
  for (const file of rankFiles) {
    const saved = loadSafetensors(file).tensors;
    for (const [name, grad] of Object.entries(alone.grads)) {
      worst = Math.max(worst, saved[`grad.${name}`].sub(grad).abs().max().item());
      worst = Math.max(worst, saved[`weight.${name}`].sub(alone.weights[name]).abs().max().item());
    }
  }
  return worst;
}

module.exports = { freePort, runRank, expectedCollectives, ddpNetwork, trainingSetup, oneProcessDdp, ddpDifference };
