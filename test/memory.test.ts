import * as v8 from 'node:v8';
import * as vm from 'node:vm';

import { type Tensor, torch } from '../lib';

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;

describe('deterministic memory release', () => {
  test('10,000 tensors created inside tidy() without yielding leave memory at its baseline', () => {
    const before = torch.memory();
    torch.tidy(() => {
      let x = torch.zeros([64]);
      for (let k = 0; k < 10000; k += 1) x = x.add(1);
      expect(torch.memory().liveTensors).toBeGreaterThan(before.liveTensors + 9999);
    });
    const after = torch.memory();
    expect(after.liveTensors).toBe(before.liveTensors);
    expect(after.devices.cpu?.bytes ?? 0).toBe(before.devices.cpu?.bytes ?? 0);
    expect(after.scopeDepth).toBe(0);
  });

  test('returned tensors (also inside arrays, objects and Maps) survive; the rest are freed', () => {
    const before = torch.memory().liveTensors;
    let scratch: Tensor | undefined;
    const result = torch.tidy(() => {
      scratch = torch.ones([2]);
      return { a: torch.ones([1]), list: [torch.zeros([1])], map: new Map([['m', torch.zeros([3])]]) };
    });
    expect(scratch?.isDisposed).toBe(true);
    expect(result.a.isDisposed).toBe(false);
    expect(result.list[0]?.isDisposed).toBe(false);
    expect(result.map.get('m')?.isDisposed).toBe(false);
    expect(torch.memory().liveTensors).toBe(before + 3);
    torch.dispose(result);
    expect(torch.memory().liveTensors).toBe(before);
  });

  test('nested scopes move returned tensors to the enclosing scope, keep() exempts a tensor', () => {
    const before = torch.memory().liveTensors;
    let inner: Tensor | undefined;
    let kept: Tensor | undefined;
    torch.tidy(() => {
      inner = torch.tidy(() => torch.ones([1]));
      kept = torch.keep(torch.zeros([1]));
      expect(inner.isDisposed).toBe(false);
    });
    expect(inner?.isDisposed).toBe(true);
    expect(kept?.isDisposed).toBe(false);
    kept?.dispose();
    expect(torch.memory().liveTensors).toBe(before);
  });

  test('a throwing fn still frees its tensors; a Promise is refused', async () => {
    const before = torch.memory().liveTensors;
    expect(() =>
      torch.tidy(() => {
        torch.ones([4]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(torch.memory().liveTensors).toBe(before);
    expect(() => torch.tidy(async () => torch.ones([1]))).toThrow(/tidy\(\): fn returned a Promise/);
    expect(torch.memory().liveTensors).toBe(before);
    expect(torch.memory().scopeDepth).toBe(0);
  });

  test('dispose() is idempotent, `using` disposes, and use after dispose throws a clear error', () => {
    const t = torch.ones([2]);
    t.dispose();
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => t.add(1)).toThrow(/add\(\): argument 'input' must be a live Tensor, got a disposed Tensor/);
    expect(() => t.shape).toThrow(/shape\(\): argument 'tensor' must be a live Tensor, got a disposed Tensor/);
    expect(String(t)).toBe('tensor(<disposed>)');
    let escaped: Tensor;
    {
      using u = torch.zeros([1]);
      escaped = u;
    }
    expect(escaped.isDisposed).toBe(true);
  });

  test('views share storage: bytes are counted once', () => {
    torch.tidy(() => {
      const base = torch.zeros([256], { dtype: 'float32' });
      const bytes = torch.memory().devices.cpu?.bytes ?? 0;
      const view = base.reshape([16, 16]);
      expect(view.shape).toEqual([16, 16]);
      expect(torch.memory().devices.cpu?.bytes).toBe(bytes);
    });
  });

  test('async data() keeps working when the handle is disposed right after the call', async () => {
    const t = torch.arange(0, 1000, 1, { dtype: 'float32' });
    const pending = t.data();
    t.dispose();
    const values = await pending;
    expect(values.length).toBe(1000);
    expect(values[999]).toBe(999);
  });

  test('V8 hears of the bytes of tensors outside every tidy() scope, so dropped ones are collected without an explicit gc()', async () => {
    const before = torch.memory().liveTensors;
    let peakBytes = 0;
    // 300 dropped tensors of 10 MB: 3 GB if V8 never collected them, as it would not if it saw
    // only their small JS objects.
    for (let round = 0; round < 300; round += 1) {
      torch.ones([2_500_000]);
      peakBytes = Math.max(peakBytes, torch.memory().devices.cpu?.bytes ?? 0);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(peakBytes).toBeLessThan(1e9);
    expect(torch.memory().liveTensors - before).toBeLessThan(100);
  });

  test('the garbage collector frees tensors dropped outside every tidy() scope (the backstop)', async () => {
    // Tensors earlier test files dropped (jest reuses its processes) are collected first.
    for (let round = 0; round < 3; round += 1) {
      collectGarbage();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const before = torch.memory().liveTensors;
    const drop = (): void => {
      for (let k = 0; k < 100; k += 1) torch.ones([1000]);
      torch.tidy(() => torch.ones([10])); // escapes the outermost scope: gets its finalizer there
      torch.keep(torch.tidy(() => torch.keep(torch.ones([10]))));
    };
    drop();
    expect(torch.memory().liveTensors).toBe(before + 102);
    for (let round = 0; round < 10 && torch.memory().liveTensors > before; round += 1) {
      collectGarbage();
      await new Promise((resolve) => setImmediate(resolve)); // finalizers run when the event loop turns
    }
    expect(torch.memory().liveTensors).toBe(before);
  });
});

describe('the cache of freed CPU blocks', () => {
  const MiB = 2 ** 20;

  test('a freed block of 1 MiB or more is kept and handed out again for a request of two thirds of its size or more; small ones are not kept', () => {
    torch.cpu.emptyCache();
    expect(torch.cpu.cacheStats()).toMatchObject({ bytes: 0, blocks: 0 });
    expect(torch.cpu.cacheStats().limit).toBeGreaterThan(0);
    torch.tidy(() => {
      torch.ones([MiB]); // 4 MiB of float32
      torch.ones([100]);
    });
    const kept = torch.cpu.cacheStats();
    expect(kept.blocks).toBe(1);
    expect(kept.bytes).toBeGreaterThanOrEqual(4 * MiB);
    expect(kept.bytes).toBeLessThan(4 * MiB + 8192);

    const reused = torch.full([MiB], 3, { dtype: 'float32' });
    expect(torch.cpu.cacheStats().blocks).toBe(0);
    expect(reused.sum().item()).toBe(3 * MiB);
    reused.dispose();
    const slightlySmaller = torch.zeros([Math.floor(MiB * 0.7)]);
    expect(torch.cpu.cacheStats().blocks).toBe(0);
    expect(slightlySmaller.sum().item()).toBe(0);
    slightlySmaller.dispose();
    const half = torch.zeros([MiB / 2]); // 2 MiB: a block of its own, the 4 MiB one stays cached
    expect(torch.cpu.cacheStats().blocks).toBe(1);
    half.dispose();
    expect(torch.cpu.cacheStats().blocks).toBe(2);

    torch.cpu.emptyCache();
    expect(torch.cpu.cacheStats()).toMatchObject({ bytes: 0, blocks: 0 });
  });

  test('an allocation that fails frees the cached blocks and tries again before it throws OutOfMemoryError', () => {
    torch.tidy(() => {
      torch.ones([MiB]);
    });
    expect(torch.cpu.cacheStats().blocks).toBeGreaterThan(0);
    expect(() => torch.empty([2 ** 40])).toThrow(torch.OutOfMemoryError);
    expect(torch.cpu.cacheStats()).toMatchObject({ bytes: 0, blocks: 0 });
    expect(torch.ones([MiB]).sum().item()).toBe(MiB);
  });
});
