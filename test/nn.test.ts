// nn modules against PyTorch: default initialisation after the same seed, state-dict names,
// forward and backward with the same weights, and the Module API.
import { type Tensor, nn, torch } from '../lib';
import { runPython } from './support/python';

// The same model in both languages, layer for layer in the same order.
function buildModel(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(2, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.ConvTranspose2d(4, 3, 2, { stride: 2 }),
    new nn.GroupNorm(3, 3),
    new nn.LeakyReLU(0.1),
    new nn.Conv2d(3, 3, [3, 1], { bias: false, paddingMode: 'reflect', padding: [1, 0] }),
    new nn.InstanceNorm2d(3, { affine: true }),
    new nn.MaxPool2d(2),
    new nn.Dropout2d(0.5),
    new nn.Upsample({ scaleFactor: 2, mode: 'bilinear', alignCorners: false }),
    new nn.LayerNorm([16, 16]),
    new nn.GELU(),
    new nn.Identity(),
  );
}
const PYTHON_MODEL = `
import torch.nn as nn
def build():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.ConvTranspose2d(4, 3, 2, stride=2),
        nn.GroupNorm(3, 3),
        nn.LeakyReLU(0.1),
        nn.Conv2d(3, 3, (3, 1), bias=False, padding_mode="reflect", padding=(1, 0)),
        nn.InstanceNorm2d(3, affine=True),
        nn.MaxPool2d(2),
        nn.Dropout2d(0.5),
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False),
        nn.LayerNorm([16, 16]),
        nn.GELU(),
        nn.Identity(),
    )
`;

describe('nn modules', () => {
  test('seeded default initialisation and state-dict keys equal PyTorch', () => {
    torch.manualSeed(7);
    const model = buildModel();
    const linear = new nn.Linear(5, 3);
    torch.tidy(() => {
      const ours = { ...model.stateDict(), ...Object.fromEntries(Object.entries(linear.stateDict()).map(([k, v]) => [`linear.${k}`, v])) };
      const theirs = runPython(
        `${PYTHON_MODEL}
torch.manual_seed(7)
model = build()
linear = nn.Linear(5, 3)
for k, v in model.state_dict().items(): outputs[k] = v
for k, v in linear.state_dict().items(): outputs["linear." + k] = v
outputs["__keys"] = torch.tensor(list(",".join(list(model.state_dict().keys())).encode()), dtype=torch.uint8)`,
      );
      const keys = Buffer.from(theirs.__keys!.toTypedArray() as Uint8Array)
        .toString()
        .split(',');
      expect(Object.keys(model.stateDict())).toEqual(keys);
      for (const [key, value] of Object.entries(ours)) {
        expect([key, value.dtype, value.shape]).toEqual([key, theirs[key]!.dtype, theirs[key]!.shape]);
        expect([key, value.equal(theirs[key]!)]).toEqual([key, true]);
      }
    });
    model.dispose();
    linear.dispose();
  });

  test('forward and backward with the same weights equal PyTorch, in training and evaluation mode', () => {
    torch.manualSeed(8);
    const model = buildModel();
    torch.tidy(() => {
      // Copies: a state dict shares memory with the module, whose running statistics train below.
      const state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()]));
      const x = torch.randn([2, 2, 8, 8]);
      const projection = torch.randn([2, 3, 16, 16]);
      model.eval();
      const evalOut = model.forward(x);
      model.train();
      const xs = x.detach().requiresGrad_(true);
      // Dropout2d draws its mask from the generator: seed both sides the same way just before.
      torch.manualSeed(9);
      const trainOut = model.forward(xs);
      trainOut.mul(projection).sum().backward();
      const grads = Object.fromEntries([...model.namedParameters()].map(([name, p]) => [`grad.${name}`, p.grad!]));
      const after = model.stateDict();
      const theirs = runPython(
        `${PYTHON_MODEL}
model = build()
state = {k[len("state."):]: v for k, v in inputs.items() if k.startswith("state.")}
model.load_state_dict(state)
model.eval()
outputs["eval"] = model(inputs["x"])
model.train()
x = inputs["x"].clone().requires_grad_(True)
torch.manual_seed(9)
out = model(x)
outputs["train"] = out
(out * inputs["projection"]).sum().backward()
outputs["grad.x"] = x.grad
for name, p in model.named_parameters(): outputs["grad." + name] = p.grad
for k, v in model.state_dict().items(): outputs["after." + k] = v`,
        { x, projection, ...Object.fromEntries(Object.entries(state).map(([k, v]) => [`state.${k}`, v])) },
      );
      expect(evalOut.equal(theirs.eval!)).toBe(true);
      expect(trainOut.equal(theirs.train!)).toBe(true);
      expect(xs.grad!.equal(theirs['grad.x']!)).toBe(true);
      for (const [key, value] of Object.entries(grads)) expect([key, value.equal(theirs[key]!)]).toEqual([key, true]);
      // Running statistics and num_batches_tracked advanced the same way.
      for (const [key, value] of Object.entries(after)) expect([key, value.equal(theirs[`after.${key}`]!)]).toEqual([key, true]);
    });
    model.dispose();
  });

  test('loadStateDict lists missing and unexpected keys, rejects shapes, and strict: false reports them', () => {
    const model = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2));
    torch.tidy(() => {
      const state = model.stateDict();
      const { '1.running_var': _dropped, ...partial } = state;
      expect(() => model.loadStateDict({ ...partial, extra: torch.zeros([1]) })).toThrow(
        /loadStateDict\(\) for Sequential: missing keys: 1\.running_var; unexpected keys: extra/,
      );
      expect(() => model.loadStateDict({ ...state, '0.weight': torch.zeros([2, 1, 5, 5]) })).toThrow(
        /'0\.weight' has shape \[2,1,5,5\] in the state dict but \[2,1,3,3\] in the model/,
      );
      expect(() => model.loadStateDict({ ...state, '0.bias': torch.zeros([2], { dtype: 'int64' }) })).toThrow(
        /'0\.bias' has dtype int64 in the state dict but float32/,
      );
      const result = model.loadStateDict({ ...partial, extra: torch.zeros([1]) }, { strict: false });
      expect(result).toEqual({ missingKeys: ['1.running_var'], unexpectedKeys: ['extra'] });
    });
    model.dispose();
  });

  test('the Module API: traversal, train/eval, to(), zeroGrad, apply, ownership', () => {
    const before = torch.memory().liveTensors;
    const model = torch.tidy(() => new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.BatchNorm2d(2), new nn.ModuleList([new nn.ReLU()])));
    // Built inside tidy: the module still owns its tensors.
    expect([...model.parameters()].every((p) => !p.isDisposed)).toBe(true);
    expect([...model.namedParameters()].map(([n]) => n)).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
    expect([...model.namedBuffers()].map(([n]) => n)).toEqual(['1.running_mean', '1.running_var', '1.num_batches_tracked']);
    expect([...model.namedModules()].map(([n]) => n)).toEqual(['', '0', '1', '2', '2.0']);
    expect(model.numParameters()).toBe(2 * 9 + 2 + 2 + 2);
    model.eval();
    expect([...model.modules()].every((m) => !m.training)).toBe(true);
    model.train();
    const weight = [...model.parameters()][0]!;
    model.to({ dtype: 'float64' });
    expect(weight.dtype).toBe('float64'); // the same tensor object, moved in place
    expect([...model.namedBuffers()].find(([n]) => n === '1.num_batches_tracked')![1].dtype).toBe('int64');
    torch.tidy(() =>
      (model.at(1)!.forward(model.at(0)!.forward(torch.randn([1, 1, 5, 5], { dtype: 'float64' }))) as Tensor).sum().backward(),
    );
    torch.tidy(() => expect(weight.grad).not.toBeNull());
    model.zeroGrad({ setToNone: false });
    torch.tidy(() => expect(weight.grad!.abs().sum().item()).toBe(0));
    model.zeroGrad();
    expect(weight.grad).toBeNull();
    let visited = 0;
    model.apply(() => (visited += 1));
    expect(visited).toBe(5);
    expect(() => (model as unknown as { registerParameter(n: string, t: null): void }).registerParameter('0', null)).toThrow(
      /'0' is already registered/,
    );
    model.dispose();
    expect(torch.memory().liveTensors).toBe(before);
  });

  test('InstanceNorm2d with momentum null keeps its running statistics, as PyTorch does', () => {
    const x = torch.keep(torch.randn([2, 3, 5, 5]));
    const ours = new nn.InstanceNorm2d(3, { trackRunningStats: true, momentum: null });
    const once = new nn.InstanceNorm2d(3, { trackRunningStats: true, momentum: 0.3 });
    torch.tidy(() => {
      ours.forward(x);
      once.forward(x);
    });
    const theirs = runPython(
      `kept = torch.nn.InstanceNorm2d(3, track_running_stats=True, momentum=None)
moved = torch.nn.InstanceNorm2d(3, track_running_stats=True, momentum=0.3)
kept(inputs["x"])
moved(inputs["x"])
outputs["mean"], outputs["var"] = kept.running_mean, kept.running_var
outputs["movedMean"], outputs["movedVar"] = moved.running_mean, moved.running_var`,
      { x },
    );
    expect(ours.runningMean!.equal(theirs.mean!)).toBe(true);
    expect(ours.runningVar!.equal(theirs.var!)).toBe(true);
    expect(once.runningMean!.allclose(theirs.movedMean!, { rtol: 1e-5, atol: 1e-6 })).toBe(true);
    expect(once.runningVar!.allclose(theirs.movedVar!, { rtol: 1e-5, atol: 1e-6 })).toBe(true);
    expect(once.runningMean!.abs().sum().item()).toBeGreaterThan(0);
    torch.dispose([x, ...Object.values(theirs)]);
    ours.dispose();
    once.dispose();
  });

  test('a bad constructor argument is named when the module is built, not at its first forward', () => {
    const before = torch.memory().liveTensors;
    class Holder extends nn.Module {
      constructor(kind: 'parameter' | 'buffer', value: unknown) {
        super();
        if (kind === 'parameter') this.registerParameter('w', value as Tensor);
        else this.registerBuffer('b', value as Tensor);
      }
      forward(input: Tensor): Tensor {
        return input;
      }
    }
    const cases: [() => unknown, RegExp][] = [
      [() => new nn.Linear(2.5, 3), /Linear\(\): argument 'inFeatures' must be a positive integer, got the number 2.5/],
      [() => new nn.Linear(2, 3, { bais: false } as never), /Linear\(\): unknown option 'bais'; known options: bias, dtype, device/],
      [() => new nn.Conv2d(4, 4, 3, { groups: -2 }), /Conv2d\(\): argument 'groups' must be a positive integer, got the number -2/],
      [
        () => new nn.ConvTranspose2d(4, 3, 2, { groups: 2 }),
        /ConvTranspose2d: inChannels \(4\) and outChannels \(3\) must be divisible by groups \(2\)/,
      ],
      [
        () => new nn.ConvTranspose2d(4, 4, 2, { groups: 0 }),
        /ConvTranspose2d\(\): argument 'groups' must be a positive integer, got the number 0/,
      ],
      [() => new nn.BatchNorm2d(1.5), /BatchNorm2d\(\): argument 'numFeatures' must be a positive integer, got the number 1.5/],
      [() => new nn.InstanceNorm2d(0), /InstanceNorm2d\(\): argument 'numFeatures' must be a positive integer, got the number 0/],
      [() => new nn.GroupNorm(0, 4), /GroupNorm\(\): argument 'numGroups' must be a positive integer, got the number 0/],
      [() => new nn.LayerNorm(-1), /LayerNorm\(\): argument 'normalizedShape' must be a positive integer, got the number -1/],
      [() => new nn.LayerNorm([2, 0]), /LayerNorm\(\): argument 'normalizedShape\[1\]' must be a positive integer, got the number 0/],
      [() => new nn.Sequential(new nn.ReLU(), 5 as never), /Sequential\(\): argument 'modules\[1\]' must be a Module, got the number 5/],
      [() => new nn.ModuleList([null as never]), /ModuleList\(\): argument 'modules\[0\]' must be a Module, got null/],
      [
        () => new nn.ModuleList().append('relu' as never),
        /ModuleList.append\(\): argument 'module' must be a Module, got the string 'relu'/,
      ],
      [() => new nn.ModuleDict({ a: 1 as never }), /ModuleDict\(\): argument 'modules\['a'\]' must be a Module, got the number 1/],
      [() => new nn.ModuleDict().set(5 as never, new nn.ReLU()), /ModuleDict: the number 5 is not a valid name/],
      [() => new Holder('parameter', 3), /Holder: parameter 'w' must be a Tensor or null, got the number 3/],
      [() => new Holder('buffer', [1, 2]), /Holder: buffer 'b' must be a Tensor or null, got an array/],
    ];
    for (const [build, message] of cases) expect(build).toThrow(message);
    expect(torch.memory().liveTensors).toBe(before);
  });
});
