import { type DType, Tensor, torch } from '../lib';
import { runPython } from './support/python';

const ALL_DTYPES: DType[] = ['float32', 'float64', 'float16', 'bfloat16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'bool'];

describe('creation and readback', () => {
  test.each(ALL_DTYPES)('%s round-trips values and shape', (dtype) => {
    torch.tidy(() => {
      const values =
        dtype === 'bool'
          ? [
              [true, false, true],
              [false, false, true],
            ]
          : [
              [1, 2, 3],
              [4, 5, 6],
            ];
      const t = torch.tensor(values, { dtype });
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual([2, 3]);
      expect(t.device).toBe('cpu');
      expect(t.toArray()).toEqual(values);
      expect(t.numel()).toBe(6);
      const zeros = torch.zeros([3, 1], { dtype });
      expect(zeros.dtype).toBe(dtype);
      expect(Array.from(zeros.toTypedArray() as ArrayLike<number | bigint>, Number)).toEqual([0, 0, 0]);
    });
  });

  test('typed arrays keep their element type and readback gives the matching typed array', () => {
    torch.tidy(() => {
      expect(torch.tensor(new Float64Array([1.5, 2.5])).dtype).toBe('float64');
      expect(torch.tensor(new Int32Array([1, 2])).dtype).toBe('int32');
      expect(torch.tensor(new BigInt64Array([1n, -2n])).toTypedArray()).toEqual(new BigInt64Array([1n, -2n]));
      expect(torch.tensor(new Uint8Array([7])).toTypedArray()).toEqual(new Uint8Array([7]));
      expect(torch.tensor([0.5, 1.25], { dtype: 'float16' }).toTypedArray()).toEqual(new Float32Array([0.5, 1.25]));
    });
  });

  test('dtype inference follows PyTorch: integers int64, other numbers float32, booleans bool', () => {
    torch.tidy(() => {
      expect(torch.tensor([1, 2]).dtype).toBe('int64');
      expect(torch.tensor([1.5, 2]).dtype).toBe('float32');
      expect(torch.tensor(true).dtype).toBe('bool');
      expect(torch.tensor(3).shape).toEqual([]);
      expect(torch.full([2], 3).dtype).toBe('int64');
      expect(torch.full([2], 0.5).dtype).toBe('float32');
      expect(torch.arange(5).dtype).toBe('int64');
      expect(torch.arange(0, 1, 0.25).toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    });
  });

  test('factories', () => {
    torch.tidy(() => {
      expect(torch.ones([2]).toArray()).toEqual([1, 1]);
      expect(torch.empty([4, 0]).shape).toEqual([4, 0]);
      expect(torch.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
      expect(torch.eye(2, 3).toArray()).toEqual([
        [1, 0, 0],
        [0, 1, 0],
      ]);
      const r = torch.randint(3, 5, [100]);
      expect(r.dtype).toBe('int64');
      expect((r.toArray() as number[]).every((v) => v === 3 || v === 4)).toBe(true);
      const u = torch.rand([1000]).toArray() as number[];
      expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...u)).toBeLessThan(1);
      expect(torch.zerosLike(torch.ones([2, 2], { dtype: 'float64' })).dtype).toBe('float64');
      expect(torch.ones([2], { requiresGrad: true }).requiresGrad).toBe(true);
    });
  });

  test('item, async data() and PyTorch-style printing', async () => {
    const t = torch.tensor([
      [1.5, -2],
      [3, 4],
    ]);
    expect(torch.tensor(2.5).item()).toBe(2.5);
    expect(torch.tensor(true).item()).toBe(true);
    expect(await t.data()).toEqual(new Float32Array([1.5, -2, 3, 4]));
    expect(String(t)).toBe('tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.0000]])');
    expect(String(torch.tensor([1, 2], { dtype: 'float64' }))).toBe('tensor([1., 2.], dtype=torch.float64)');
    expect(String(torch.tensor([1, 2]))).toBe('tensor([1, 2])');
    expect(String(torch.tensor([true, false]))).toBe('tensor([ True, False])');
    expect(String(torch.tensor([1e-5, 1]))).toBe('tensor([1.0000e-05, 1.0000e+00])');
    expect(String(torch.tensor(0.5))).toBe('tensor(0.5000)');
    expect(String(torch.zeros([0, 3]))).toBe('tensor([], size=(0, 3))');
    expect(String(torch.arange(2000))).toBe('tensor([   0,    1,    2,  ..., 1997, 1998, 1999])');
    torch.dispose(t);
  });

  test('printing matches PyTorch on the same values', () => {
    const cases = torch.tidy(() => ({
      a: torch.tensor([
        [0.1234567, -10.5],
        [1000, 0.001],
      ]),
      b: torch.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20], { dtype: 'float64' }),
      c: torch.tensor(
        [
          [
            [1, 2],
            [3, 4],
          ],
          [
            [5, 6],
            [7, 8],
          ],
        ],
        { dtype: 'int32' },
      ),
    }));
    const python = runPython(
      `import torch
for name, value in inputs.items():
    outputs[name] = torch.tensor(list(str(value).encode()), dtype=torch.uint8)`,
      cases,
    );
    for (const [name, value] of Object.entries(cases)) {
      const printed = Buffer.from(python[name]!.toTypedArray() as Uint8Array).toString();
      expect(String(value)).toBe(printed);
    }
    torch.dispose([cases, python]);
  });

  test('to() converts dtype and device and keeps gradients separate', () => {
    torch.tidy(() => {
      const t = torch.tensor([1.7, -1.2]);
      expect(t.to('int32').toArray()).toEqual([1, -1]);
      expect(t.to({ dtype: 'float64', device: 'cpu' }).dtype).toBe('float64');
      expect(t.to({})).toBe(t);
      expect(t.cpu().device).toBe('cpu');
      expect(t.clone().add_(1).toArray()).toEqual([1.7, -1.2].map((v) => Math.fround(Math.fround(v) + 1)));
      expect(t.toArray()).toEqual([1.7, -1.2].map((v) => Math.fround(v)));
      // Copies to the CPU always wait: nonBlocking changes nothing there.
      expect(t.to({ device: 'cpu', dtype: 'float64', nonBlocking: true }).toArray()).toEqual(t.to('float64').toArray());
      expect(() => t.to({ device: 'cpu', nonBlocking: 'yes' as unknown as boolean })).toThrow(
        /to\(\): option 'nonBlocking' must be a boolean, got string/,
      );
      expect(t.isPinned).toBe(false);
    });
  });

  const cuda = torch.cuda.isAvailable();
  (cuda ? test : test.skip)('device moves between CPU and CUDA', () => {
    torch.tidy(() => {
      const t = torch.tensor([1, 2, 3], { dtype: 'float32' });
      const g = t.cuda();
      expect(g.device).toBe('cuda:0');
      expect(g.mul(2).cpu().toArray()).toEqual([2, 4, 6]);
      expect(torch.zeros([2], { device: 'cuda:0' }).device).toBe('cuda:0');
      expect(torch.cuda.memoryStats().allocated).toBeGreaterThan(0);
      torch.cuda.synchronize();
    });
  });
  (cuda ? test : test.skip)('pinned memory, and copies to CUDA that do not wait, give the same values', () => {
    torch.tidy(() => {
      const host = torch.arange(0, 1 << 20, 1, { dtype: 'float32' });
      const pinned = host.pinMemory();
      expect([host.isPinned, pinned.isPinned]).toEqual([false, true]);
      const queued = pinned.to({ device: 'cuda', nonBlocking: true });
      expect(queued.device).toBe('cuda:0');
      // The copy is ordered before what follows on the stream: the sum sees all of it.
      expect(queued.sum().item()).toBe(host.sum().item());
      expect(host.to({ device: 'cuda', nonBlocking: true }).cpu().equal(host)).toBe(true);
      expect(() => queued.pinMemory()).toThrow(/pinMemory\(\): only a CPU tensor can be pinned, got one on cuda:0/);
    });
  });
  (cuda ? test : test.skip)('CUDA out of memory is an OutOfMemoryError; earlier tensors and the device stay usable', () => {
    torch.tidy(() => {
      const earlier = torch.arange(0, 5).cuda();
      const allocated = torch.cuda.memoryAllocated();
      expect(() => torch.empty([2 ** 45], { device: 'cuda' })).toThrow(torch.cuda.OutOfMemoryError);
      expect(() => torch.empty([2 ** 45], { device: 'cuda' })).toThrow(/^empty\(\): CUDA out of memory/);
      expect(torch.cuda.memoryAllocated()).toBe(allocated);
      torch.cuda.emptyCache();
      expect(earlier.add(1).sum().item()).toBe(15);
    });
  });
  if (!cuda) {
    test('CUDA is reported unavailable without a GPU, and CUDA calls explain why', () => {
      console.log('CUDA tests skipped: torch.cuda.isAvailable() is false (no NVIDIA GPU visible or a CPU libtorch)');
      expect(torch.cuda.deviceCount()).toBe(0);
      expect(() => torch.cuda.synchronize()).toThrow(/CUDA is not available/);
      expect(() => torch.zeros([1], { device: 'cuda' })).toThrow(/zeros\(\): argument 'device' is 'cuda' but CUDA is not available/);
      expect(() => torch.cuda.emptyCache()).not.toThrow();
      torch.tidy(() => expect(() => torch.zeros([2]).pinMemory()).toThrow(/pinMemory\(\): pinned memory needs CUDA/));
    });
  }
});

describe('seeded random numbers equal PyTorch bitwise', () => {
  test('randn, rand and randint after manualSeed', () => {
    torch.manualSeed(1234);
    const ours = { randn: torch.randn([4, 257]), rand: torch.rand([1000], { dtype: 'float64' }), randint: torch.randint(0, 100, [50]) };
    const theirs = runPython(`torch.manual_seed(1234)
outputs["randn"] = torch.randn(4, 257)
outputs["rand"] = torch.rand(1000, dtype=torch.float64)
outputs["randint"] = torch.randint(0, 100, (50,))`);
    for (const name of ['randn', 'rand', 'randint'] as const) {
      expect(Buffer.from(theirs[name]!.toTypedArray().buffer).equals(Buffer.from(ours[name].toTypedArray().buffer))).toBe(true);
    }
    torch.dispose([ours, theirs]);
  });
});

describe('autograd basics', () => {
  test('backward fills grad', () => {
    torch.tidy(() => {
      const w = torch.tensor([1, 2, 3], { dtype: 'float32', requiresGrad: true });
      w.mul(w).sum().backward();
      expect(w.grad?.toArray()).toEqual([2, 4, 6]);
      expect(w.grad).toBeInstanceOf(Tensor);
    });
  });
});
