// torch.distributed on c10d, over loopback: every collective between two Node ranks against values
// computed by hand; a Node rank and a PyTorch rank in one group (collectives and
// DistributedDataParallel training, bit for bit); DDP with 2 ranks × 1 tile against one process
// with a batch of 2; torchrun launching Node ranks; a killed rank, an unreachable store and
// mismatched models fail with clear errors within the timeout; where a GPU and the NCCL backend
// are, the collectives and DDP over NCCL with one rank per GPU.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { nn, optim, runTraining, syntheticCells, torch, UNet, unet } from '../lib';
import { launchPlan, rankEnvironment, rankShare } from '../lib/cli/launch';
import { main } from '../lib/cli/main';
import { normaliseImage, prepareSamples, type TrainingSample } from '../lib/data/dataset';
import { localDevice, localRank, ProcessGroup, resolveRendezvous } from '../lib/distributed';
import { loadSafetensors } from '../lib/io/safetensors';
import { predictProbabilities } from '../lib/predict';
import { loadTrainedModel } from '../lib/unet/model-files';
import { packageRoot } from '../lib/package-root';
import { referencePython } from './support/python';
// Plain JS shared with bench/gpu.js, which checks NCCL on a GPU machine without jest.
const {
  ddpDifference,
  expectedCollectives: expectedFor,
  freePort,
  oneProcessDdp,
  runRank,
  trainingSetup: harnessTrainingSetup,
} = require('./support/dist-harness.js');

const RANK_SCRIPT = path.join(__dirname, 'support', 'dist-rank.js');

let folder: string;
beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-distributed-'));
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const nodeRank = (scenario: string, rank: number, port: number, ...rest: string[]) =>
  runRank(process.execPath, [RANK_SCRIPT, scenario, String(rank), String(port), ...rest]);
const pythonRank = (scenario: string, rank: number, port: number, ...rest: string[]) =>
  runRank(referencePython(), ['-m', 'reference.distributed_rank', scenario, String(rank), String(port), ...rest]);

/** How a rank ended, with what it said when it failed: `{ code: 0, signal: null, stderr: '' }` when it did not. */
const ending = (result: { code: number | null; signal: string | null; output: Record<string, unknown>; stderr: string }) => ({
  code: result.code,
  signal: result.signal,
  error: result.output.error,
  stderr: result.code === 0 ? '' : result.stderr.slice(-4000),
});
const CLEAN_EXIT = { code: 0, signal: null, stderr: '' };

/** The collectives of dist-rank.js, as computed by hand for ranks 0 and 1. */
function expectedCollectives(rank: number) {
  return {
    rank,
    worldSize: 2,
    sum: [3, 30], // [1 + 2, 10 + 20]
    avg: [1.5, 15],
    min: [1, 9], // [min(1, 2), min(10, 9)]
    max: [2, 10],
    product: [6, 9], // [2 · 3, 3 · 3]
    broadcast: [1, 1.25], // rank 1's [r, r + 0.25]
    allGather: [
      [0, 0.5],
      [1, 1.5],
    ],
    // rank r receives the sum of every rank's inputs[r]: [1, 2] + [1, 2], or [3, 4] + [4, 4]
    reduceScatter: rank === 0 ? [2, 4] : [7, 8],
  };
}

describe('torch.distributed over Gloo', () => {
  test('two Node ranks: every collective gives the values computed by hand', async () => {
    const port = await freePort();
    const results = await Promise.all([nodeRank('collectives', 0, port), nodeRank('collectives', 1, port)]);
    for (const [rank, result] of results.entries()) {
      expect(result.code).toBe(0);
      expect(result.output).toEqual(expectedCollectives(rank));
    }
  });

  test.each([
    ['a Node rank hosting the store, a PyTorch rank joining it', 'node'],
    ['a PyTorch rank hosting the store, a Node rank joining it', 'python'],
  ])('%s: one group, the same collectives, equal results', async (_, host) => {
    const port = await freePort();
    const [zero, one] = host === 'node' ? [nodeRank, pythonRank] : [pythonRank, nodeRank];
    const results = await Promise.all([zero('collectives', 0, port), one('collectives', 1, port)]);
    for (const [rank, result] of results.entries()) {
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.output).toEqual(expectedCollectives(rank));
    }
  });

  test('DistributedDataParallel: a Node rank and a PyTorch rank train together, bit for bit as two Node ranks', async () => {
    const files = ['node0', 'python1', 'alone0', 'alone1'].map((name) => path.join(folder, `${name}.safetensors`));
    const mixedPort = await freePort();
    const mixed = await Promise.all([nodeRank('ddp', 0, mixedPort, files[0]!), pythonRank('ddp', 1, mixedPort, files[1]!)]);
    const alonePort = await freePort();
    const alone = await Promise.all([nodeRank('ddp', 0, alonePort, files[2]!), nodeRank('ddp', 1, alonePort, files[3]!)]);
    for (const result of [...mixed, ...alone]) expect(ending(result)).toEqual(CLEAN_EXIT);
    // Each rank's own losses are equal whoever its peer is; every replica ends with the same weights.
    expect(mixed[0]!.output.losses).toEqual(alone[0]!.output.losses);
    expect(mixed[1]!.output.losses).toEqual(alone[1]!.output.losses);
    const [node0, python1, alone0, alone1] = files.map((file) => loadSafetensors(file).tensors);
    for (const name of Object.keys(node0!)) {
      for (const other of [python1, alone0, alone1]) expect(torch.equal(node0![name]!, other![name]!)).toBe(true);
    }
  });

  test('DDP with 2 ranks × 1 tile equals one process with a batch of 2 tiles over 10 steps: losses, gradients and weights', async () => {
    const port = await freePort();
    const files = [0, 1].map((rank) => path.join(folder, `ddp${rank}.safetensors`));
    const ranks = await Promise.all([nodeRank('ddp', 0, port, files[0]!), nodeRank('ddp', 1, port, files[1]!)]);
    for (const result of ranks) expect(ending(result)).toEqual(CLEAN_EXIT);
    const alone = oneProcessDdp({ torch, nn, optim }, 2);
    const rankLosses = ranks.map((result) => result.output.losses as number[]);
    expect(ddpDifference(loadSafetensors, rankLosses, files, alone)).toBeLessThan(1e-6);
  });

  test('torchrun --no-python launches Node ranks: env:// joins the store of its agent', async () => {
    const port = await freePort();
    const torchrun = path.join(path.dirname(referencePython()), 'torchrun');
    const args = ['--nnodes', '1', '--nproc-per-node', '2', '--master-addr', '127.0.0.1', '--master-port', String(port)];
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(torchrun, [...args, '--no-python', process.execPath, RANK_SCRIPT, 'collectives'], { cwd: packageRoot });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    const outputs = result.stdout
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { rank: number })
      .sort((a, b) => a.rank - b.rank);
    expect(outputs).toEqual([expectedCollectives(0), expectedCollectives(1)]);
  });
});

describe('torch.distributed over NCCL', () => {
  // As many ranks as GPUs (one GPU: a group of one), rank r on cuda:r; only where CUDA and a build
  // with NCCL are (scripts/gpu-check.sh runs the same checks through bench/gpu.js).
  const gpus = torch.cuda.isAvailable() ? torch.cuda.deviceCount() : 0;
  const ncclTest = gpus > 0 && torch.distributed.isNcclAvailable() ? test : test.skip;
  const ncclRank = (scenario: string, rank: number, port: number, ...rest: string[]) =>
    runRank(process.execPath, [RANK_SCRIPT, scenario, String(rank), String(port), ...rest], {
      ...process.env,
      DIST_BACKEND: 'nccl',
      DIST_WORLD_SIZE: String(gpus),
    });

  test('the values of N ranks are those computed by hand for 2 ranks', () => {
    for (const rank of [0, 1]) expect(expectedFor(rank, 2)).toEqual(expectedCollectives(rank));
  });

  ncclTest('every collective on CUDA tensors gives the values computed by hand', async () => {
    const port = await freePort();
    const results = await Promise.all(Array.from({ length: gpus }, (_, rank) => ncclRank('collectives', rank, port)));
    for (const [rank, result] of results.entries()) {
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
      expect(result.output).toEqual(expectedFor(rank, gpus));
    }
  });

  ncclTest('DDP with N ranks × 1 tile equals one process with a batch of N tiles on the GPU', async () => {
    const port = await freePort();
    const files = Array.from({ length: gpus }, (_, rank) => path.join(folder, `nccl-ddp${rank}.safetensors`));
    const ranks = await Promise.all(files.map((file, rank) => ncclRank('ddp', rank, port, file)));
    for (const result of ranks) expect(ending(result)).toEqual(CLEAN_EXIT);
    const alone = oneProcessDdp({ torch, nn, optim }, gpus, 'cuda:0');
    const rankLosses = ranks.map((result) => result.output.losses as number[]);
    expect(ddpDifference(loadSafetensors, rankLosses, files, alone)).toBeLessThan(1e-5);
  });

  test("CUDA devices take NCCL where the build has it; without it 'nccl' is refused by name, without a GPU it fails as in PyTorch", async () => {
    expect(torch.distributed.backendFor('cpu')).toBe('gloo');
    expect(torch.distributed.backendFor('cuda:1')).toBe(torch.distributed.isNcclAvailable() ? 'nccl' : 'gloo');
    const options = { initMethod: `tcp://127.0.0.1:${await freePort()}`, rank: 0, worldSize: 1, timeout: 5000 };
    const joining = torch.distributed.initProcessGroup({ backend: 'nccl', ...options });
    if (!torch.distributed.isNcclAvailable()) {
      await expect(joining).rejects.toThrow(
        /initProcessGroup\(\): backend 'nccl' is not in this build: it is built at install against a CUDA libtorch/,
      );
    } else if (gpus === 0) {
      await expect(joining).rejects.toThrow(/could not join the nccl group .*ProcessGroupNCCL is only supported with GPUs, no GPUs found/);
    } else {
      expect((await joining).backend).toBe('nccl');
      torch.distributed.destroyProcessGroup();
    }
    expect(torch.distributed.isInitialized()).toBe(false);
  });
});

describe('SyncBatchNorm', () => {
  test('2 ranks × 1 image normalise as one process with a batch of 2: outputs, gradients and running statistics', async () => {
    const port = await freePort();
    const files = [0, 1].map((rank) => path.join(folder, `syncbn${rank}.safetensors`));
    const ranks = await Promise.all([nodeRank('syncbn', 0, port, files[0]!), nodeRank('syncbn', 1, port, files[1]!)]);
    for (const result of ranks) expect(ending(result)).toEqual(CLEAN_EXIT);
    const [a, b] = files.map((file) => loadSafetensors(file).tensors);
    // One process, the whole batch, plain BatchNorm2d.
    torch.manualSeed(3);
    const x = torch.randn([2, 3, 5, 5]).mul(2).add(1).requiresGrad_(true);
    const probe = torch.randn([2, 3, 5, 5]);
    const norm = new nn.BatchNorm2d(3);
    torch.manualSeed(4);
    torch.noGrad(() => {
      norm.weight!.copy_(torch.rand([3]).add(0.5));
      norm.bias!.copy_(torch.randn([3]));
    });
    const y = norm.forward(x);
    y.mul(probe).sum().backward();
    const close = (p: ReturnType<typeof torch.zeros>, q: ReturnType<typeof torch.zeros>) => p.sub(q).abs().max().item() as number;
    expect(close(torch.cat([a!.y!, b!.y!]), y.detach())).toBeLessThan(1e-5);
    expect(close(torch.cat([a!.inputGrad!, b!.inputGrad!]), x.grad!)).toBeLessThan(1e-5);
    // Each rank's weight gradient is its own images' share; DDP then averages them.
    expect(close(a!.weightGrad!.add(b!.weightGrad!), norm.weight!.grad!)).toBeLessThan(1e-5);
    expect(close(a!.biasGrad!.add(b!.biasGrad!), norm.bias!.grad!)).toBeLessThan(1e-5);
    for (const stats of [a!, b!]) {
      expect(close(stats.runningMean!, norm.runningMean!)).toBeLessThan(1e-6);
      expect(close(stats.runningVar!, norm.runningVar!)).toBeLessThan(1e-6);
    }
  });
});

describe('train() across ranks', () => {
  /** The ranks' training scenario (dist-harness.js) over this library. */
  const trainingSetup = (): { model: UNet; train: TrainingSample[]; validation: TrainingSample[] } =>
    harnessTrainingSetup({ torch, unet, UNet, syntheticCells, normaliseImage, prepareSamples });
  const trainRanks = async (out: string, steps: number, resume = false) => {
    const port = await freePort();
    const extra = [out, String(steps), ...(resume ? ['resume'] : [])];
    const ranks = await Promise.all([nodeRank('train', 0, port, ...extra), nodeRank('train', 1, port, ...extra)]);
    for (const result of ranks) expect(ending(result)).toEqual(CLEAN_EXIT);
    return ranks.map((result) => result.output as { step: number; losses: number[]; validationLosses: number[] });
  };
  const finalWeights = (run: string) => loadSafetensors(path.join(run, 'final.safetensors')).tensors;

  test('2 ranks × 1 tile train as one process accumulating 2 tiles: losses, validation and weights; only rank 0 writes', async () => {
    const run = path.join(folder, 'ranks');
    const ranks = await trainRanks(run, 6);
    // Every rank reports the agreed loss and the same validation.
    expect({ ...ranks[1], rank: 0 }).toEqual({ ...ranks[0], rank: 0 });
    const { model, train, validation } = trainingSetup();
    const previousThreads = torch.getNumThreads();
    torch.setNumThreads(1);
    const one = await runTraining({
      model,
      train,
      validation,
      validationTileSize: model.inputSizeFor(64),
      steps: 6,
      stepsPerEpoch: 3,
      tileSize: model.inputSizeFor(40),
      optimizer: 'adam',
      calibrate: false,
      accumulate: 2,
      outDir: path.join(folder, 'one'),
    });
    torch.setNumThreads(previousThreads);
    for (const [k, loss] of one.losses.entries()) expect(Math.abs(loss - ranks[0]!.losses[k]!)).toBeLessThan(1e-6);
    for (const [k, entry] of one.history.entries())
      expect(Math.abs(entry.validation!.loss - ranks[0]!.validationLosses[k]!)).toBeLessThan(1e-6);
    const saved = finalWeights(run);
    for (const [name, p] of model.namedParameters()) expect(saved[name]!.sub(p).abs().max().item()).toBeLessThan(1e-6);
    expect(fs.readdirSync(run).sort()).toEqual([
      'best.safetensors',
      'checkpoint.pt',
      'curves.png',
      'final.safetensors',
      'metrics.jsonl',
      'model.json',
    ]);
    expect(fs.readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n')).toHaveLength(6 + 2); // 6 steps, 2 epochs, once
    model.dispose();
  });

  test('a group over NCCL with a model on the CPU is refused before the first collective', async () => {
    const { model, train, validation } = trainingSetup();
    // No NCCL group can start without a GPU; the check reads only the group's backend.
    const ncclGroup = new ProcessGroup(null, 0, 2, 'nccl');
    await expect(runTraining({ model, train, validation, steps: 1, processGroup: ncclGroup })).rejects.toThrow(
      /train\(\): option 'processGroup' runs over NCCL, which needs a CUDA device, got device 'cpu'/,
    );
    model.dispose();
  });

  test('a 2-rank checkpoint resumes exactly in 2 ranks, is refused by 1 process, and predicts in 1 process', async () => {
    const whole = path.join(folder, 'whole');
    const parts = path.join(folder, 'resumed');
    const straight = await trainRanks(whole, 6);
    await trainRanks(parts, 3);
    const resumed = await trainRanks(parts, 6, true);
    expect(resumed[0]!.step).toBe(6);
    // Every rank returns the whole run's losses, those before the resumption included.
    for (const rank of [0, 1]) expect(resumed[rank]!.losses).toEqual(straight[0]!.losses);
    const [a, b] = [finalWeights(whole), finalWeights(parts)];
    for (const name of Object.keys(a)) expect(torch.equal(a[name]!, b[name]!)).toBe(true);

    const { model, train } = trainingSetup();
    await expect(
      runTraining({
        model,
        train,
        validationTileSize: model.inputSizeFor(64),
        steps: 6,
        stepsPerEpoch: 3,
        tileSize: model.inputSizeFor(40),
        optimizer: 'adam',
        outDir: parts,
        resume: true,
      }),
    ).rejects.toThrow(/checkpoint.pt is from a different run: 'worldSize' was 2 in the checkpoint, 1 now/);
    model.dispose();

    const trained = loadTrainedModel(parts);
    const probabilities = predictProbabilities(trained.model, train[0]!.image, { tileSize: trained.model.inputSizeFor(64) });
    expect(probabilities.shape).toEqual([2, 64, 64]);
    expect(probabilities.sum(0).sub(1).abs().max().item()).toBeLessThan(1e-5);
    trained.model.dispose();
  });

  test('unet train --nproc-per-node 2 starts two ranks that train one model; unet predict then runs in one process', async () => {
    const run = path.join(folder, 'cli');
    const cli = path.join(packageRoot, 'dist', 'cli', 'main.js');
    const port = String(await freePort());
    const data = path.join(packageRoot, 'examples', 'dsb2018', 'train');
    const args = [cli, 'train', '--data', data, '--out', run, '--tile', '188', '--val-tile', '252', '--steps', '4', '--epoch-steps', '2'];
    const result = await runRank(process.execPath, [...args, '--nproc-per-node', '2', '--master-port', port]);
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stderr).toMatch(/starting 2 rank\(s\) on node 0 of 1 \(world size 2/);
    expect(result.stderr).toMatch(/device cpu, 2 ranks over gloo/);
    expect(result.stderr.match(/step 4\/4/g)).toHaveLength(1); // rank 0 alone prints
    const image = path.join(data, 'images', fs.readdirSync(path.join(data, 'images'))[0]!);
    expect(await main(['predict', '--model', run, '--out', path.join(folder, 'cli-out'), image])).toBe(0);
    expect(fs.readdirSync(path.join(folder, 'cli-out')).length).toBeGreaterThan(0);
  });
});

describe('unet predict across ranks', () => {
  test('--nproc-per-node 2 splits the images over two ranks; every output equals one process at the same thread count, byte for byte', async () => {
    const cli = path.join(packageRoot, 'dist', 'cli', 'main.js');
    const images = path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images');
    const [one, two] = [path.join(folder, 'predict-one'), path.join(folder, 'predict-two')];
    const port = String(await freePort());
    const single = await runRank(process.execPath, [cli, 'predict', '--model', 'nuclei', '--out', one, '--threads', '1', images]);
    // The launcher gives each of the 2 ranks OMP_NUM_THREADS = cores / 2 unless it is set.
    const env = { ...process.env, OMP_NUM_THREADS: '1' };
    const ranks = await runRank(
      process.execPath,
      [cli, 'predict', '--model', 'nuclei', '--out', two, images, '--nproc-per-node', '2', '--master-port', port],
      env,
    );
    for (const result of [single, ranks])
      expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' });
    const files = fs.readdirSync(one).sort();
    expect(files).toHaveLength(3 * fs.readdirSync(images).length);
    expect(fs.readdirSync(two).sort()).toEqual(files);
    for (const file of files) expect(fs.readFileSync(path.join(two, file)).equals(fs.readFileSync(path.join(one, file)))).toBe(true);
  });
});

describe('faults: clear errors within the timeout, never a hang', () => {
  test('a rank that dies makes the survivor fail at its next collective', async () => {
    const port = await freePort();
    const [survivor, killed] = await Promise.all([nodeRank('killed', 0, port), nodeRank('killed', 1, port)]);
    expect(killed.code).toBe(3);
    expect(survivor.code).toBe(0);
    expect(survivor.output.error).toMatch(/distAllReduce\(\): .*Connection closed by peer/);
    expect(survivor.output.seconds).toBeLessThan(20); // the group's timeout
  });

  test('an unreachable store is named, with the rank, after the timeout', async () => {
    const port = await freePort();
    const result = await nodeRank('unreachable', 1, port);
    expect(result.code).toBe(1);
    expect(result.output.error).toMatch(
      new RegExp(
        `initProcessGroup\\(\\): rank 1 of 2 could not join the gloo group through the store at 127\\.0\\.0\\.1:${port}: .*timed out after 1500ms`,
      ),
    );
  });

  test('ranks wrapping different models are refused when they wrap', async () => {
    const port = await freePort();
    const results = await Promise.all([nodeRank('mismatch', 0, port), nodeRank('mismatch', 1, port)]);
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.output.error).toMatch(/ddpVerifyParameters\(\): DDP expects same model across all ranks/);
    }
  });
});

describe('the rendezvous', () => {
  const env = { MASTER_ADDR: 'node0', MASTER_PORT: '29500', RANK: '3', WORLD_SIZE: '4' };
  test("env:// reads torchrun's variables, and the agent's store under torchrun", () => {
    expect(resolveRendezvous({}, env)).toEqual({ host: 'node0', port: 29500, rank: 3, worldSize: 4, agentStore: false });
    expect(resolveRendezvous({ rank: 1, worldSize: 2 }, { ...env, TORCHELASTIC_USE_AGENT_STORE: 'True' })).toEqual({
      host: 'node0',
      port: 29500,
      rank: 1,
      worldSize: 2,
      agentStore: true,
    });
  });
  test('tcp:// takes the rank and world size from the options or the URL', () => {
    expect(resolveRendezvous({ initMethod: 'tcp://10.0.0.1:1234', rank: 0, worldSize: 2 }, {})).toEqual({
      host: '10.0.0.1',
      port: 1234,
      rank: 0,
      worldSize: 2,
      agentStore: false,
    });
    expect(resolveRendezvous({ initMethod: 'tcp://[::1]:80?rank=1&world_size=3' }, env)).toMatchObject({
      host: '::1',
      rank: 1,
      worldSize: 3,
    });
  });
  test('what is missing or wrong is named', () => {
    expect(() => resolveRendezvous({}, {})).toThrow(
      /'env:\/\/' needs the environment variables MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE/,
    );
    expect(() => resolveRendezvous({}, { ...env, MASTER_PORT: 'x' })).toThrow(/MASTER_PORT must be an integer >= 0, got "x"/);
    expect(() => resolveRendezvous({ initMethod: 'tcp://host', rank: 0, worldSize: 1 }, {})).toThrow(/names no port/);
    expect(() => resolveRendezvous({ initMethod: 'tcp://host:1' }, {})).toThrow(/needs the options 'rank' and 'worldSize'/);
    expect(() => resolveRendezvous({ initMethod: 'file:///tmp/x' }, {})).toThrow(/must be 'env:\/\/' or 'tcp:\/\/host:port'/);
    expect(() => resolveRendezvous({ rank: 4 }, env)).toThrow(/rank 4 is not below the world size 4/);
    // The local rank and device: from LOCAL_RANK, and bad arguments named (the fuzzer found null).
    expect([
      localRank({}),
      localRank({ LOCAL_RANK: '3' }),
      localDevice('cuda', { LOCAL_RANK: '1' }),
      localDevice('cpu', { LOCAL_RANK: '1' }),
    ]).toEqual([0, 3, 'cuda:1', 'cpu']);
    expect(() => localRank({ LOCAL_RANK: '-1' })).toThrow(/LOCAL_RANK must be an integer >= 0, got '-1'/);
    expect(() => localRank(null as never)).toThrow(/localRank\(\): argument 'env' must be an object, got null/);
    expect(() => localDevice(5 as never)).toThrow(/localDevice\(\): argument 'device' must be a string, got number/);
    expect(() => localDevice('cuda', null as never)).toThrow(/localDevice\(\): argument 'env' must be an object, got null/);
  });
  test("the launcher sets torchrun's variables for each local rank; a rank ignores the launch flags", () => {
    const plan = launchPlan({ 'nproc-per-node': '4', nnodes: '2', 'node-rank': '1', 'master-addr': '10.0.0.1' }, {});
    expect(plan).toEqual({ nprocPerNode: 4, nnodes: 2, nodeRank: 1, masterAddr: '10.0.0.1', masterPort: 29500 });
    expect(rankEnvironment(plan!, 2, { OMP_NUM_THREADS: '3' })).toEqual({
      OMP_NUM_THREADS: '3',
      RANK: '6',
      LOCAL_RANK: '2',
      GROUP_RANK: '1',
      WORLD_SIZE: '8',
      LOCAL_WORLD_SIZE: '4',
      MASTER_ADDR: '10.0.0.1',
      MASTER_PORT: '29500',
    });
    expect(launchPlan({ 'nproc-per-node': '2' }, { RANK: '0' })).toBeNull();
    expect(launchPlan({}, {})).toBeNull();
    expect(() => launchPlan({ nnodes: '2' }, {})).toThrow(/--nnodes needs --nproc-per-node/);
    expect(() => launchPlan({ 'nproc-per-node': '2', nnodes: '2', 'node-rank': '2' }, {})).toThrow(
      /--node-rank must be from 0 to 1, got 2/,
    );
    expect(() => launchPlan({ 'nproc-per-node': '0' }, {})).toThrow(/--nproc-per-node must be at least 1/);
    expect(rankShare([0, 1, 2, 3, 4], { RANK: '1', WORLD_SIZE: '2' })).toEqual([1, 3]);
    expect(rankShare([0, 1, 2], {})).toEqual([0, 1, 2]);
    expect(() => rankShare([0], { RANK: '2', WORLD_SIZE: '2' })).toThrow(/0 <= RANK < WORLD_SIZE/);
  });
  test('collectives before initProcessGroup say what to call', async () => {
    await expect(torch.distributed.allReduce(torch.ones([1]))).rejects.toThrow(
      /allReduce\(\): the default process group is not initialised: call initProcessGroup\(\) first/,
    );
    expect(() => new nn.parallel.DistributedDataParallel(new nn.Linear(1, 1))).toThrow(
      /DistributedDataParallel\(\): the default process group is not initialised/,
    );
    // What is wrapped is checked first, and named as every module argument is.
    expect(() => new nn.parallel.DistributedDataParallel({ forward: () => null } as never)).toThrow(
      "DistributedDataParallel(): argument 'module' must be a Module, got an object",
    );
  });
});
