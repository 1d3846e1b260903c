// torch.nn.functional against PyTorch: convolution, pooling, activations, normalisation,
// resampling and losses, values and gradients, float32 and float64.
import { type DType, torch } from '../lib';
import { type ParityCase, mismatches, parityDevices, runParity } from './support/parity';

const F = torch.nn.functional;

function casesFor(dtype: DType): ParityCase[] {
  const o = { dtype };
  const x = torch.randn([2, 3, 10, 12], o);
  const w = torch.randn([4, 3, 3, 3], o);
  const b = torch.randn([4], o);
  const wt = torch.randn([3, 2, 2, 2], o); // up-convolution: 3 channels in, 2 out
  const gamma = torch.rand([3], o).add(0.5);
  const beta = torch.randn([3], o);
  const runningMean = torch.randn([3], o);
  const runningVar = torch.rand([3], o).add(0.5);
  const target = torch.randint(0, 3, [2, 10, 12]);
  const classWeight = torch.rand([3], o).add(0.2);
  const probabilities = torch.rand([2, 10, 12], o);
  const theta = torch.tensor(
    [
      [
        [0.9, -0.2, 0.1],
        [0.15, 1.1, -0.05],
      ],
      [
        [1, 0, 0.2],
        [0, 1, 0],
      ],
    ],
    o,
  );
  const grid = torch.rand([2, 5, 7, 2], o).mul(2.4).sub(1.2);
  const cases: ParityCase[] = [
    {
      name: 'conv2d',
      inputs: { x, w, b },
      ours: ({ x, w, b }) => [
        F.conv2d(x!, w!),
        F.conv2d(x!, w!, { bias: b!, padding: 1, stride: 2 }),
        F.conv2d(x!, w!, { padding: 'same', dilation: 2 }),
      ],
      python: '(F.conv2d(x, w), F.conv2d(x, w, b, padding=1, stride=2), F.conv2d(x, w, padding="same", dilation=2))',
      grad: ['x', 'w', 'b'],
    },
    {
      name: 'conv2d groups non-contiguous',
      inputs: { x, w },
      ours: ({ x, w }) => F.conv2d(x!.transpose(2, 3), w!.narrow(1, 0, 1).repeat([3, 1, 1, 1]), { groups: 3, padding: [0, 1] }),
      python: 'F.conv2d(x.transpose(2, 3), w[:, 0:1].repeat(3, 1, 1, 1), groups=3, padding=(0, 1))',
      grad: ['x', 'w'],
    },
    {
      name: 'conv2d channels last',
      inputs: { x, w },
      ours: ({ x, w }) => F.conv2d(x!.contiguous('channelsLast'), w!.contiguous('channelsLast')),
      python: 'F.conv2d(x.contiguous(memory_format=torch.channels_last), w.contiguous(memory_format=torch.channels_last))',
      grad: ['x', 'w'],
    },
    {
      name: 'convTranspose2d',
      inputs: { x, wt },
      ours: ({ x, wt }) => [
        F.convTranspose2d(x!, wt!, { stride: 2 }),
        F.convTranspose2d(x!, wt!, { stride: 2, padding: 1, outputPadding: 1 }),
      ],
      python: '(F.conv_transpose2d(x, wt, stride=2), F.conv_transpose2d(x, wt, stride=2, padding=1, output_padding=1))',
      grad: ['x', 'wt'],
    },
    {
      name: 'maxPool2d',
      inputs: { x },
      ours: ({ x }) => {
        const first = [F.maxPool2d(x!, 2), F.maxPool2d(x!, [2, 3], { ceilMode: true })];
        const p = F.maxPool2d(x!, 3, { stride: 2, padding: 1, returnIndices: true });
        return [...first, p.values, p.indices];
      },
      python:
        '(F.max_pool2d(x, 2), F.max_pool2d(x, (2, 3), ceil_mode=True), *F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True))',
      grad: ['x'],
    },
    {
      name: 'avgPool2d adaptive',
      inputs: { x },
      ours: ({ x }) => [
        F.avgPool2d(x!, 2),
        F.avgPool2d(x!, 3, { stride: 2, padding: 1, countIncludePad: false }),
        F.adaptiveAvgPool2d(x!, [3, 5]),
      ],
      python: '(F.avg_pool2d(x, 2), F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False), F.adaptive_avg_pool2d(x, (3, 5)))',
      grad: ['x'],
    },
    {
      name: 'activations',
      inputs: { x },
      ours: ({ x }) => [
        F.relu(x!),
        F.leakyRelu(x!, 0.2),
        F.elu(x!),
        F.gelu(x!),
        F.gelu(x!, { approximate: 'tanh' }),
        F.sigmoid(x!),
        F.tanh(x!),
        F.relu_(x!.mul(1)),
      ],
      python:
        '(F.relu(x), F.leaky_relu(x, 0.2), F.elu(x), F.gelu(x), F.gelu(x, approximate="tanh"), torch.sigmoid(x), torch.tanh(x), F.relu_(x * 1))',
      grad: ['x'],
    },
    {
      name: 'softmax',
      inputs: { x },
      ours: ({ x }) => [F.softmax(x!, 1), F.logSoftmax(x!, 1), F.softmax(x!, -1, { dtype: 'float64' })],
      python: '(F.softmax(x, 1), F.log_softmax(x, 1), F.softmax(x, -1, dtype=torch.float64))',
      grad: ['x'],
    },
    {
      name: 'dropout off',
      inputs: { x },
      ours: ({ x }) => [F.dropout(x!, { training: false }), F.dropout2d(x!, { p: 0.3, training: false })],
      python: '(F.dropout(x, training=False), F.dropout2d(x, 0.3, training=False))',
      grad: ['x'],
    },
    {
      name: 'batchNorm training',
      inputs: { x, gamma, beta, runningMean, runningVar },
      ours: ({ x, gamma, beta, runningMean, runningVar }) => {
        const rm = runningMean!.clone();
        const rv = runningVar!.clone();
        return [F.batchNorm(x!, rm, rv, { weight: gamma!, bias: beta!, training: true, momentum: 0.2 }), rm, rv];
      },
      python:
        '(lambda rm, rv: (F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.2), rm, rv))(runningMean.clone(), runningVar.clone())',
      grad: ['x', 'gamma', 'beta'],
    },
    {
      name: 'batchNorm eval',
      inputs: { x, gamma, beta, runningMean, runningVar },
      ours: ({ x, gamma, beta, runningMean, runningVar }) => F.batchNorm(x!, runningMean!, runningVar!, { weight: gamma!, bias: beta! }),
      python: 'F.batch_norm(x, runningMean, runningVar, gamma, beta)',
      grad: ['x', 'gamma', 'beta'],
    },
    {
      name: 'instance group layer norm',
      inputs: { x, gamma, beta },
      ours: ({ x, gamma, beta }) => [
        F.instanceNorm(x!, { weight: gamma!, bias: beta! }),
        F.groupNorm(x!, 3, { weight: gamma!, bias: beta! }),
        F.groupNorm(x!, 1),
        F.layerNorm(x!, [10, 12], { eps: 1e-3 }),
      ],
      python:
        '(F.instance_norm(x, weight=gamma, bias=beta), F.group_norm(x, 3, gamma, beta), F.group_norm(x, 1), F.layer_norm(x, (10, 12), eps=1e-3))',
      grad: ['x', 'gamma', 'beta'],
    },
    {
      name: 'interpolate',
      inputs: { x },
      ours: ({ x }) => [
        F.interpolate(x!, { scaleFactor: 2 }),
        F.interpolate(x!, { size: [7, 9], mode: 'bilinear' }),
        F.interpolate(x!, { size: [15, 5], mode: 'bilinear', alignCorners: true }),
        F.interpolate(x!, { scaleFactor: 1.5, mode: 'bicubic' }),
        F.interpolate(x!, { size: [20, 30], mode: 'bicubic', alignCorners: true }),
      ],
      python:
        '(F.interpolate(x, scale_factor=2), F.interpolate(x, size=(7, 9), mode="bilinear"), F.interpolate(x, size=(15, 5), mode="bilinear", align_corners=True), F.interpolate(x, scale_factor=1.5, mode="bicubic"), F.interpolate(x, size=(20, 30), mode="bicubic", align_corners=True))',
      grad: ['x'],
    },
    {
      name: 'gridSample',
      inputs: { x, grid },
      ours: ({ x, grid }) =>
        (['bilinear', 'nearest', 'bicubic'] as const).flatMap((mode) =>
          (['zeros', 'border', 'reflection'] as const).map((paddingMode) =>
            F.gridSample(x!, grid!, { mode, paddingMode, alignCorners: mode === 'bicubic' }),
          ),
        ),
      python:
        'tuple(F.grid_sample(x, grid, mode=m, padding_mode=p, align_corners=(m == "bicubic")) for m in ("bilinear", "nearest", "bicubic") for p in ("zeros", "border", "reflection"))',
      grad: ['x', 'grid'],
    },
    {
      name: 'affineGrid',
      inputs: { theta },
      ours: ({ theta }) => [F.affineGrid(theta!, [2, 3, 5, 7]), F.affineGrid(theta!, [2, 3, 4, 4], { alignCorners: true })],
      python: '(F.affine_grid(theta, (2, 3, 5, 7), align_corners=False), F.affine_grid(theta, (2, 3, 4, 4), align_corners=True))',
      grad: ['theta'],
    },
    {
      name: 'oneHot',
      inputs: { target },
      ours: ({ target }) => [F.oneHot(target!), F.oneHot(target!, 5)],
      python: '(F.one_hot(target), F.one_hot(target, 5))',
    },
    {
      name: 'crossEntropy',
      inputs: { x, target, classWeight },
      ours: ({ x, target, classWeight }) => [
        F.crossEntropy(x!, target!),
        F.crossEntropy(x!, target!, { weight: classWeight!, reduction: 'none' }),
        F.crossEntropy(x!, target!, { ignoreIndex: 1, reduction: 'sum' }),
        F.crossEntropy(x!, target!, { labelSmoothing: 0.1, weight: classWeight! }),
        F.crossEntropy(x!, F.softmax(x!.flip([1]), 1)),
      ],
      python:
        '(F.cross_entropy(x, target), F.cross_entropy(x, target, weight=classWeight, reduction="none"), F.cross_entropy(x, target, ignore_index=1, reduction="sum"), F.cross_entropy(x, target, label_smoothing=0.1, weight=classWeight), F.cross_entropy(x, F.softmax(x.flip(1), 1)))',
      grad: ['x'],
    },
    {
      name: 'nllLoss',
      inputs: { x, target, classWeight },
      ours: ({ x, target, classWeight }) => [
        F.nllLoss(F.logSoftmax(x!, 1), target!),
        F.nllLoss(F.logSoftmax(x!, 1), target!, { weight: classWeight!, ignoreIndex: 2 }),
      ],
      python: '(F.nll_loss(F.log_softmax(x, 1), target), F.nll_loss(F.log_softmax(x, 1), target, weight=classWeight, ignore_index=2))',
      grad: ['x'],
    },
    {
      name: 'regression and binary losses',
      inputs: { x, probabilities },
      ours: ({ x, probabilities }) => {
        const p = x!.select(1, 0);
        return [
          F.binaryCrossEntropyWithLogits(p, probabilities!),
          F.binaryCrossEntropyWithLogits(p, probabilities!, {
            posWeight: torch.tensor([2], { dtype: p.dtype, device: p.device }),
            reduction: 'none',
          }),
          F.mseLoss(p, probabilities!),
          F.l1Loss(p, probabilities!, { reduction: 'sum' }),
        ];
      },
      python:
        '(F.binary_cross_entropy_with_logits(x[:, 0], probabilities), F.binary_cross_entropy_with_logits(x[:, 0], probabilities, pos_weight=torch.tensor([2], dtype=x.dtype, device=x.device), reduction="none"), F.mse_loss(x[:, 0], probabilities), F.l1_loss(x[:, 0], probabilities, reduction="sum"))',
      grad: ['x', 'probabilities'],
    },
  ];
  return cases.map((c) => ({ ...c, name: `${c.name} ${dtype}` }));
}

describe('torch.nn.functional equals PyTorch', () => {
  test.each(parityDevices())('values and gradients on %s (bitwise on the CPU)', (device) => {
    torch.manualSeed(3);
    torch.tidy(() => {
      const results = runParity((['float32', 'float64'] as DType[]).flatMap(casesFor), device);
      expect(results.length).toBeGreaterThan(150);
      expect(mismatches(results)).toEqual([]);
    });
  });

  test('dropout draws the same masks as PyTorch after the same seed', () => {
    torch.tidy(() => {
      const x = torch.ones([4, 6, 5, 5]);
      torch.manualSeed(11);
      const ours = [F.dropout(x, { p: 0.3 }), F.dropout2d(x, { p: 0.5 })];
      const theirs = runPyTorchDropout(x);
      expect(ours[0]!.equal(theirs[0]!)).toBe(true);
      expect(ours[1]!.equal(theirs[1]!)).toBe(true);
    });
  });

  test('invalid options throw TypeError or RangeError naming the option', () => {
    torch.tidy(() => {
      const x = torch.ones([1, 1, 4, 4]);
      const w = torch.ones([1, 1, 3, 3]);
      expect(() => F.conv2d(x, w, { padding: 'full' as 'same' })).toThrow(TypeError);
      expect(() => F.conv2d(x, w, { padding: 'full' as 'same' })).toThrow(
        /conv2d\(\): option 'padding' must be one of 'valid', 'same', got 'full'/,
      );
      expect(() => F.conv2d(x, w, { stride: 0 })).toThrow(/conv2d\(\): option 'stride' must be >= 1, got 0/);
      expect(() => F.maxPool2d(x, -2)).toThrow(/maxPool2d\(\): option 'kernelSize' must be >= 1, got -2/);
      expect(() => F.avgPool2d(x, [2, 2, 2] as unknown as [number, number])).toThrow(
        /avgPool2d\(\): option 'kernelSize' must be an integer or 2 integers/,
      );
      expect(() => F.dropout(x, { p: 1.5 })).toThrow(/dropout\(\): option 'p' must be a number in \[0, 1\], got 1.5/);
      expect(() => F.interpolate(x, { size: [8, 8], scaleFactor: 2 })).toThrow(/give exactly one of the options 'size' and 'scaleFactor'/);
      expect(() => F.interpolate(x, { scaleFactor: 2, alignCorners: true })).toThrow(
        /option 'alignCorners' applies only to modes 'bilinear' and 'bicubic'/,
      );
      expect(() => F.gridSample(x, torch.zeros([1, 2, 2, 2]), { paddingMode: 'wrap' as 'zeros' })).toThrow(
        /gridSample\(\): option 'paddingMode' must be one of 'zeros', 'border', 'reflection', got 'wrap'/,
      );
      expect(() => F.crossEntropy(x, x, { reduction: 'avg' as 'mean' })).toThrow(
        /crossEntropy\(\): option 'reduction' must be one of 'none', 'mean', 'sum', got 'avg'/,
      );
      expect(() => F.crossEntropy(x, x, { ignore_index: 1 } as object)).toThrow(/crossEntropy\(\): unknown option 'ignore_index'/);
      expect(() => F.conv2d(x, torch.ones([1, 2, 3, 3]))).toThrow(
        /conv2d\(\): Given groups=1, weight of size \[1, 2, 3, 3\], expected input\[1, 1, 4, 4\] to have 2 channels/,
      );
      expect(() => F.crossEntropy(torch.ones([2, 3]), torch.tensor([0, 5]))).toThrow(/crossEntropy\(\): Target 5 is out of bounds/);
    });
  });
});

function runPyTorchDropout(x: ReturnType<typeof torch.ones>) {
  const { runPython } = require('./support/python') as typeof import('./support/python');
  const out = runPython(
    `import torch.nn.functional as F
torch.manual_seed(11)
outputs["a"] = F.dropout(inputs["x"], 0.3)
outputs["b"] = F.dropout2d(inputs["x"], 0.5)`,
    { x },
  );
  return [out.a, out.b];
}
