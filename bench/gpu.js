'use strict';
// The CUDA path on a GPU: CPU and CUDA results side by side (U-Net forward and gradients,
// augmentation, overlap-tile prediction), CUDA out-of-memory handling, torch.distributed over NCCL
// (the checks of test/distributed.test.ts, which a GPU machine without jest cannot run), the
// addon's CUDA kernels (fields against the CPU's, the fused remap against torch ops), the training
// step captured in a CUDA graph against eager, train() with and without option cudaGraphs, where a
// training step's time goes (each phase alone), train() of the paper's preset with and without AMP
// and with batches prepared ahead or when taken against the loops a PyTorch user would write, and
// the U-Net's forward pass and training step and overlap-tile prediction in float32 and float16,
// against the PyTorch reference on the same card.
// Run by scripts/gpu-check.sh; prints Markdown tables.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { isDeepStrictEqual } = require('node:util');
const { execFileSync } = require('node:child_process');
const {
  torch,
  augment,
  createUNet,
  predictLogits,
  predictProbabilities,
  runTraining,
  syntheticCells,
  prepareSamples,
} = require('../dist/index.js');
const { normaliseImage } = require('../dist/data/dataset.js');
const { resampleTargets, resampleWithTorchOps } = require('../dist/augment/resample.js');
const { PAPER_AUGMENTATION } = require('../dist/train/recipes.js');
const { sampleTiles } = require('../dist/train/tiles.js');
const { weightedLoss } = require('../dist/weightmap/loss.js');
const { loadSafetensors } = require('../dist/io/safetensors.js');
const { saveNpy } = require('../dist/io/npy.js');
const { augmentSamplesPerSecond, crossEntropyStep, printTable } = require('./support');
const { ddpDifference, expectedCollectives, freePort, oneProcessDdp, runRank } = require('../test/support/dist-harness.js');

const F = torch.nn.functional;
const maxAbs = (a, b) => torch.tidy(() => a.cpu().sub(b.cpu()).abs().max().item());
const scaleOf = (a) => torch.tidy(() => a.cpu().abs().max().item());

// GPU_SECTIONS (comma-separated keys, as the calls below name them) runs fewer sections: a lent
// GPU's minutes are few, and a later call may need only what an earlier one missed.
const SECTIONS = ['results', 'oom', 'nccl', 'kernels', 'graphs', 'graphed-train', 'augment', 'profile', 'train', 'predict', 'unet'];
const chosen = (process.env.GPU_SECTIONS ?? SECTIONS.join(',')).split(',').filter((key) => key !== '');
const unknown = chosen.filter((key) => !SECTIONS.includes(key));
if (unknown.length > 0) {
  console.error(`GPU_SECTIONS: unknown section(s) ${unknown.join(', ')}; the sections are ${SECTIONS.join(', ')}`);
  process.exit(2);
}

/**
 * Runs one section, unless GPU_SECTIONS leaves it out; a section that throws is reported and
 * makes the exit status 1, and the next one still runs.
 * @param {string} key @param {string} title @param {() => unknown} body
 */
async function section(key, title, body) {
  if (!chosen.includes(key)) return;
  console.log(`\n### ${title}\n`);
  try {
    await body();
  } catch (error) {
    console.log(`FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    process.exitCode = 1;
  }
}

section('results', 'CPU and CUDA results', () => {
  const rows = [];
  torch.tidy(() => {
    torch.manualSeed(0);
    const cpu = createUNet('compact');
    const gpu = createUNet('compact').to('cuda');
    gpu.loadStateDict(cpu.stateDict());
    // Drop-out off (its masks come from each device's generator); gradients still flow.
    cpu.eval();
    gpu.eval();
    const size = cpu.inputSizeFor(100);
    const x = torch.randn([2, 1, size, size]);
    const target = torch.randint(0, 2, [2, cpu.outputSize(size), cpu.outputSize(size)]);
    const logitsCpu = cpu.forward(x);
    const logitsGpu = gpu.forward(x.cuda());
    F.crossEntropy(logitsCpu, target).backward();
    F.crossEntropy(logitsGpu, target.cuda()).backward();
    rows.push(['compact U-Net logits (float32)', maxAbs(logitsCpu, logitsGpu).toExponential(2), scaleOf(logitsCpu).toFixed(3)]);
    let worst = 0;
    const gpuParameters = new Map(gpu.namedParameters());
    for (const [name, p] of cpu.namedParameters())
      worst = Math.max(worst, maxAbs(p.grad, gpuParameters.get(name)?.grad) / Math.max(scaleOf(p.grad), 1e-12));
    rows.push(['every gradient (max difference / max |grad|)', worst.toExponential(2), '1']);

    const { image, label } = syntheticCells(3, { height: 160, width: 144 });
    const weights = torch.rand([1, 160, 144]);
    /** @type {import('../dist/augment').AugmentBatchOptions} */
    const options = { rotation: 180, flip: true, scale: [0.9, 1.1], brightness: 0.1, contrast: 0.1 };
    const onCpu = augment.augmentBatch({ image: image.unsqueeze(0), label: label.unsqueeze(0), weights }, [7], options);
    const onGpu = augment.augmentBatch(
      { image: image.unsqueeze(0).cuda(), label: label.unsqueeze(0).cuda(), weights: weights.cuda() },
      [7],
      options,
    );
    rows.push(['augmentBatch image', maxAbs(onCpu.image, onGpu.image).toExponential(2), scaleOf(onCpu.image).toFixed(3)]);
    rows.push(['augmentBatch weight map', maxAbs(onCpu.weights, onGpu.weights).toExponential(2), scaleOf(onCpu.weights).toFixed(3)]);
    const differing =
      Number(
        onCpu.label
          ?.ne(onGpu.label?.cpu() ?? 0)
          .sum()
          .item(),
      ) / label.numel();
    rows.push(['augmentBatch labels (share of pixels differing)', differing.toExponential(2), '']);

    const picture = torch.randn([1, 300, 260]);
    const predicted = predictLogits(cpu, picture, { tileSize: cpu.inputSizeFor(128) });
    const predictedGpu = predictLogits(gpu, picture, { tileSize: cpu.inputSizeFor(128), device: 'cuda' });
    rows.push(['overlap-tile logits, 300×260 image', maxAbs(predicted, predictedGpu).toExponential(2), scaleOf(predicted).toFixed(3)]);
  });
  printTable(['quantity', 'max |CPU − CUDA|', 'max |value|'], rows);
});

section('oom', 'CUDA out of memory', () => {
  const rows = [];
  torch.tidy(() => {
    const earlier = torch.arange(0, 5).cuda();
    const before = torch.cuda.memoryAllocated();
    try {
      torch.empty([2 ** 45], { device: 'cuda' });
      rows.push(['empty([2^45]) on cuda', 'no error', '']);
    } catch (error) {
      rows.push([
        'empty([2^45]) on cuda',
        error instanceof Error ? `${error.name}: ${error.message.slice(0, 120)}…` : String(error),
        String(error instanceof torch.OutOfMemoryError),
      ]);
    }
    rows.push([
      'memory allocated before / after (bytes)',
      `${before} / ${torch.cuda.memoryAllocated()}`,
      String(earlier.add(1).sum().item() === 15),
    ]);
    const model = createUNet('compact').to('cuda');
    const tile = model.inputSizeFor(2 ** 15);
    try {
      predictLogits(model, torch.rand([1, 64, 64]), { tileSize: tile, device: 'cuda' });
      rows.push([`predict with ${tile}-pixel tiles`, 'no error', '']);
    } catch (error) {
      rows.push([
        `predict with ${tile}-pixel tiles`,
        error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}…` : String(error),
        String(error instanceof torch.OutOfMemoryError),
      ]);
    }
    torch.cuda.emptyCache();
    rows.push([
      'predict afterwards with 572 tiles',
      String(predictLogits(model, torch.rand([1, 64, 64]), { tileSize: 572, device: 'cuda' }).shape),
      'true',
    ]);
  });
  printTable(['case', 'result', 'as expected'], rows);
});

/** The two 600² synthetic cell images that train() and the profile both train on, as training samples. */
function syntheticTrainingSamples() {
  const raw = [1, 2].map((seed) => {
    const { image, label } = syntheticCells(seed, { height: 600, width: 600 });
    return { name: `cells${seed}`, image: normaliseImage(image), label };
  });
  return prepareSamples(raw, 'instances', 2);
}

/** @param {(args: string[]) => any} reference */
async function trainingRows(reference) {
  const samples = syntheticTrainingSamples();
  const rows = [];
  let ours = 0; // float32, batches prepared ahead: train()'s default on CUDA
  // Batches prepared one step ahead (train()'s default on CUDA) against prepared when taken.
  // And channels-last memory (NHWC convolutions), with and without AMP: issue 20 asks for both measured.
  const configurations = [
    { amp: false, prefetch: false, channelsLast: false },
    { amp: false, prefetch: true, channelsLast: false },
    { amp: true, prefetch: true, channelsLast: false },
    { amp: false, prefetch: true, channelsLast: true },
    { amp: true, prefetch: true, channelsLast: true },
  ];
  for (const { amp, prefetch, channelsLast } of configurations) {
    torch.manualSeed(0);
    const model = createUNet('ronneberger2015').to('cuda');
    torch.cuda.resetPeakMemoryStats();
    const baseline = torch.cuda.memoryAllocated();
    const losses = [];
    let rate = 0;
    const result = await runTraining({
      model,
      train: samples,
      steps: 30,
      tileSize: 572,
      device: 'cuda',
      amp,
      prefetch,
      channelsLast,
      augment: { rotation: 180, flip: true },
      onEvent: (event) => {
        if (event.type === 'step') {
          losses.push(event.loss);
          if (event.step === 10) rate = event.elapsedMs;
          if (event.step === 30) rate = 20 / ((event.elapsedMs - rate) / 1000);
        }
      },
    });
    if (!amp && prefetch && !channelsLast) ours = rate;
    rows.push([
      `${amp ? 'AMP (float16 autocast, GradScaler)' : 'float32'}${channelsLast ? ', channels-last' : ''}, batches ${prefetch ? 'prepared ahead' : 'prepared when taken'}`,
      String(result.step),
      rate.toFixed(2),
      ((torch.cuda.maxMemoryAllocated() - baseline) / 2 ** 20).toFixed(0),
      `${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}`,
    ]);
    torch.dispose([...model.parameters()]);
  }
  // The loops a PyTorch user would write on the same samples (reference/training_loop.py): scipy
  // augmentation in DataLoader workers, and torch-ops augmentation on the GPU.
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-gpu-samples-'));
  samples.forEach((sample, k) => {
    saveNpy(path.join(folder, `${k}.image.npy`), sample.image.squeeze(0));
    saveNpy(path.join(folder, `${k}.target.npy`), sample.target);
    saveNpy(path.join(folder, `${k}.weights.npy`), sample.weights);
  });
  const workers = Math.max(1, Math.min(8, os.availableParallelism() - 2));
  const pytorchLoop = (/** @type {string} */ augmentation, /** @type {string} */ label, count = workers) => {
    const theirs = reference(['train-loop', folder, 'ronneberger2015', '572', '30', augmentation, String(count)]);
    rows.push([label, '30', theirs.tilesPerSecond.toFixed(2), '', `… → ${theirs.lastLoss.toFixed(3)}`]);
    return /** @type {number} */ (theirs.tilesPerSecond);
  };
  const loaderRate = pytorchLoop('loader', `PyTorch loop, scipy augmentation in a DataLoader with ${workers} workers`);
  // On the H200's 16 cores the workers keep up with the network (2026-12-04); with the 2 workers
  // of a small host they may not, which is where preparing batches on the GPU pays.
  const fewWorkersRate = pytorchLoop('loader', 'PyTorch loop, scipy augmentation in a DataLoader with 2 workers', 2);
  const deviceRate = pytorchLoop('device', 'PyTorch loop, augmentation in torch ops on the GPU');
  fs.rmSync(folder, { recursive: true, force: true });
  printTable(
    ['train() of ronneberger2015, 572 tiles, augmentation', 'steps', 'tiles/s (steps 11–30)', 'peak GPU MB above the model', 'loss'],
    rows,
  );
  // Issue 20's targets: train() (float32, batches prepared ahead) against the bare step and the
  // DataLoader loop.
  const bare = 1000 / oursStepTimes('ronneberger2015', 572, 10).train.ms;
  console.log('');
  printTable(
    ['train() float32, prepared ahead, against', 'tiles/s', 'ratio', 'target'],
    [
      ['the bare training step (no data, no augmentation)', bare.toFixed(2), (ours / bare).toFixed(3), '>= 0.9'],
      ['the PyTorch DataLoader loop', loaderRate.toFixed(2), (ours / loaderRate).toFixed(3), '>= 1.5'],
      ['the PyTorch DataLoader loop with 2 workers', fewWorkersRate.toFixed(2), (ours / fewWorkersRate).toFixed(3), ''],
      ['the PyTorch loop with torch-ops augmentation', deviceRate.toFixed(2), (ours / deviceRate).toFixed(3), ''],
    ],
  );
}

// Issue 20's profile: each phase of a train() step of the paper's preset (572² tiles, one per
// step, the paper's augmentation, SGD) run alone between two synchronisations, so that a phase's
// time is its host work and the device's work together, with nothing overlapped. Against
// train()'s time per tile (the section above), the difference is what prefetching hides.
function profileRows() {
  const samples = syntheticTrainingSamples().map((sample) => ({
    ...sample,
    image: sample.image.cuda(),
    target: sample.target.cuda(),
    weights: sample.weights.cuda(),
  }));
  torch.manualSeed(0);
  const model = createUNet('ronneberger2015').to('cuda');
  model.train();
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.99 });
  /** @type {Map<string, number[]>} */
  const phases = new Map();
  const timed = (/** @type {string} */ name, /** @type {() => any} */ work) => {
    torch.cuda.synchronize();
    const start = performance.now();
    const result = work();
    torch.cuda.synchronize();
    phases.set(name, [...(phases.get(name) ?? []), performance.now() - start]);
    return result;
  };
  const kernels = augment.cudaResampling() === 'fused kernel';
  for (let step = 0; step < 25; step += 1) {
    if (step === 5) phases.clear(); // the first steps warm the allocator and cuDNN up
    torch.tidy(() => {
      const tiles = timed('tiles drawn and cut on the GPU, mirrored', () => sampleTiles(samples, 1, 572, new augment.SeededRandom(step)));
      const transforms = timed('transform drawn (host)', () => [augment.drawTransform(step, PAPER_AUGMENTATION)]);
      timed('(field composed on the CPU and copied, for comparison)', () => augment.transformField(transforms, 572, 572).cuda());
      const field = timed(`field composed on the GPU (${kernels ? 'our kernel' : 'no kernel: on the CPU, copied'})`, () =>
        augment.transformField(transforms, 572, 572, 'cuda'),
      );
      const [image, label, weights] = timed(`image, labels, weights resampled (${augment.cudaResampling()})`, () =>
        resampleTargets(field, [
          { input: tiles.image, mode: 'bicubic' },
          { input: tiles.target.unsqueeze(1), mode: 'nearest' },
          { input: tiles.weights.unsqueeze(1), mode: 'bilinear' },
        ]),
      );
      const input = timed('gray values', () => augment.adjustGray(image, transforms));
      optimizer.zeroGrad();
      const logits = timed('forward', () => model.forward(input));
      const loss = timed('weighted loss', () => weightedLoss(logits, label.squeeze(1), weights.squeeze(1)));
      timed('backward', () => loss.backward());
      timed('optimizer step (SGD, momentum 0.99)', () => optimizer.step());
    });
  }
  const means = [...phases].map(
    ([name, times]) => /** @type {[string, number]} */ ([name, times.reduce((a, b) => a + b, 0) / times.length]),
  );
  const total = means.filter(([name]) => !name.startsWith('(')).reduce((sum, [, ms]) => sum + ms, 0);
  printTable(
    ['phase of a step (ronneberger2015, 572², batch 1), synchronised', 'ms (mean of 20 steps)', 'share'],
    [
      ...means.map(([name, ms]) => [name, ms.toFixed(2), name.startsWith('(') ? '' : `${((100 * ms) / total).toFixed(1)} %`]),
      ['all phases one after the other', total.toFixed(2), '100 %'],
    ],
  );
  torch.dispose([...model.parameters(), ...samples.flatMap((sample) => [sample.image, sample.target, sample.weights])]);
}

/** @typedef {{ ms: number, peakMb: number }} Timing */
/** @typedef {{ forward: Timing, train: Timing, trainAmp: Timing }} StepTimes */
const CASES = /** @type {const} */ (['forward', 'train', 'trainAmp']);

/** Each case's best time of two sides' measurements (the peak memory of the newer). */
function bestOf(/** @type {StepTimes | null} */ before, /** @type {StepTimes} */ now) {
  if (before === null) return now;
  /** @type {(k: keyof StepTimes) => Timing} */
  const best = (k) => ({ ms: Math.min(now[k].ms, before[k].ms), peakMb: now[k].peakMb });
  return { forward: best('forward'), train: best('train'), trainAmp: best('trainAmp') };
}

// Peak GPU memory is counted above what was allocated before the model existed, as in the
// reference's fresh process.
/** @returns {StepTimes} */
function oursStepTimes(/** @type {import('../dist/unet').PresetName} */ preset, /** @type {number} */ size, /** @type {number} */ steps) {
  torch.manualSeed(0);
  const baseline = torch.cuda.memoryAllocated();
  const model = createUNet(preset).to('cuda');
  const out = model.outputSize(size);
  const x = torch.randn([1, 1, size, size], { device: 'cuda' });
  const target = torch.randint(0, 2, [1, out, out], { device: 'cuda' });
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.99 });
  const scaler = new torch.amp.GradScaler({ device: 'cuda' });
  const forward = () => {
    model.eval();
    torch.noGrad(() => torch.tidy(() => model.forward(x).sum().item()));
  };
  const train = (amp) => {
    model.train();
    crossEntropyStep({ model, optimizer, x, target, scaler: amp ? scaler : undefined });
  };
  /** @type {Partial<StepTimes>} */
  const results = {};
  /** @type {[keyof StepTimes, () => void][]} */
  const cases = [
    ['forward', forward],
    ['train', () => train(false)],
    ['trainAmp', () => train(true)],
  ];
  for (const [name, step] of cases) {
    step();
    step();
    torch.cuda.synchronize();
    torch.cuda.resetPeakMemoryStats();
    let best = Infinity;
    for (let k = 0; k < steps; k += 1) {
      const start = process.hrtime.bigint();
      step();
      torch.cuda.synchronize();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
    }
    results[name] = { ms: best, peakMb: (torch.cuda.maxMemoryAllocated() - baseline) / 2 ** 20 };
  }
  optimizer.zeroGrad();
  torch.dispose([...model.parameters(), x, target]);
  return /** @type {StepTimes} */ (results);
}

/**
 * Runs `ranks` ranks of test/support/dist-rank.js SCENARIO over NCCL, rank r on cuda:r (with
 * `files[r]` as its output file); resolves with each one's exit code, JSON line and stderr.
 * @param {string} scenario @param {number} ranks @param {string[]} [files]
 * @returns {Promise<import('../test/support/dist-harness.js').RankResult[]>}
 */
async function ncclRanks(scenario, ranks, files = []) {
  const port = await freePort();
  const script = path.join(__dirname, '..', 'test', 'support', 'dist-rank.js');
  const env = { ...process.env, DIST_BACKEND: 'nccl', DIST_WORLD_SIZE: String(ranks) };
  const args = (/** @type {number} */ rank) => [script, scenario, String(rank), String(port), ...(files[rank] ? [files[rank]] : [])];
  return Promise.all(Array.from({ length: ranks }, (_, rank) => runRank(process.execPath, args(rank), env, 120_000)));
}

/** torch.distributed over NCCL with one rank per GPU: the collectives and DDP, as the tests check them. */
async function ncclRows() {
  if (!torch.distributed.isNcclAvailable()) throw new Error(`the NCCL backend is not built: ${torch.info().ncclMissing}`);
  const gpus = torch.cuda.deviceCount();
  const failed = (/** @type {import('../test/support/dist-harness.js').RankResult} */ r) =>
    `exit ${r.code}: ${String(r.output.error ?? '')} ${r.stderr.slice(-600)}`;
  const rows = [];
  const collectives = await ncclRanks('collectives', gpus);
  const wrong = collectives.filter((r, rank) => r.code !== 0 || !isDeepStrictEqual(r.output, expectedCollectives(rank, gpus)));
  rows.push([
    `allReduce (sum, avg, min, max, product), broadcast, allGather, reduceScatter, barrier on CUDA tensors, ${gpus} rank(s)`,
    wrong.length === 0
      ? 'the values computed by hand'
      : `WRONG: ${wrong.map((r) => `${JSON.stringify(r.output)} ${failed(r)}`).join('; ')}`,
  ]);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'nccl-ddp-'));
  const files = Array.from({ length: gpus }, (_, rank) => path.join(folder, `rank${rank}.safetensors`));
  const ddp = await ncclRanks('ddp', gpus, files);
  const ddpFailed = ddp.filter((r) => r.code !== 0);
  let difference = NaN;
  if (ddpFailed.length === 0) {
    const alone = oneProcessDdp({ torch, nn: torch.nn, optim: torch.optim }, gpus, 'cuda:0');
    difference = ddpDifference(
      loadSafetensors,
      ddp.map((r) => /** @type {number[]} */ (r.output.losses)),
      files,
      alone,
    );
  }
  fs.rmSync(folder, { recursive: true, force: true });
  rows.push([
    `DDP, ${gpus} rank(s) × 1 tile against one process with a batch of ${gpus}, 10 SGD steps: max difference (losses, gradients, weights; must be < 1e-5)`,
    ddpFailed.length === 0 ? difference.toExponential(2) : `FAILED: ${ddpFailed.map(failed).join('; ')}`,
  ]);
  printTable(['check', 'result'], rows);
  if (wrong.length > 0 || ddpFailed.length > 0 || !(difference < 1e-5)) process.exitCode = 1;
}

/**
 * The fused CUDA remap (native/remap_kernel.cu) against the torch-ops path (one float64
 * grid_sample per target) on a batch of 8 samples of 572² (image bicubic, labels nearest, weight
 * map bilinear) through the paper's elastic field with a rotation and flips: largest differences
 * and best time of 20 calls each.
 */
function fusedRemapRows() {
  if (augment.cudaResampling() !== 'fused kernel') {
    console.log(`this build has no CUDA kernels (${torch.info().cudaKernelsMissing}): nothing to compare`);
    return;
  }
  torch.manualSeed(0);
  torch.tidy(() => {
    const [batch, size] = [8, 572];
    const seeds = Array.from({ length: batch }, (_, k) => k);
    // The paper's elastic deformation with rotations and flips, composed on the CPU and by field_kernel.cu.
    const transforms = seeds.map((seed) => augment.drawTransform(seed, { rotation: 180, flip: true }));
    const cpuField = augment.transformField(transforms, size, size);
    const field = augment.transformField(transforms, size, size, 'cuda');
    const fieldBitsDiffering = Number(field.cpu().ne(cpuField).sum().item());
    if (fieldBitsDiffering !== 0) process.exitCode = 1;
    /** @type {import('../dist/augment').FieldTarget[]} */
    const targets = [
      { input: torch.rand([batch, 1, size, size], { device: 'cuda' }), mode: 'bicubic' },
      { input: torch.randint(0, 50, [batch, 1, size, size], { device: 'cuda' }), mode: 'nearest' },
      { input: torch.rand([batch, 1, size, size], { device: 'cuda' }), mode: 'bilinear' },
    ];
    const fused = augment.applyFieldTo(field, targets);
    const ops = resampleWithTorchOps(field, targets);
    const time = (/** @type {() => unknown} */ run) => {
      let best = Infinity;
      for (let k = 0; k < 22; k += 1) {
        torch.cuda.synchronize();
        const start = process.hrtime.bigint();
        torch.tidy(() => void run());
        torch.cuda.synchronize();
        if (k >= 2) best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
      }
      return best;
    };
    const fusedMs = time(() => augment.applyFieldTo(field, targets));
    const opsMs = time(() => resampleWithTorchOps(field, targets));
    const composeMs = time(() => augment.transformField(transforms, size, size, 'cuda'));
    const composeOnCpuMs = time(() => augment.transformField(transforms, size, size).cuda());
    printTable(
      ['8 × 572² fields (elastic, rotation, flips)', 'values differing from the CPU', 'agrees'],
      [
        [
          'composed on the GPU by field_kernel.cu',
          `${fieldBitsDiffering} of ${field.numel()}`,
          fieldBitsDiffering === 0 ? 'yes (bitwise)' : 'NO',
        ],
      ],
    );
    console.log('');
    printTable(
      ['target', 'max |fused − torch ops|', 'max |value|', 'agrees'],
      targets.map((target, k) => {
        const [a, b] = [/** @type {import('../dist').Tensor} */ (fused[k]), /** @type {import('../dist').Tensor} */ (ops[k])];
        // As test/augment.test.ts asks: labels on all but 1e-3 of the pixels, values to 1e-5.
        const differing = Number(a.ne(b).sum().item()) / a.numel();
        const agrees = target.mode === 'nearest' ? differing < 1e-3 : maxAbs(a, b) < 1e-5;
        if (!agrees) process.exitCode = 1;
        return [
          `${target.mode} (${target.input.dtype})`,
          target.mode === 'nearest' ? `${(differing * 100).toFixed(4)} % of pixels differ` : maxAbs(a, b).toExponential(2),
          scaleOf(b).toFixed(3),
          agrees ? 'yes' : 'NO',
        ];
      }),
    );
    console.log('');
    printTable(
      ['8 × 572² samples, 3 targets', 'fused kernel ms', 'torch ops ms', 'speed-up'],
      [['remap', fusedMs.toFixed(3), opsMs.toFixed(3), (opsMs / fusedMs).toFixed(2)]],
    );
    console.log('');
    printTable(
      ['8 fields of 572²', 'composed on the GPU ms', 'on the CPU and copied ms', 'speed-up'],
      [['field', composeMs.toFixed(3), composeOnCpuMs.toFixed(3), (composeOnCpuMs / composeMs).toFixed(2)]],
    );
  });
}

/**
 * One SGD step (forward, cross-entropy, backward, update) of each preset on one 572² tile, eager
 * and captured in a CUDA graph (torch.cuda.graph), on the same data: the losses of 20 steps each
 * (eval mode on both, so that no random numbers are drawn) and the time a step takes over those 20.
 */
function cudaGraphRows() {
  if (!torch.info().cudaKernels) {
    console.log(`this build has no CUDA code (${torch.info().cudaKernelsMissing}): no CUDA graphs`);
    return;
  }
  const rows = [];
  for (const preset of /** @type {const} */ (['compact', 'ronneberger2015'])) {
    torch.manualSeed(0);
    const x = torch.randn([1, 1, 572, 572], { device: 'cuda' });
    const probe = createUNet(preset);
    const out = probe.outputSize(572);
    probe.dispose();
    const target = torch.randint(0, 2, [1, out, out], { device: 'cuda' });
    const run = (/** @type {boolean} */ graphed) => {
      torch.manualSeed(1);
      const model = createUNet(preset).to('cuda').eval();
      const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.99 });
      const step = () => {
        const loss = F.crossEntropy(model.forward(x), target);
        loss.backward();
        optimizer.step();
        return loss;
      };
      // Two eager steps first (the momentum buffers, cuDNN's choices); then 20 timed.
      /** @type {number[]} */
      const losses = [];
      for (let k = 0; k < 2; k += 1) {
        optimizer.zeroGrad();
        losses.push(Number(torch.tidy(() => step().item())));
      }
      optimizer.zeroGrad();
      const graph = graphed ? new torch.cuda.CUDAGraph() : null;
      const staticLoss = graph ? torch.tidy(() => torch.cuda.graph(graph, () => torch.keep(step()))) : null;
      const stepLosses = [];
      torch.cuda.synchronize();
      const start = process.hrtime.bigint();
      for (let k = 0; k < 20; k += 1) {
        if (graph && staticLoss) {
          graph.replay();
          stepLosses.push(staticLoss.clone());
        } else {
          optimizer.zeroGrad();
          stepLosses.push(torch.tidy(() => torch.keep(step().detach())));
        }
      }
      torch.cuda.synchronize();
      const ms = Number(process.hrtime.bigint() - start) / 1e6 / 20;
      for (const loss of stepLosses) losses.push(Number(loss.item()));
      torch.dispose(stepLosses);
      if (graph) graph.reset();
      optimizer.zeroGrad();
      if (staticLoss) staticLoss.dispose();
      model.dispose();
      return { ms, losses };
    };
    const eager = run(false);
    const graphed = run(true);
    const worst = Math.max(...eager.losses.map((value, k) => Math.abs(value - (graphed.losses[k] ?? Number.NaN)) / Math.abs(value)));
    if (!(worst <= 1e-3)) process.exitCode = 1;
    rows.push([preset, eager.ms.toFixed(3), graphed.ms.toFixed(3), (eager.ms / graphed.ms).toFixed(2), worst.toExponential(2)]);
    torch.dispose([x, target]);
  }
  printTable(
    ['one SGD step on a 572² tile', 'eager ms', 'CUDA graph ms', 'speed-up (compact: >= 1.3)', 'max relative loss difference'],
    rows,
  );
}

/**
 * train() with option cudaGraphs against without, for each preset: 572² tiles, the paper's
 * augmentation, 40 steps each from the same seed; tiles/s over steps 11–40 (the graph is captured
 * at step 3) and the largest relative difference between the two runs' losses.
 */
async function graphedTrainingRows() {
  if (!torch.info().cudaKernels) {
    console.log(`this build has no CUDA code (${torch.info().cudaKernelsMissing}): no CUDA graphs`);
    return;
  }
  const samples = syntheticTrainingSamples();
  const rows = [];
  for (const preset of /** @type {const} */ (['compact', 'ronneberger2015'])) {
    const run = async (/** @type {boolean} */ cudaGraphs) => {
      torch.manualSeed(0);
      const model = createUNet(preset).to('cuda');
      /** @type {number[]} */
      const losses = [];
      let rate = 0;
      await runTraining({
        model,
        train: samples,
        steps: 40,
        tileSize: 572,
        device: 'cuda',
        cudaGraphs,
        augment: { rotation: 180, flip: true },
        onEvent: (event) => {
          if (event.type !== 'step') return;
          losses.push(event.loss);
          if (event.step === 10) rate = event.elapsedMs;
          if (event.step === 40) rate = 30 / ((event.elapsedMs - rate) / 1000);
        },
      });
      model.dispose();
      return { rate, losses };
    };
    const eager = await run(false);
    const graphed = await run(true);
    const worst = Math.max(...eager.losses.map((value, k) => Math.abs(value - (graphed.losses[k] ?? Number.NaN)) / Math.abs(value)));
    if (!(worst <= 1e-3)) process.exitCode = 1;
    rows.push([preset, eager.rate.toFixed(2), graphed.rate.toFixed(2), (graphed.rate / eager.rate).toFixed(2), worst.toExponential(2)]);
  }
  torch.dispose(samples.flatMap((sample) => [sample.image, sample.label, sample.target, sample.weights, sample.instances]));
  printTable(
    ['train(), 572 tiles, augmentation, steps 11–40', 'eager tiles/s', 'cudaGraphs tiles/s', 'speed-up', 'max relative loss difference'],
    rows,
  );
}

/**
 * Overlap-tile prediction of a SIZE² image (CPU in, float32 probabilities on the CPU out) on the
 * GPU, best of `repeats` after two warm-ups: our predictProbabilities and the PyTorch loop of
 * reference/overlap_tile.py, for each preset, image size and precision.
 * @param {(args: string[]) => { ms: number }} reference
 */
function predictionRows(reference) {
  const rows = [];
  for (const preset of /** @type {const} */ (['ronneberger2015', 'compact'])) {
    torch.manualSeed(0);
    const model = createUNet(preset).to('cuda');
    // 512²: one tile that covers it; 2048²: the preset's default tile, 8 to a pass.
    for (const [size, tileSize, batchSize] of /** @type {[number, number, number][]} */ ([
      [512, model.inputSizeFor(512), 1],
      [2048, model.defaultTileSize, 8],
    ])) {
      const image = torch.randn([1, size, size]);
      for (const precision of /** @type {const} */ (['float32', 'float16'])) {
        const once = () => torch.tidy(() => void predictProbabilities(model, image, { tileSize, batchSize, precision, device: 'cuda' }));
        once();
        once();
        let ours = Infinity;
        for (let k = 0; k < 10; k += 1) {
          const start = process.hrtime.bigint();
          once(); // ends with the copy to the CPU
          ours = Math.min(ours, Number(process.hrtime.bigint() - start) / 1e6);
        }
        const theirs = reference(['predict', preset, String(size), String(tileSize), String(batchSize), precision, '10']).ms;
        rows.push([
          `${preset} ${size}×${size}`,
          `${tileSize} × ${batchSize}`,
          precision,
          ours.toFixed(2),
          theirs.toFixed(2),
          (ours / theirs).toFixed(3),
        ]);
      }
      image.dispose();
    }
    model.dispose();
  }
  printTable(['image', 'tile × batch', 'precision', 'unet-torch ms', 'PyTorch ms', 'time ratio'], rows);
}

async function main() {
  if (!torch.cuda.isAvailable()) {
    console.log('torch.cuda.isAvailable() is false: nothing to check');
    process.exit(1);
  }
  const python = process.env.TORCH_PYTHON ?? 'python3';
  const reference = (preset, size, steps) =>
    JSON.parse(execFileSync(python, [path.join(__dirname, 'gpu_reference.py'), preset, String(size), String(steps)], { encoding: 'utf8' }));
  const card = reference('compact', 188, 1).device;
  const referenceRun = (args) =>
    JSON.parse(execFileSync(python, [path.join(__dirname, 'gpu_reference.py'), ...args], { encoding: 'utf8' }));
  console.log(`GPU: ${card}; libtorch ${torch.info().libtorchVersion}`);
  await section('nccl', 'torch.distributed over NCCL, one rank per GPU', ncclRows);
  section('kernels', "the addon's CUDA kernels: fields against the CPU's, the fused remap against torch ops", fusedRemapRows);
  section('graphs', 'CUDA graphs: the training step captured against eager', cudaGraphRows);
  await section('graphed-train', "CUDA graphs: train() with option 'cudaGraphs' against without", graphedTrainingRows);
  section('augment', `augmentation on the GPU (${augment.cudaResampling()})`, () => {
    printTable(
      ['device', 'batch', 'samples/s'],
      [1, 8, 32].map((batch) => ['cuda', String(batch), augmentSamplesPerSecond('cuda', batch, 256).toFixed(1)]),
    );
  });
  section('profile', "where a training step's time goes", profileRows);
  await section('train', 'train() against the loops a PyTorch user would write', () => trainingRows(referenceRun));
  section('predict', `overlap-tile prediction against PyTorch on the same card (${card})`, () => predictionRows(referenceRun));
  section('unet', `U-Net on one 572×572 tile against PyTorch on the same card (${card})`, () => {
    const rows = [];
    for (const preset of /** @type {const} */ (['ronneberger2015', 'compact'])) {
      // Alternating three times; each side's best.
      /** @type {StepTimes | null} */
      let ours = null;
      /** @type {StepTimes | null} */
      let theirs = null;
      for (let round = 0; round < 3; round += 1) {
        ours = bestOf(ours, oursStepTimes(preset, 572, 10));
        theirs = bestOf(theirs, reference(preset, 572, 10));
      }
      if (ours === null || theirs === null) throw new Error('no rounds ran');
      for (const name of CASES) {
        rows.push([
          `${preset} ${name}`,
          ours[name].ms.toFixed(2),
          theirs[name].ms.toFixed(2),
          (ours[name].ms / theirs[name].ms).toFixed(3),
          ours[name].peakMb.toFixed(0),
          theirs[name].peakMb.toFixed(0),
          (ours[name].peakMb / theirs[name].peakMb).toFixed(2),
        ]);
      }
    }
    printTable(
      ['case', 'unet-torch ms', 'PyTorch ms', 'time ratio', 'unet-torch peak GPU MB', 'PyTorch peak GPU MB', 'memory ratio'],
      rows,
    );
  });
}

main();
