// Arithmetic, math, comparison, reductions and linear algebra against PyTorch: values and
// gradients, float32 and float64, broadcasting and non-contiguous (transposed) inputs.
import { type DType, torch } from '../lib';
import { type ParityCase, mismatches, parityDevices, runParity } from './support/parity';

const FLOATS: DType[] = ['float32', 'float64'];

function casesFor(dtype: DType): ParityCase[] {
  const a = torch.randn([3, 4], { dtype });
  const b = torch.randn([4], { dtype }); // broadcasts against a
  const c = torch.randn([4, 3], { dtype }); // transposed below: a non-contiguous operand
  const positive = torch.rand([3, 4], { dtype }).add(0.1);
  const m = torch.randn([2, 3, 5], { dtype });
  const n = torch.randn([2, 5, 2], { dtype });
  const cases: ParityCase[] = [
    { name: 'add', inputs: { a, b }, ours: ({ a, b }) => a!.add(b!, 2.5), python: 'torch.add(a, b, alpha=2.5)', grad: ['a', 'b'] },
    { name: 'add scalar', inputs: { a }, ours: ({ a }) => a!.add(3), python: 'a + 3', grad: ['a'] },
    {
      name: 'sub non-contiguous',
      inputs: { a, c },
      ours: ({ a, c }) => a!.sub(c!.transpose(0, 1)),
      python: 'a - c.transpose(0, 1)',
      grad: ['a', 'c'],
    },
    { name: 'mul', inputs: { a, b }, ours: ({ a, b }) => a!.mul(b!), python: 'a * b', grad: ['a', 'b'] },
    { name: 'div', inputs: { a, positive }, ours: ({ a, positive }) => a!.div(positive!), python: 'a / positive', grad: ['a', 'positive'] },
    {
      name: 'div floor',
      inputs: { a, positive },
      ours: ({ a, positive }) => a!.mul(10).div(positive!, 'floor'),
      python: 'torch.div(a * 10, positive, rounding_mode="floor")',
    },
    {
      name: 'div trunc',
      inputs: { a },
      ours: ({ a }) => a!.mul(10).div(3, 'trunc'),
      python: 'torch.div(a * 10, 3, rounding_mode="trunc")',
    },
    {
      name: 'pow',
      inputs: { positive, b },
      ours: ({ positive, b }) => positive!.pow(b!),
      python: 'positive ** b',
      grad: ['positive', 'b'],
    },
    {
      name: 'pow scalar exponent',
      inputs: { a, positive },
      ours: ({ a, positive }) => [a!.pow(2), positive!.pow(0.5), a!.pow(3)],
      python: '(a.pow(2), positive.pow(0.5), a.pow(3))',
      grad: ['a', 'positive'],
    },
    { name: 'add fraction', inputs: { a }, ours: ({ a }) => a!.add(0.1).mul(1 / 3), python: '(a + 0.1) * (1 / 3)', grad: ['a'] },
    { name: 'pow scalar base', inputs: { a }, ours: ({ a }) => torch.pow(2, a!), python: '2 ** a', grad: ['a'] },
    {
      name: 'sqrt rsqrt',
      inputs: { positive },
      ours: ({ positive }) => [positive!.sqrt(), positive!.rsqrt()],
      python: '(positive.sqrt(), positive.rsqrt())',
      grad: ['positive'],
    },
    {
      name: 'exp log log1p',
      inputs: { a, positive },
      ours: ({ a, positive }) => [a!.exp(), positive!.log(), positive!.log1p()],
      python: '(a.exp(), positive.log(), positive.log1p())',
      grad: ['a', 'positive'],
    },
    {
      name: 'neg abs sign',
      inputs: { a },
      ours: ({ a }) => [a!.neg(), a!.abs(), a!.sign()],
      python: '(-a, a.abs(), a.sign())',
      grad: ['a'],
    },
    {
      name: 'floor ceil round',
      inputs: { a },
      ours: ({ a }) => [a!.mul(3).floor(), a!.mul(3).ceil(), a!.mul(3).round()],
      python: '((a * 3).floor(), (a * 3).ceil(), (a * 3).round())',
      grad: ['a'],
    },
    {
      name: 'clamp',
      inputs: { a },
      ours: ({ a }) => [a!.clamp(-0.5, 0.5), a!.clamp(0), a!.clamp(undefined, 0.1)],
      python: '(a.clamp(-0.5, 0.5), a.clamp(min=0), a.clamp(max=0.1))',
      grad: ['a'],
    },
    {
      name: 'minimum maximum',
      inputs: { a, b },
      ours: ({ a, b }) => [torch.minimum(a!, b!), torch.maximum(a!, b!)],
      python: '(torch.minimum(a, b), torch.maximum(a, b))',
      grad: ['a', 'b'],
    },
    {
      name: 'lerp',
      inputs: { a, c },
      ours: ({ a, c }) => a!.lerp(c!.transpose(0, 1), 0.3),
      python: 'torch.lerp(a, c.transpose(0, 1), 0.3)',
      grad: ['a', 'c'],
    },
    {
      name: 'in place',
      inputs: { a, b },
      ours: ({ a, b }) => a!.clone().add_(b!, 2).sub_(1).mul_(b!).div_(3).clamp_(-1, 1).neg_(),
      python: 'a.clone().add_(b, alpha=2).sub_(1).mul_(b).div_(3).clamp_(-1, 1).neg_()',
      grad: ['a', 'b'],
    },
    {
      name: 'in place sqrt exp',
      inputs: { positive },
      ours: ({ positive }) => [positive!.clone().sqrt_(), positive!.clone().exp_()],
      python: '(positive.clone().sqrt_(), positive.clone().exp_())',
      grad: ['positive'],
    },
    {
      name: 'comparisons',
      inputs: { a, b },
      ours: ({ a, b }) => [a!.eq(b!), a!.ne(b!), a!.lt(b!), a!.le(0), a!.gt(b!), a!.ge(0.2)],
      python: '(a == b, a != b, a < b, a <= 0, a > b, a >= 0.2)',
    },
    {
      name: 'logic',
      inputs: { a, b },
      ours: ({ a, b }) => [a!.gt(0).logicalAnd(b!.gt(0)), a!.gt(0).logicalOr(b!.gt(0)), a!.gt(0).logicalNot()],
      python: '((a > 0).logical_and(b > 0), (a > 0).logical_or(b > 0), (a > 0).logical_not())',
    },
    {
      name: 'isnan isfinite',
      inputs: { a },
      ours: ({ a }) => [a!.log().isnan(), a!.div(0).isfinite()],
      python: '(a.log().isnan(), (a / 0).isfinite())',
    },
    {
      name: 'where',
      inputs: { a, b },
      ours: ({ a, b }) => torch.where(a!.gt(0), a!, b!),
      python: 'torch.where(a > 0, a, b)',
      grad: ['a', 'b'],
    },
    {
      name: 'where scalar',
      inputs: { a },
      ours: ({ a }) => torch.where(a!.gt(0), a!, 0),
      python: 'torch.where(a > 0, a, 0.0)',
      grad: ['a'],
    },
    {
      name: 'sum mean',
      inputs: { m },
      ours: ({ m }) => [m!.sum(), m!.sum([0, 2]), m!.mean(1, { keepdim: true }), m!.sum(-1, { dtype: 'float64' })],
      python: '(m.sum(), m.sum((0, 2)), m.mean(1, keepdim=True), m.sum(-1, dtype=torch.float64))',
      grad: ['m'],
    },
    {
      name: 'prod',
      inputs: { a },
      ours: ({ a }) => [a!.prod(), a!.prod(1), a!.prod(0, { keepdim: true })],
      python: '(a.prod(), a.prod(1), a.prod(0, keepdim=True))',
      grad: ['a'],
    },
    {
      name: 'max min',
      inputs: { m },
      ours: ({ m }) => {
        const mx = m!.max(1);
        const mn = m!.min(2, { keepdim: true });
        return [m!.max(), m!.min(), mx.values, mx.indices, mn.values, mn.indices];
      },
      python: '(m.max(), m.min(), *m.max(1), *m.min(2, keepdim=True))',
      grad: ['m'],
    },
    {
      name: 'argmax argmin',
      inputs: { m },
      ours: ({ m }) => [m!.argmax(), m!.argmax(2), m!.argmin(1, { keepdim: true })],
      python: '(m.argmax(), m.argmax(2), m.argmin(1, keepdim=True))',
    },
    {
      name: 'std var',
      inputs: { m },
      ours: ({ m }) => [m!.std(), m!.var(1), m!.std([0, 2], { correction: 0, keepdim: true })],
      python: '(m.std(), m.var(1), m.std((0, 2), correction=0, keepdim=True))',
      grad: ['m'],
    },
    {
      name: 'norm',
      inputs: { m },
      ours: ({ m }) => [m!.norm(), m!.norm(1, 2), m!.norm(3, [1, 2], { keepdim: true })],
      python: '(m.norm(), m.norm(1, 2), m.norm(3, (1, 2), keepdim=True))',
      grad: ['m'],
    },
    {
      name: 'all any',
      inputs: { a },
      ours: ({ a }) => [a!.gt(-5).all(), a!.gt(0).all(1), a!.gt(0).any(), a!.gt(1).any(0, { keepdim: true })],
      python: '((a > -5).all(), (a > 0).all(1), (a > 0).any(), (a > 1).any(0, keepdim=True))',
    },
    { name: 'cumsum', inputs: { a }, ours: ({ a }) => a!.cumsum(1), python: 'a.cumsum(1)', grad: ['a'] },
    { name: 'matmul', inputs: { m, n }, ours: ({ m, n }) => m!.matmul(n!), python: 'm @ n', grad: ['m', 'n'] },
    {
      name: 'matmul broadcast',
      inputs: { m, c },
      ours: ({ m, c }) => m!.transpose(1, 2).matmul(c!.transpose(0, 1).narrow(0, 0, 3)),
      python: 'm.transpose(1, 2) @ c.transpose(0, 1).narrow(0, 0, 3)',
      grad: ['m', 'c'],
    },
    {
      name: 'mm bmm outer',
      inputs: { a, c, m, n, b },
      ours: ({ a, c, m, n, b }) => [a!.mm(c!), m!.bmm(n!), b!.outer(b!)],
      python: '(a.mm(c), m.bmm(n), b.outer(b))',
      grad: ['a', 'c', 'm', 'n', 'b'],
    },
  ];
  return cases.map((c) => ({ ...c, name: `${c.name} ${dtype}` }));
}

function integerCases(): ParityCase[] {
  const i = torch.randint(-20, 20, [3, 4]);
  const j = torch.randint(1, 7, [4], { dtype: 'int32' });
  return [
    {
      name: 'int promotion',
      inputs: { i, j },
      ours: ({ i, j }) => [i!.add(j!), i!.mul(2), i!.add(2.5), i!.div(j!), i!.div(j!, 'floor'), i!.sum()],
      python: '(i + j, i * 2, i + 2.5, i / j, torch.div(i, j, rounding_mode="floor"), i.sum())',
    },
    {
      name: 'int compare',
      inputs: { i },
      ours: ({ i }) => [i!.eq(3), i!.abs(), i!.clamp(-5, 5), i!.max(), i!.cumsum(0)],
      python: '(i == 3, i.abs(), i.clamp(-5, 5), i.max(), i.cumsum(0))',
    },
  ];
}

describe('math, comparison, reductions and linear algebra equal PyTorch', () => {
  test.each(parityDevices())('values and gradients on %s (bitwise on the CPU)', (device) => {
    torch.manualSeed(1);
    torch.tidy(() => {
      const results = runParity([...FLOATS.flatMap(casesFor), ...integerCases()], device);
      expect(results.length).toBeGreaterThan(150);
      expect(mismatches(results)).toEqual([]);
    });
  });

  test('errors name the operation and carry torch message', () => {
    torch.tidy(() => {
      const a = torch.ones([2, 3]);
      expect(() => a.add(torch.ones([4]))).toThrow(/add\(\): The size of tensor a \(3\) must match the size of tensor b \(4\)/);
      expect(() => a.matmul(a)).toThrow(/matmul\(\): mat1 and mat2 shapes cannot be multiplied/);
      expect(() => a.div(2, 'round' as 'floor')).toThrow(/div\(\): .*rounding_mode/);
      expect(() => a.sum(5)).toThrow(/sum\(\): Dimension out of range/);
    });
  });
});
