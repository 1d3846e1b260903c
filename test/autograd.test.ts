// Autograd: backward with a gradient and retainGraph, torch.autograd.grad (also higher order),
// and the grad-mode scopes.
import { torch } from '../lib';
import { runPython } from './support/python';

describe('autograd', () => {
  test('backward(gradient, retainGraph), .grad and autograd.grad equal PyTorch, second derivatives too', () => {
    torch.manualSeed(5);
    torch.tidy(() => {
      const x = torch.randn([3, 4], { dtype: 'float64', requiresGrad: true });
      const v = torch.randn([3, 4], { dtype: 'float64' });
      const y = x.mul(x).exp().mul(x);
      y.backward(v, { retainGraph: true });
      y.backward(v); // accumulates: twice the vector-Jacobian product
      const accumulated = x.grad!;
      const [first] = torch.autograd.grad(x.pow(3).sum(), [x], { createGraph: true });
      const [second] = torch.autograd.grad(first!.sum(), [x]);
      const theirs = runPython(
        `x = inputs["x"].requires_grad_(True)
v = inputs["v"]
y = (x * x).exp() * x
y.backward(v, retain_graph=True)
y.backward(v)
outputs["accumulated"] = x.grad
first, = torch.autograd.grad((x ** 3).sum(), [x], create_graph=True)
second, = torch.autograd.grad(first.sum(), [x])
outputs["first"] = first
outputs["second"] = second`,
        { x: x.detach(), v },
      );
      expect(accumulated.equal(theirs.accumulated!)).toBe(true);
      expect(first!.equal(theirs.first!)).toBe(true);
      expect(second!.equal(theirs.second!)).toBe(true);
    });
  });

  test('autograd.grad: allowUnused gives null; an unused input throws otherwise; retainGraph', () => {
    torch.tidy(() => {
      const a = torch.ones([2], { requiresGrad: true });
      const b = torch.ones([2], { requiresGrad: true });
      const out = a.mul(3).sum();
      expect(() => torch.autograd.grad(out, [a, b], { retainGraph: true })).toThrow(
        /autogradGrad\(\): element 1 ?of the differentiated Tensors appears to not have been used in the graph/,
      );
      const [ga, gb] = torch.autograd.grad(out, [a, b], { allowUnused: true, retainGraph: true });
      expect(ga!.toArray()).toEqual([3, 3]);
      expect(gb).toBeNull();
      torch.autograd.grad(out, a);
      expect(() => torch.autograd.grad(out, a)).toThrow(/Trying to backward through the graph a second time/);
    });
  });

  test('noGrad, enableGrad and inferenceMode nest, restore on exceptions and refuse Promises', () => {
    torch.tidy(() => {
      const x = torch.ones([2], { requiresGrad: true });
      expect(torch.isGradEnabled()).toBe(true);
      const inner = torch.noGrad(() => {
        expect(torch.isGradEnabled()).toBe(false);
        const off = x.mul(2);
        const on = torch.enableGrad(() => x.mul(2));
        expect(torch.isGradEnabled()).toBe(false);
        return { off, on };
      });
      expect(inner.off.requiresGrad).toBe(false);
      expect(inner.on.requiresGrad).toBe(true);
      expect(torch.isGradEnabled()).toBe(true);
      expect(() =>
        torch.noGrad(() => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(torch.isGradEnabled()).toBe(true);
      expect(() => torch.noGrad(() => Promise.resolve(1))).toThrow(/noGrad\(\): fn returned a Promise/);
      expect(torch.isGradEnabled()).toBe(true);

      const made = torch.inferenceMode(() => {
        expect(torch.isInferenceMode()).toBe(true);
        torch.inferenceMode(() => expect(torch.isInferenceMode()).toBe(true));
        expect(torch.isInferenceMode()).toBe(true);
        return x.mul(2);
      });
      expect(torch.isInferenceMode()).toBe(false);
      expect(made.requiresGrad).toBe(false);
      expect(() => made.mul(x).sum().backward()).toThrow(/Inference tensors cannot be saved for backward/);
      expect(() =>
        torch.inferenceMode(() => {
          throw new RangeError('inner');
        }),
      ).toThrow(RangeError);
      expect(torch.isInferenceMode()).toBe(false);
    });
  });

  test('gradients obey tidy(): freed at the end of the scope unless returned', () => {
    const before = torch.memory().liveTensors;
    const w = torch.ones([4], { requiresGrad: true });
    for (let step = 0; step < 100; step += 1) {
      torch.tidy(() => {
        w.mul(2).sum().backward();
        const [g] = torch.autograd.grad(w.mul(w).sum(), [w]);
        expect(g!.shape).toEqual([4]);
      });
    }
    const grad = w.grad!;
    expect(grad.toArray()).toEqual([200, 200, 200, 200]);
    grad.dispose();
    w.grad = null;
    expect(w.grad).toBeNull();
    w.dispose();
    expect(torch.memory().liveTensors).toBe(before);
  });
});
