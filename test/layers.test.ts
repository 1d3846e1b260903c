// The layers of lib/ go one way: cli → train → (predict, onnx, engine) → (unet, weightmap,
// augment, data, metrics, labels) → nn, optim, amp → the torch API (tensors, operations, files,
// raster) → native. A module imports from its own layer or below, never above; U-Net code calls
// the addon only in the files of its own kernels; the ONNX engine never reaches the addon. This
// test reads every import of lib/ and fails on a wrong one.
import * as fs from 'node:fs';
import * as path from 'node:path';

const lib = path.join(__dirname, '..', 'lib');

/** Layer of a module path relative to lib/ (no extension), higher above. */
function layerOf(module: string): number {
  const top = module.split('/')[0]!;
  if (top === 'cli') return 7;
  if (top === 'train') return 6;
  // onnx writes models from the U-Net; engine runs them (it must not reach native, below).
  if (['predict', 'onnx', 'engine'].includes(top)) return 5;
  if (['unet', 'weightmap', 'augment', 'data', 'metrics', 'labels'].includes(top)) return 4;
  // methods installs tensor methods from every operation, nn.functional's included.
  if (['nn', 'optim', 'amp', 'methods'].includes(top)) return 3;
  // package-root only computes a path: the addon's loader uses it, and so may anything above.
  if (top === 'native' || top === 'package-root') return 1;
  if (top === 'index') return 7; // the package entry: only the command line imports it
  return 2; // the torch API: tensor, ops/, creation, memory, autograd, io/, raster/, runtime, cuda, cpu, …
}

const NAMES = ['', 'native', 'the torch API', 'nn/optim', 'U-Net code', 'predict', 'train', 'cli or the package entry'];

/** The files of U-Net code allowed to call the addon: its own kernels. */
const KERNEL_FILES = ['weightmap/weight-map', 'augment/transform', 'augment/resample', 'augment/gray', 'labels/index'];

interface Import {
  from: string;
  to: string;
  names: string;
}

function imports(): Import[] {
  const files = fs.readdirSync(lib, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  return files.flatMap((file) => {
    const from = file.replace(/\.ts$/, '').split(path.sep).join('/');
    const text = fs.readFileSync(path.join(lib, file), 'utf8');
    // Type-only imports are left out: they describe shapes at compile time and load nothing.
    return [...text.matchAll(/^(?:import|export)\s+(type\s+)?([^;]*?)\s+from\s+'(\.[^']+)';/gms)]
      .filter((match) => match[1] === undefined)
      .map((match) => {
        const to = path.posix.normalize(path.posix.join(path.posix.dirname(from), match[3]!));
        const resolved = fs.existsSync(path.join(lib, `${to}.ts`)) ? to : `${to}/index`;
        return { from, to: resolved, names: match[2]! };
      });
  });
}

describe('layers', () => {
  test('every import of lib/ goes to its own layer or below', () => {
    const upward = imports()
      .filter(({ from, to }) => layerOf(to) > layerOf(from))
      .map(({ from, to }) => `${from} (${NAMES[layerOf(from)]}) imports ${to} (${NAMES[layerOf(to)]})`);
    expect(upward).toEqual([]);
  });

  test('U-Net code reaches the addon only in the files of its own kernels', () => {
    const direct = imports()
      .filter(({ from, to, names }) => layerOf(from) >= 4 && to === 'native' && /\bnative\b/.test(names) && !KERNEL_FILES.includes(from))
      .map(({ from }) => from);
    expect(direct).toEqual([]);
  });

  test('the ONNX engine (unet-torch/onnx) and the browser page never reach the addon', () => {
    const all = imports();
    for (const entry of ['engine/index', 'engine/segmenter']) {
      const seen = new Set<string>([entry]);
      const queue = [entry];
      while (queue.length > 0) {
        const from = queue.pop()!;
        for (const { to } of all.filter((edge) => edge.from === from))
          if (!seen.has(to)) {
            seen.add(to);
            queue.push(to);
          }
      }
      expect([entry, seen.has('native')]).toEqual([entry, false]);
    }
  });

  test('the check itself finds a wrong import (prediction importing training)', () => {
    expect(layerOf('predict/overlap-tile')).toBeLessThan(layerOf('train/tiles'));
    expect(layerOf('unet/model')).toBeLessThan(layerOf('predict/instances'));
    expect(imports().length).toBeGreaterThan(100);
  });
});
