import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type AccuracyRow, accuracyTable } from '../lib/cli/accuracy';
import { trainingRequest } from '../lib/cli/training-flags';
import { referencePython } from '../lib/reference';
import { PAPER_AUGMENTATION, RECIPES } from '../lib/train/recipes';

const cli = path.join(__dirname, '..', 'dist', 'cli', 'main.js');

describe('unet command line', () => {
  test('unet info --json describes the libtorch in use', () => {
    const facts = JSON.parse(execFileSync(process.execPath, [cli, 'info', '--json'], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(facts.libtorchVersion).toMatch(/^2\.\d+\.\d+/);
    expect(typeof facts.libtorchPath).toBe('string');
    expect(typeof facts.cudaBuild).toBe('boolean');
    expect(facts.threads).toBeGreaterThan(0);
    // Gloo always; NCCL exactly when the build says why it is missing is null.
    expect(facts.distributedBackends).toEqual(facts.ncclMissing === null ? ['gloo', 'nccl'] : ['gloo']);
    if (!facts.cudaBuild) expect(facts.ncclMissing).toBe('the libtorch has no CUDA');
    // The CUDA kernels likewise: built, or a reason.
    expect(facts.cudaKernels ? facts.cudaKernelsMissing : typeof facts.cudaKernelsMissing).toBe(facts.cudaKernels ? null : 'string');
    if (!facts.cudaBuild) expect(facts.cudaKernelsMissing).toBe('the libtorch has no CUDA');
    expect(typeof facts.cpuModel).toBe('string');
  });

  test("the CPU kernels' instruction set is PyTorch's, capped by ATEN_CPU_CAPABILITY as in PyTorch", () => {
    const python = 'import torch; print(torch.backends.cpu.get_cpu_capability())';
    for (const cap of [undefined, 'default']) {
      const env = cap === undefined ? process.env : { ...process.env, ATEN_CPU_CAPABILITY: cap };
      const facts = JSON.parse(execFileSync(process.execPath, [cli, 'info', '--json'], { encoding: 'utf8', env })) as Record<
        string,
        unknown
      >;
      const pytorch = execFileSync(referencePython(), ['-c', python], { encoding: 'utf8', env }).trim();
      expect(facts.cpuCapability).toBe(pytorch);
      if (cap === 'default') expect(facts.cpuCapability).toBe('DEFAULT');
    }
  });

  test('unet info prints a table', () => {
    const text = execFileSync(process.execPath, [cli, 'info'], { encoding: 'utf8' });
    expect(text).toMatch(/^libtorch\s+2\.\d+/m);
    expect(text).toMatch(/^CUDA build\s+(yes|no)/m);
    expect(text).toMatch(/^distributed\s+(gloo, nccl|gloo \(nccl not built: .+\))$/m);
    expect(text).toMatch(
      /^CUDA kernels\s+(built: .+; CUDA graphs|not built \(.+\): CUDA augmentation runs on torch ops; no CUDA graphs)$/m,
    );
  });

  test('an unknown verb or option is an error with usage', () => {
    const unknown = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const badOption = spawnSync(process.execPath, [cli, 'info', '--colour'], { encoding: 'utf8' });
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toMatch(/unet info: Unknown option '--colour'[\s\S]*usage: unet info \[--json\]/);
    expect(spawnSync(process.execPath, [cli], { encoding: 'utf8' }).status).toBe(2);
  });

  test('the overview and an unknown verb need no libtorch: neither loads the addon', () => {
    const noAddon = path.join(__dirname, 'support', 'no-addon.js');
    const overview = spawnSync(process.execPath, ['-r', noAddon, cli, '--help'], { encoding: 'utf8' });
    expect([overview.status, overview.stderr]).toEqual([0, '']);
    expect(overview.stdout).toMatch(/^ {2}train +train a U-Net/m);
    const unknown = spawnSync(process.execPath, ['-r', noAddon, cli, 'frobnicate'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'[\s\S]*commands:/);
    // A libtorch verb does load it (the preload's refusal is what fails).
    expect(spawnSync(process.execPath, ['-r', noAddon, cli, 'info'], { encoding: 'utf8' }).stderr).toMatch(
      /the unet-torch addon was loaded/,
    );
  });

  test('every verb answers --help with its usage, and usage errors with exit status 2', () => {
    const verbs = ['start', 'train', 'predict', 'eval', 'accuracy', 'info', 'demo', 'weightmap', 'augment', 'compare'];
    const overview = execFileSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
    for (const verb of verbs) {
      expect(overview).toMatch(new RegExp(`^  ${verb} +\\S`, 'm'));
      const help = spawnSync(process.execPath, [cli, verb, '--help'], { encoding: 'utf8' });
      expect(help.status).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^usage: unet ${verb}`));
      expect(help.stdout).toMatch(/--help +print this usage/);
    }
    const cases: [string[], RegExp][] = [
      [['train', '--out', 'x'], /unet train: missing --data/],
      [['train', '--data', 'x', '--out', 'y', '--steps', 'many'], /--steps must be a number, got 'many'/],
      [['train', '--data', 'x', '--out', 'y', '--watershed', '--no-watershed'], /--watershed and --no-watershed contradict each other/],
      [
        ['train', '--data', 'x', '--out', 'y', '--recipe', 'soup'],
        /--recipe: unknown recipe 'soup'; known: dic-c2dh-hela, phc-c2dh-u373, isbi2012, nuclei/,
      ],
      [['predict', '--model', 'm', '--out', 'o'], /unet predict: expected 1 to Infinity argument\(s\)/],
      [['train', '--data', 'x', '--out', 'y', '--keep', 'last'], /--keep must be one of best, final, got 'last'/],
      [['eval', '--pred', 'p', '--truth', 't', '--protocol', 'dice'], /--protocol must be one of ctc, isbi2012, got 'dice'/],
      [['weightmap', 'a.png', 'b.png', '--out', 'w.npy'], /expected 1 argument\(s\) besides the flags, got 2/],
      [['augment', 'a.png', '--out', 'o', '--interpolation', 'cubic'], /--interpolation must be one of bicubic, bilinear, got 'cubic'/],
      [['compare', '--preset', 'huge'], /--preset must be one of ronneberger2015, compact, padded, got 'huge'/],
      [['accuracy', 'data', '--protocols', 'heldout,sometimes'], /--protocols must be one of heldout, cross, got 'sometimes'/],
      [['predict', '--model', 'm', '--out', 'o', 'x.png', '--threads', '0'], /--threads must be at least 1, got 0/],
      [
        ['predict', '--model', 'm', '--out', 'o', 'x.png', '--precision', 'half'],
        /--precision must be one of float32, float16, bfloat16, got 'half'/,
      ],
      [
        ['predict', '--model', 'm.onnx', '--out', 'o', 'x.png', '--engine', 'onnxruntime', '--precision', 'float16'],
        /--device, --exact and --precision are for --engine libtorch/,
      ],
      [
        ['train', '--data', 'x', '--out', 'y', '--zoom', '2,1'],
        /--zoom: augment: option 'scale' must be \[min, max\] with 0 < min <= max, got \[2,1\]/,
      ],
      [['train', '--data', 'x', '--out', 'y', '--zoom', '0.5,2', '--no-augment'], /--zoom and --no-augment contradict each other/],
      // train()'s own checks of the flags that need no data, made before any image is read ('x' does not exist).
      [['train', '--data', 'x', '--out', 'y', '--steps', '0'], /train\(\): option 'steps' \(--steps\) must be a positive integer, got 0/],
      [['train', '--data', 'x', '--out', 'y', '--lr=-1'], /train\(\): option 'lr' \(--lr\) must be > 0, got -1/],
    ];
    for (const [args, message] of cases) {
      const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
      expect({ args, status: result.status }).toEqual({ args, status: 2 });
      expect(result.stderr).toMatch(message);
    }
    // unet accuracy checks them for every set before it writes anything: no --out folder is left behind.
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-cli-'));
    const set = path.join(root, 'dsb2018');
    fs.mkdirSync(set);
    const out = path.join(root, 'out');
    const badBatch = spawnSync(process.execPath, [cli, 'accuracy', set, '--out', out, '--batch', '0'], { encoding: 'utf8' });
    expect(badBatch.status).toBe(2);
    expect(badBatch.stderr).toMatch(/train\(\): option 'batchSize' \(--batch\) must be a positive integer, got 0/);
    expect(fs.existsSync(out)).toBe(false);
    fs.rmSync(root, { recursive: true });
  });

  test("--zoom adds a zoom range to the recipe's augmentation, or to the paper's without a recipe", () => {
    expect(trainingRequest({ recipe: 'nuclei', zoom: '0.7,1.4' }).train.augment).toEqual({ ...RECIPES.nuclei.augment, scale: [0.7, 1.4] });
    expect(trainingRequest({ zoom: '1.5' }).train.augment).toEqual({ ...PAPER_AUGMENTATION, scale: [1.5, 1.5] });
    expect(trainingRequest({ recipe: 'nuclei' }).train.augment).toBe(RECIPES.nuclei.augment);
  });

  test('unet demo runs and frees everything', () => {
    const text = execFileSync(process.execPath, [cli, 'demo'], { encoding: 'utf8' });
    expect(text).toMatch(/live tensors after tidy\(\): 0/);
  });

  test("unet accuracy's table shows each set's validation measure: the Rand error for ISBI 2012, SEG for the others", () => {
    const row = (set: string, validation: Record<string, number>, test: Record<string, number>): AccuracyRow => ({
      set,
      protocol: 'heldout',
      trainFrames: 18,
      validationFrames: 2,
      testFrames: ['20'],
      steps: 10,
      trainingMinutes: 1,
      threads: 2,
      seed: 0,
      validation,
      test,
      postprocess: {},
      tta: true,
      run: 'runs/x',
    });
    const lines = accuracyTable([
      row('isbi2012', { seg: 0.6654, det: 0.8181, isbiRandError: 0.2291 }, { pixelError: 0.0528, randError: 0.1493 }),
      row('dic-c2dh-hela', { seg: 0.852, det: 0.97 }, { seg: 0.841, det: 0.982 }),
    ]).split('\n');
    const valColumn = (line: string): string => line.split('|')[7]!.trim();
    expect(valColumn(lines[0]!)).toBe('val SEG (or Rand error)');
    expect(valColumn(lines[2]!)).toBe('0.2291');
    expect(valColumn(lines[3]!)).toBe('0.8520');
  });
});
