'use strict';
// One rank of bench/distributed.js: `node distributed-rank.js MODE RANK WORLD PORT THREADS`.
// MODE ddp: milliseconds per DistributedDataParallel training step of the compact U-Net (one tile
// per rank); allreduce: milliseconds per all-reduce of the paper network's parameter count in
// float32. Prints the best of three rounds as JSON (rank 0).
const { torch, createUNet, nn, optim } = require('../dist/index.js');

const [mode, rankText, worldText, port, threads] = process.argv.slice(2);
const TILE = 188;
const STEPS = 8;
const PAPER_PARAMETERS = 31_030_658;

async function main() {
  torch.setNumThreads(Number(threads));
  const d = torch.distributed;
  const worldSize = Number(worldText);
  const rank = Number(rankText);
  if (worldSize > 1) await d.initProcessGroup({ initMethod: `tcp://127.0.0.1:${port}`, rank, worldSize });
  let step;
  if (mode === 'allreduce') {
    const flat = torch.ones([PAPER_PARAMETERS]);
    step = async () => d.allReduce(flat);
  } else {
    torch.manualSeed(0);
    const model = createUNet('compact');
    const wrapped = worldSize > 1 ? new nn.parallel.DistributedDataParallel(model) : model;
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.99 });
    const x = torch.randn([1, 1, TILE, TILE]);
    const size = model.outputSize(TILE);
    const target = torch.randint(0, 2, [1, size, size]);
    step = async () => {
      optimizer.zeroGrad();
      torch.tidy(() => torch.nn.functional.crossEntropy(/** @type {import('../dist').Tensor} */ (wrapped.forward(x)), target).backward());
      optimizer.step();
    };
  }
  await step(); // warm-up (and DDP's bucket rebuild)
  await step();
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const start = process.hrtime.bigint();
    for (let k = 0; k < STEPS; k++) await step();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6 / STEPS);
  }
  if (rank === 0) process.stdout.write(`${JSON.stringify({ msPerStep: best })}\n`);
  if (worldSize > 1) d.destroyProcessGroup();
}
main();
