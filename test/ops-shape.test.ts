// Shape, indexing (with the Python-style index helper), joining and padding against PyTorch.
import { type DType, torch } from '../lib';
import { type ParityCase, mismatches, parityDevices, runParity } from './support/parity';

function casesFor(dtype: DType): ParityCase[] {
  const x = torch.randn([2, 3, 4, 5], { dtype });
  const v = torch.randn([3, 1, 5], { dtype });
  const idx = torch.tensor([2, 0, 1]);
  const mask = torch.rand([3, 4]).gt(0.5);
  const gatherIndex = torch.randint(0, 3, [2, 3, 4, 5]);
  const cases: ParityCase[] = [
    {
      name: 'reshape view flatten',
      inputs: { x },
      ours: ({ x }) => [x!.reshape([6, -1]), x!.view([2, 12, 5]), x!.flatten(1), x!.flatten(0, 2)],
      python: '(x.reshape(6, -1), x.view(2, 12, 5), x.flatten(1), x.flatten(0, 2))',
      grad: ['x'],
    },
    {
      name: 'permute transpose contiguous',
      inputs: { x },
      ours: ({ x }) => [x!.permute([3, 1, 0, 2]).contiguous(), x!.transpose(1, 3).reshape([-1])],
      python: '(x.permute(3, 1, 0, 2).contiguous(), x.transpose(1, 3).reshape(-1))',
      grad: ['x'],
    },
    {
      name: 'squeeze unsqueeze',
      inputs: { v },
      ours: ({ v }) => [v!.squeeze(), v!.squeeze(1), v!.squeeze([0, 1]), v!.unsqueeze(0), v!.unsqueeze(-1)],
      python: '(v.squeeze(), v.squeeze(1), v.squeeze((0, 1)), v.unsqueeze(0), v.unsqueeze(-1))',
      grad: ['v'],
    },
    {
      name: 'expand repeat',
      inputs: { v },
      ours: ({ v }) => [v!.expand([2, 3, 4, 5]), v!.expand([-1, 6, -1]), v!.repeat([2, 1, 3])],
      python: '(v.expand(2, 3, 4, 5), v.expand(-1, 6, -1), v.repeat(2, 1, 3))',
      grad: ['v'],
    },
    {
      name: 'flip roll',
      inputs: { x },
      ours: ({ x }) => [x!.flip([1, 3]), x!.roll(2, 3), x!.roll([1, -2], [0, 2])],
      python: '(x.flip((1, 3)), x.roll(2, 3), x.roll((1, -2), (0, 2)))',
      grad: ['x'],
    },
    {
      name: 'channels last',
      inputs: { x },
      ours: ({ x }) => {
        const y = x!.contiguous('channelsLast');
        return [y.mul(2), torch.tensor(y.stride())];
      },
      python:
        '(x.contiguous(memory_format=torch.channels_last) * 2, torch.tensor(x.contiguous(memory_format=torch.channels_last).stride()))',
      grad: ['x'],
    },
    {
      name: 'narrow select',
      inputs: { x },
      ours: ({ x }) => [x!.narrow(2, 1, 2), x!.select(1, -1), x!.select(0, 0).narrow(0, 1, 1)],
      python: '(x.narrow(2, 1, 2), x.select(1, -1), x.select(0, 0).narrow(0, 1, 1))',
      grad: ['x'],
    },
    {
      name: 'index slices',
      inputs: { x },
      ours: ({ x }) => [
        x!.index(':, 1:3, ::2'),
        x!.index('...', '-2:'),
        x!.index(1, null, ':', 2),
        x!.index(torch.slice(undefined, undefined, 2), '1::2'),
      ],
      python: '(x[:, 1:3, ::2], x[..., -2:], x[1, None, :, 2], x[::2, 1::2])',
      grad: ['x'],
    },
    {
      name: 'index tensors',
      inputs: { x, idx, mask },
      ours: ({ x, idx, mask }) => [
        x!.index(':', idx!),
        x!.index(0, mask!),
        x!.index('...', idx!),
        x!.index(idx!.narrow(0, 1, 2), ':', idx!.narrow(0, 0, 2)),
      ],
      python: '(x[:, idx], x[0, mask], x[..., idx], x[idx[1:], :, idx[:2]])',
      grad: ['x'],
    },
    {
      name: 'indexPut',
      inputs: { x, idx, mask, v },
      ours: ({ x, idx, mask, v }) => {
        const y = x!.clone();
        y.indexPut_([':', '1:3'], 7);
        y.indexPut_([0, mask!], -1);
        y.indexPut_(['...', torch.tensor([4])], v!.narrow(2, 0, 1));
        y.indexPut_([1, idx!], 0.5);
        return y;
      },
      python:
        '(lambda y: (y.__setitem__((slice(None), slice(1, 3)), 7), y.__setitem__((0, mask), -1), y.__setitem__((Ellipsis, torch.tensor([4])), v[:, :, 0:1]), y.__setitem__((1, idx), 0.5), y)[-1])(x.clone())',
      grad: ['x', 'v'],
    },
    {
      name: 'indexSelect gather scatter',
      inputs: { x, idx, gatherIndex },
      ours: ({ x, idx, gatherIndex }) => [
        x!.indexSelect(1, idx!),
        x!.gather(1, gatherIndex!),
        x!.scatter(1, gatherIndex!.narrow(1, 0, 1), 9),
        x!.scatter(3, gatherIndex!.narrow(3, 0, 2), x!.narrow(3, 0, 2).neg()),
      ],
      python:
        '(x.index_select(1, idx), x.gather(1, gatherIndex), x.scatter(1, gatherIndex[:, 0:1], 9), x.scatter(3, gatherIndex[..., 0:2], -x[..., 0:2]))',
      grad: ['x'],
    },
    {
      name: 'masks',
      inputs: { x, mask },
      ours: ({ x, mask }) => [
        x!.maskedFill(mask!.unsqueeze(-1), 0),
        x!.maskedFill(mask!.unsqueeze(-1), torch.tensor(2.5, { dtype: x!.dtype })),
        x!.maskedSelect(mask!.unsqueeze(-1)),
      ],
      python:
        '(x.masked_fill(mask.unsqueeze(-1), 0), x.masked_fill(mask.unsqueeze(-1), torch.tensor(2.5, dtype=x.dtype)), x.masked_select(mask.unsqueeze(-1)))',
      grad: ['x'],
    },
    {
      name: 'cat stack',
      inputs: { x, v },
      ours: ({ x, v }) => [torch.cat([x!, x!.flip([0])], 1), torch.stack([v!, v!.mul(2)]), torch.cat([v!, v!], -1)],
      python: '(torch.cat([x, x.flip(0)], 1), torch.stack([v, v * 2]), torch.cat([v, v], -1))',
      grad: ['x', 'v'],
    },
    {
      name: 'split chunk',
      inputs: { x },
      ours: ({ x }) => [...x!.split(2, 3), ...x!.split([1, 2], 1), ...x!.chunk(2, 2)],
      python: '(*x.split(2, 3), *x.split([1, 2], 1), *x.chunk(2, 2))',
      grad: ['x'],
    },
    {
      name: 'pad',
      inputs: { x },
      ours: ({ x }) => [
        torch.pad(x!, [1, 2]),
        torch.pad(x!, [1, 1, 2, 0], { value: 3 }),
        torch.pad(x!, [2, 1, 1, 2], { mode: 'reflect' }),
        torch.pad(x!, [3, 3, 1, 1], { mode: 'replicate' }),
        torch.pad(x!, [2, 2, 1, 0], { mode: 'circular' }),
        torch.pad(x!, [-1, -1]),
      ],
      python:
        '(F.pad(x, (1, 2)), F.pad(x, (1, 1, 2, 0), value=3), F.pad(x, (2, 1, 1, 2), mode="reflect"), F.pad(x, (3, 3, 1, 1), mode="replicate"), F.pad(x, (2, 2, 1, 0), mode="circular"), F.pad(x, (-1, -1)))',
      grad: ['x'],
    },
    {
      name: 'to clone detach',
      inputs: { x },
      ours: ({ x }) => [x!.to('float64'), x!.to({ dtype: 'float16' }), x!.clone(), x!.detach().mul(2), x!.to('int32')],
      python: '(x.to(torch.float64), x.to(torch.float16), x.clone(), x.detach() * 2, x.to(torch.int32))',
      grad: ['x'],
    },
  ];
  return cases.map((c) => ({ ...c, name: `${c.name} ${dtype}` }));
}

describe('shape, indexing, joining and padding equal PyTorch', () => {
  test.each(parityDevices())('values and gradients on %s (bitwise on the CPU)', (device) => {
    torch.manualSeed(2);
    torch.tidy(() => {
      const results = runParity((['float32', 'float64'] as DType[]).flatMap(casesFor), device);
      expect(results.length).toBeGreaterThan(120);
      expect(mismatches(results)).toEqual([]);
    });
  });

  test('index() returns views that share memory, and rejects bad indices with clear errors', () => {
    torch.tidy(() => {
      const x = torch.zeros([4, 6]);
      x.index(':', '1:3').fill_(1);
      expect(x.sum().item()).toBe(8);
      expect(() => x.index(0, 0, 0)).toThrow(/index\(\): too many indices for a tensor of dimension 2 \(got 3\)/);
      expect(() => x.index('1:x')).toThrow(/index\(\): '1:x' is not a valid index: 'x' is not an integer/);
      expect(() => x.index('...', '...')).toThrow(/only one '\.\.\.'/);
      expect(() => x.index(1.5)).toThrow(/an index must be an integer, got 1.5/);
      expect(() => x.index(9)).toThrow(/select\(\): index 9 out of range/);
      expect(() => torch.pad(x, [1, 1], { mode: 'mirror' as 'reflect' })).toThrow(
        /pad\(\): option 'mode' must be one of 'constant', 'reflect', 'replicate', 'circular', got 'mirror'/,
      );
      expect(() => torch.pad(x, [1, 1], { mode: 'reflect', value: 2 })).toThrow(/option 'value' applies only to mode 'constant'/);
      expect(() => x.view([5, 5])).toThrow(/view\(\): shape '\[5, 5\]' is invalid for input of size 24/);
      expect(() => torch.cat([x, torch.zeros([3, 5])], 0)).toThrow(/cat\(\): Sizes of tensors must match/);
    });
  });
});
