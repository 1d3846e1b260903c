'use strict';
// One rank of test/distributed.test.ts: `node dist-rank.js SCENARIO [RANK PORT]`. Without RANK and
// PORT it reads torchrun's variables (env://). Prints one line of JSON with what it saw.
// DIST_BACKEND=nccl runs it over NCCL on cuda:RANK, DIST_WORLD_SIZE sets the ranks (2 by default).
const { torch, nn, optim, unet, UNet, runTraining, syntheticCells } = require('../../dist/index.js');
const { normaliseImage, prepareSamples } = require('../../dist/data/dataset.js');
const { saveSafetensors } = require('../../dist/io/safetensors.js');
const { ddpNetwork, trainingSetup: harnessTrainingSetup } = require('./dist-harness.js');

const d = torch.distributed;
/** @typedef {import('../../dist').Tensor} Tensor */
const [scenario, rankArgument, portArgument, outFile] = process.argv.slice(2);
torch.setNumThreads(1);
const backend = /** @type {import('../../dist').DistributedBackend} */ (process.env.DIST_BACKEND ?? 'gloo');
const worldSize = Number(process.env.DIST_WORLD_SIZE ?? 2);
/** NCCL reduces CUDA tensors: rank r works on GPU r. */
const device = backend === 'nccl' ? `cuda:${rankArgument ?? process.env.LOCAL_RANK}` : 'cpu';

function init(timeout = 20000) {
  if (rankArgument === undefined) return d.initProcessGroup({ backend, timeout });
  return d.initProcessGroup({ backend, initMethod: `tcp://127.0.0.1:${portArgument}`, rank: Number(rankArgument), worldSize, timeout });
}

/**
 * The collectives every scenario checks (dist-harness.js has their values for N ranks); for 2
 * ranks the same as reference/distributed_rank.py.
 */
async function collectives() {
  const r = d.getRank();
  const n = d.getWorldSize();
  /** @type {(values: number[], dtype?: import('../../dist').DType) => Tensor} */
  const on = (values, dtype) => torch.tensor(values, { dtype, device });
  const sum = on([1 + r, 10 * (r + 1)], 'float32');
  await d.allReduce(sum);
  const avg = on([1 + r, 10 * (r + 1)], 'float32');
  await d.allReduce(avg, { op: 'avg' });
  const min = on([1 + r, 10 - r]);
  await d.allReduce(min, { op: 'min' });
  const max = on([1 + r, 10 - r]);
  await d.allReduce(max, { op: 'max' });
  const product = on([2 + r, 3], 'float64');
  await d.allReduce(product, { op: 'product' });
  const broadcast = on([r, r + 0.25]);
  await d.broadcast(broadcast, { src: n - 1 });
  const gathered = Array.from({ length: n }, () => torch.zeros([2], { device }));
  await d.allGather(gathered, on([r, r + 0.5]));
  const scattered = torch.zeros([2], { dtype: 'int64', device });
  await d.reduceScatter(
    scattered,
    Array.from({ length: n }, (_, k) => on([1 + 2 * k + r * k, 2 + 2 * k], 'int64')),
  );
  await d.barrier();
  return {
    rank: r,
    worldSize: d.getWorldSize(),
    sum: sum.toArray(),
    avg: avg.toArray(),
    min: min.toArray(),
    max: max.toArray(),
    product: product.toArray(),
    broadcast: broadcast.toArray(),
    allGather: gathered.map((t) => t.toArray()),
    reduceScatter: scattered.toArray(),
  };
}

const network = () => ddpNetwork(nn);

/** 10 SGD steps of DDP: tile `rank` of each step's N tiles; losses, then gradients and weights to `outFile`. */
async function ddp(steps = 10) {
  const r = d.getRank();
  const n = d.getWorldSize();
  torch.manualSeed(100 + r); // each rank starts different: wrapping must copy rank 0's weights
  const model = network().to(device);
  const wrapped = new nn.parallel.DistributedDataParallel(model);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
  torch.manualSeed(1);
  const tiles = torch.randn([steps, n, 1, 12, 12]).to(device);
  const targets = torch.randn([steps, n, 2, 12, 12]).to(device);
  const losses = [];
  /** @type {Record<string, Tensor>} */
  const tensors = {};
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad();
    const input = tiles.select(0, step).narrow(0, r, 1);
    const target = targets.select(0, step).narrow(0, r, 1);
    const loss = torch.tidy(() => {
      const difference = /** @type {Tensor} */ (wrapped.forward(input)).sub(target);
      return torch.keep(difference.mul(difference).mean());
    });
    loss.backward();
    losses.push(loss.item());
    if (step === steps - 1)
      for (const [name, p] of model.namedParameters()) tensors[`grad.${name}`] = /** @type {Tensor} */ (p.grad).clone().cpu();
    optimizer.step();
  }
  for (const [name, p] of model.namedParameters()) tensors[`weight.${name}`] = p.detach().clone().cpu();
  if (outFile) saveSafetensors(outFile, tensors);
  return { rank: r, losses };
}

/** dist-harness.js's training scenario over the built library. */
const trainingSetup = () => harnessTrainingSetup({ torch, unet, UNet, syntheticCells, normaliseImage, prepareSamples });

/** train() across the ranks into OUT (argument 4): `train STEPS [resume]`. */
async function training() {
  const [steps, resume] = process.argv.slice(6);
  const { model, train, validation } = trainingSetup();
  const result = await runTraining({
    model,
    train,
    validation,
    validationTileSize: model.inputSizeFor(64),
    steps: Number(steps),
    stepsPerEpoch: 3,
    tileSize: model.inputSizeFor(40),
    optimizer: 'adam',
    calibrate: false,
    outDir: outFile,
    resume: resume === 'resume',
    processGroup: d.defaultProcessGroup() ?? undefined,
  });
  const validationLosses = result.history.map((entry) => entry.validation?.loss);
  return { rank: d.getRank(), step: result.step, losses: result.losses, validationLosses };
}

/** SyncBatchNorm on this rank's half of a batch of 2: output, input gradient, its weight and bias gradients, running statistics. */
function syncBatchNorm() {
  const r = d.getRank();
  torch.manualSeed(3);
  const x = torch.randn([2, 3, 5, 5]).mul(2).add(1);
  const probe = torch.randn([2, 3, 5, 5]);
  const norm = new nn.SyncBatchNorm(3);
  torch.manualSeed(4);
  torch.noGrad(() => {
    /** @type {Tensor} */ (norm.weight).copy_(torch.rand([3]).add(0.5));
    /** @type {Tensor} */ (norm.bias).copy_(torch.randn([3]));
  });
  const mine = x.narrow(0, r, 1).detach().requiresGrad_(true);
  const y = norm.forward(mine);
  y.mul(probe.narrow(0, r, 1))
    .sum()
    .backward();
  // Every one of them is set after the backward pass above.
  const saved = /** @type {Record<string, Tensor>} */ ({
    y: y.detach(),
    inputGrad: mine.grad,
    weightGrad: /** @type {Tensor} */ (norm.weight).grad,
    biasGrad: /** @type {Tensor} */ (norm.bias).grad,
    runningMean: norm.runningMean,
    runningVar: norm.runningVar,
  });
  saveSafetensors(String(outFile), saved);
  return { rank: r };
}

async function main() {
  if (scenario === 'unreachable') {
    // Nobody listens on PORT: the rendezvous must fail within its timeout, naming the address.
    await init(1500);
    return { rank: d.getRank() };
  }
  await init();
  if (scenario === 'collectives') return collectives();
  if (scenario === 'ddp') return ddp();
  if (scenario === 'train') return training();
  if (scenario === 'syncbn') return syncBatchNorm();
  if (scenario === 'mismatch') {
    // Rank 1 wraps a network with another shape.
    const model = d.getRank() === 0 ? network() : new nn.Sequential(new nn.Conv2d(1, 5, 3));
    new nn.parallel.DistributedDataParallel(model);
    return { rank: d.getRank() };
  }
  if (scenario === 'killed') {
    // Rank 1 dies after the rendezvous; rank 0's next collective must fail, not wait forever.
    if (d.getRank() === 1) process.exit(3);
    const started = Date.now();
    try {
      for (;;) await d.allReduce(torch.ones([4]));
    } catch (error) {
      return { rank: 0, error: String(/** @type {Error} */ (error).message), seconds: (Date.now() - started) / 1000 };
    }
  }
  throw new Error(`unknown scenario '${scenario}'`);
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (d.isInitialized()) d.destroyProcessGroup();
  },
  (error) => {
    process.stdout.write(`${JSON.stringify({ error: String(error.message) })}\n`);
    process.exitCode = 1;
  },
);
