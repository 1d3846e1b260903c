// Weights and files: state dicts through torch.save/torch.load files and safetensors in both
// directions between here and PyTorch, .npy arrays, atomic writes, and corrupt files.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type Tensor, nn, torch } from '../lib';
import { runPython } from './support/python';

let folder: string;
beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-torch-files-'));
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

function model(): nn.Module {
  return new nn.Sequential(new nn.Conv2d(1, 3, 3), new nn.BatchNorm2d(3), new nn.ReLU(), new nn.Conv2d(3, 2, 1));
}
const PYTHON_MODEL = 'torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.ReLU(), torch.nn.Conv2d(3, 2, 1))';

describe('state dicts move both ways between here and PyTorch', () => {
  test.each(['pt', 'safetensors'])('TS → Python → TS through .%s files, buffers included', (format) => {
    torch.manualSeed(41);
    const ours = model();
    // Train a little so that the running statistics and num_batches_tracked are not defaults.
    torch.tidy(() => {
      for (let k = 0; k < 3; k += 1) (ours.forward(torch.randn([4, 1, 6, 6])) as Tensor).sum().backward();
    });
    const out = path.join(folder, `ours.${format}`);
    const back = path.join(folder, `back.${format}`);
    torch.tidy(() => {
      const state = ours.stateDict();
      if (format === 'pt') torch.save(out, state);
      else torch.saveSafetensors(out, state);
    });
    const loadLine = format === 'pt' ? `torch.load(${JSON.stringify(out)}, weights_only=True)` : `load_file(${JSON.stringify(out)})`;
    const saveLine =
      format === 'pt'
        ? `torch.save(m.state_dict(), ${JSON.stringify(back)})`
        : `save_file({k: v.contiguous() for k, v in m.state_dict().items()}, ${JSON.stringify(back)})`;
    runPython(`from safetensors.torch import load_file, save_file
m = ${PYTHON_MODEL}
m.load_state_dict(${loadLine})
assert int(m[1].num_batches_tracked) == 3, m[1].num_batches_tracked
with torch.no_grad():
    m[0].weight.mul_(2)  # a change made in Python, to see it come back
${saveLine}`);
    const fresh = model();
    torch.tidy(() => {
      const loaded = format === 'pt' ? (torch.load(back) as Record<string, Tensor>) : torch.loadSafetensors(back).tensors;
      fresh.loadStateDict(loaded);
      const a = ours.stateDict();
      const b = fresh.stateDict();
      expect(Object.keys(b)).toEqual(Object.keys(a));
      for (const key of Object.keys(a)) {
        const expected = key === '0.weight' ? a[key]!.mul(2) : a[key]!;
        expect([key, b[key]!.equal(expected)]).toEqual([key, true]);
      }
    });
    ours.dispose();
    fresh.dispose();
  });

  test('torch.load reads a checkpoint dict with nested state dicts, numbers and strings', () => {
    const file = path.join(folder, 'checkpoint.pt');
    runPython(`m = ${PYTHON_MODEL}
torch.save({"model": m.state_dict(), "epoch": 7, "lr": 0.125, "name": "unet", "flags": [True, None], "big": 2**40}, ${JSON.stringify(file)})
outputs["w"] = m[0].weight`);
    torch.tidy(() => {
      const checkpoint = torch.load(file) as {
        model: Record<string, Tensor>;
        epoch: number;
        lr: number;
        name: string;
        flags: unknown[];
        big: number;
      };
      expect([checkpoint.epoch, checkpoint.lr, checkpoint.name, checkpoint.flags, checkpoint.big]).toEqual([
        7,
        0.125,
        'unet',
        [true, null],
        2 ** 40,
      ]);
      expect(Object.keys(checkpoint.model)).toEqual([
        '0.weight',
        '0.bias',
        '1.weight',
        '1.bias',
        '1.running_mean',
        '1.running_var',
        '1.num_batches_tracked',
        '3.weight',
        '3.bias',
      ]);
      expect(checkpoint.model['1.num_batches_tracked']!.dtype).toBe('int64');
    });
  });

  test('.npy arrays round-trip with NumPy for every NumPy dtype, Fortran order included', () => {
    const dtypes = ['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const;
    torch.tidy(() => {
      for (const dtype of dtypes) torch.saveNpy(path.join(folder, `${dtype}.npy`), torch.arange(0, 12, 1).reshape([3, 4]).to(dtype));
      torch.saveNpy(path.join(folder, 'vector.npy'), torch.tensor([1.5, 2.5]));
    });
    runPython(`import numpy as np
for name in ${JSON.stringify([...dtypes])}:
    a = np.load(${JSON.stringify(folder)} + "/" + name + ".npy")
    assert a.shape == (3, 4) and str(a.dtype) == name.replace("bool", "bool"), (name, a.dtype, a.shape)
    assert (a.astype(np.float64) == np.arange(12).reshape(3, 4).astype(name).astype(np.float64)).all(), name
assert np.load(${JSON.stringify(folder)} + "/vector.npy").tolist() == [1.5, 2.5]
np.save(${JSON.stringify(folder)} + "/fortran.npy", np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)))
np.save(${JSON.stringify(folder)} + "/scalar.npy", np.float64(3.25))`);
    torch.tidy(() => {
      expect(torch.loadNpy(path.join(folder, 'fortran.npy')).toArray()).toEqual([
        [0, 1, 2],
        [3, 4, 5],
      ]);
      expect(torch.loadNpy(path.join(folder, 'scalar.npy')).toArray()).toBe(3.25);
      expect(torch.loadNpy(path.join(folder, 'uint8.npy')).dtype).toBe('uint8');
    });
  });
});

describe('corrupt, truncated and foreign files give clear errors', () => {
  test.each([
    [
      'a truncated .pt file',
      'pt',
      (bytes: Buffer) => bytes.subarray(0, bytes.length - 100),
      /TorchFileError|ArchiveError/,
      /not a readable PyTorch archive|truncated/,
    ],
    ['a text file as .pt', 'pt', () => Buffer.from('hello world'), /ArchiveError/, /no ZIP end-of-directory record/],
    [
      'a truncated safetensors file',
      'safetensors',
      (bytes: Buffer) => bytes.subarray(0, bytes.length - 7),
      /SafetensorsError/,
      /truncated/,
    ],
    [
      'a safetensors file with a broken header',
      'safetensors',
      (bytes: Buffer) => Buffer.concat([bytes.subarray(0, 8), Buffer.from('{not json'), bytes.subarray(17)]),
      /SafetensorsError/,
      /header is not JSON/,
    ],
    ['a .npy without its magic', 'npy', () => Buffer.from('NUMPY....'), /NpyError/, /does not start with/],
    ['a truncated .npy', 'npy', (bytes: Buffer) => bytes.subarray(0, bytes.length - 3), /NpyError/, /data is truncated/],
  ] as const)('%s', (_name, format, corrupt, errorName, message) => {
    const good = path.join(folder, `good.${format}`);
    torch.tidy(() => {
      const value = torch.arange(0, 64, 1, { dtype: 'float32' });
      if (format === 'pt') torch.save(good, { x: value });
      else if (format === 'safetensors') torch.saveSafetensors(good, { x: value });
      else torch.saveNpy(good, value);
    });
    const bad = path.join(folder, `bad.${format}`);
    fs.writeFileSync(bad, corrupt(fs.readFileSync(good)));
    const load = (): unknown =>
      format === 'pt' ? torch.load(bad) : format === 'safetensors' ? torch.loadSafetensors(bad) : torch.loadNpy(bad);
    let thrown: unknown;
    try {
      torch.tidy(load);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).name).toMatch(errorName);
    expect((thrown as Error).message).toContain(bad);
    expect((thrown as Error).message).toMatch(message);
  });

  test('a pickle that calls a Python function is refused, not run', () => {
    const file = path.join(folder, 'evil.pt');
    runPython(`import os
class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))
torch.save({"x": Evil()}, ${JSON.stringify(file)})`);
    expect(() => torch.load(file)).toThrow(/refuses the Python global (posix|os)\.system/);
  });

  test('writes are atomic: a failed save leaves the previous file intact', () => {
    const file = path.join(folder, 'atomic.safetensors');
    torch.tidy(() => torch.saveSafetensors(file, { x: torch.ones([3]) }));
    const before = fs.readFileSync(file);
    expect(() => torch.tidy(() => torch.save(file, { x: torch.ones([2]), bad: (() => 1) as unknown as Tensor }))).toThrow(
      /torch.save\(\): .bad. is a function, which cannot be saved/,
    );
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect(fs.readdirSync(folder).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
