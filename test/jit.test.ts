// TorchScript modules saved by PyTorch (torch.jit.script and trace), loaded with torch.jit.load:
// outputs and gradients equal PyTorch's, a few fine-tuning steps with our optimizer equal the same
// steps in PyTorch, train()/eval() reach the module, save() writes a file PyTorch loads, and
// foreign or corrupt files are refused by name; `unet predict --model file.pt` runs a scripted U-Net.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { type Tensor, nn, optim, torch, unet } from '../lib';
import { main } from '../lib/cli/main';
import { packageRoot } from '../lib/package-root';
import { runPython } from './support/python';

let folder: string;
beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-jit-'));
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

const NET = `
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.drop = nn.Dropout(0.5)
        self.head = nn.Conv2d(4, 3, 1)
    def forward(self, x):
        return self.head(self.drop(self.features(x)))
`;

describe('torch.jit.load', () => {
  test('a scripted module: outputs, gradients and three Adam steps equal PyTorch, in training and evaluation mode', () => {
    const file = path.join(folder, 'net.pt');
    torch.tidy(() => {
      const x = torch.randn([2, 2, 8, 8]);
      const target = torch.randn([2, 3, 8, 8]);
      runPython(`${NET}
torch.manual_seed(3)
torch.jit.script(Net()).save(${JSON.stringify(file)})`);
      const module = torch.jit.load(file);
      expect(module).toBeInstanceOf(nn.ScriptModule);
      expect([...module.namedParameters()].map(([name]) => name)).toEqual([
        'features.0.weight',
        'features.0.bias',
        'features.1.weight',
        'features.1.bias',
        'head.weight',
        'head.bias',
      ]);
      expect(Object.keys(module.stateDict())).toContain('features.1.running_mean');
      expect(module.training).toBe(true);
      module.eval();
      const evalOut = module.forward(x) as Tensor;
      module.train();
      const optimizer = new optim.Adam([...module.parameters()], { lr: 0.01 });
      const losses: Tensor[] = [];
      for (let step = 0; step < 3; step += 1) {
        optimizer.zeroGrad();
        torch.manualSeed(10 + step);
        const loss = (module.forward(x) as Tensor).sub(target).pow(2).mean();
        loss.backward();
        optimizer.step();
        losses.push(loss.detach());
      }
      const theirs = runPython(
        `model = torch.jit.load(${JSON.stringify(file)})
model.eval()
outputs["eval"] = model(inputs["x"])
model.train()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for step in range(3):
    optimizer.zero_grad()
    torch.manual_seed(10 + step)
    loss = (model(inputs["x"]) - inputs["target"]).pow(2).mean()
    loss.backward()
    optimizer.step()
    outputs[f"loss{step}"] = loss.detach()
for name, p in model.named_parameters():
    outputs["grad." + name] = p.grad
for name, v in model.state_dict().items():
    outputs["after." + name] = v`,
        { x, target },
      );
      expect(evalOut.equal(theirs.eval!)).toBe(true);
      for (const [step, loss] of losses.entries()) expect([step, loss.equal(theirs[`loss${step}`]!)]).toEqual([step, true]);
      for (const [name, p] of module.namedParameters()) expect([name, p.grad!.equal(theirs[`grad.${name}`]!)]).toEqual([name, true]);
      for (const [name, value] of Object.entries(module.stateDict()))
        expect([name, value.equal(theirs[`after.${name}`]!)]).toEqual([name, true]);
      optimizer.dispose();
      // save(): PyTorch loads the fine-tuned module and computes what ours computes.
      const saved = path.join(folder, 'tuned.pt');
      module.eval();
      module.save(saved);
      const ours = module.forward(x) as Tensor;
      const reloaded = runPython(`m = torch.jit.load(${JSON.stringify(saved)})\nm.eval()\noutputs["y"] = m(inputs["x"])`, { x });
      expect(ours.equal(reloaded.y!)).toBe(true);
      module.dispose();
      expect(() => module.forward(x)).toThrow(/ScriptModule.forward\(\): the module was disposed/);
    });
  });

  test('a traced module returning a tuple gives an array; its input gradient equals PyTorch', () => {
    const file = path.join(folder, 'traced.pt');
    torch.tidy(() => {
      const x = torch.randn([3, 5]);
      runPython(`import torch.nn as nn
class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(5, 4)
    def forward(self, x):
        y = self.linear(x)
        return y.tanh(), y.sum(1)
torch.manual_seed(4)
torch.jit.trace(Two(), torch.zeros(3, 5)).save(${JSON.stringify(file)})`);
      const module = torch.jit.load(file);
      const xs = x.detach().requiresGrad_(true);
      const outputs = module.forward(xs) as Tensor[];
      expect(outputs.map((output) => output.shape)).toEqual([[3, 4], [3]]);
      outputs[0]!.sum().add(outputs[1]!.mul(2).sum()).backward();
      const theirs = runPython(
        `m = torch.jit.load(${JSON.stringify(file)})
x = inputs["x"].clone().requires_grad_(True)
a, b = m(x)
(a.sum() + (b * 2).sum()).backward()
outputs["a"] = a
outputs["b"] = b
outputs["grad"] = x.grad`,
        { x },
      );
      expect([outputs[0]!.equal(theirs.a!), outputs[1]!.equal(theirs.b!), xs.grad!.equal(theirs.grad!)]).toEqual([true, true, true]);
      module.dispose();
    });
  });

  test('foreign and corrupt files are refused by name', () => {
    const text = path.join(folder, 'notes.pt');
    fs.writeFileSync(text, 'not a zip');
    expect(() => torch.jit.load(text)).toThrow(/torch.jit.load\(\): .*notes\.pt is not a TorchScript module/);
    const stateDict = path.join(folder, 'state.pt');
    torch.save(stateDict, { weight: torch.zeros([2]) } as never);
    expect(() => torch.jit.load(stateDict)).toThrow(/state\.pt is not a TorchScript module/);
    expect(() => torch.jit.load(path.join(folder, 'missing.pt'))).toThrow(/missing\.pt: no such file/);
  });

  test('unet predict --model file.pt runs a U-Net scripted in PyTorch (options from the model.json beside it)', async () => {
    const run = path.join(folder, 'scripted');
    fs.mkdirSync(run);
    const options = unet.presetOptions('compact', { depth: 3 });
    unet.saveModelDescription(run, unet.defaultDescription(options));
    runPython(`import sys
sys.path.insert(0, ${JSON.stringify(packageRoot)})
from reference.unet import UNet, UNetOptions
torch.manual_seed(5)
model = UNet(UNetOptions.from_camel(${JSON.stringify(options).replace(/true/g, 'True').replace(/false/g, 'False')}))
model.eval()
torch.jit.script(model).save(${JSON.stringify(path.join(run, 'unet.pt'))})`);
    const samples = path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images');
    const image = path.join(samples, fs.readdirSync(samples).sort()[0]!);
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['predict', '--model', path.join(run, 'unet.pt'), '--out', path.join(folder, 'predicted'), image]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(code).toBe(0);
    // The same weights through our UNet: the state dict of the scripted module loads into it.
    const scripted = torch.jit.load(path.join(run, 'unet.pt'));
    const model = new unet.UNet(options);
    torch.tidy(() => model.loadStateDict(scripted.stateDict()));
    const x = torch.randn([1, 1, model.inputSizeFor(40), model.inputSizeFor(40)]);
    model.eval();
    scripted.eval();
    const [a, b] = torch.noGrad(() => [model.forward(x), scripted.forward(x) as Tensor]);
    expect(a!.allclose(b!, { rtol: 1e-5, atol: 1e-6 })).toBe(true);
    expect(fs.existsSync(path.join(folder, 'predicted', `${path.basename(image, '.png')}.png`))).toBe(true);
    torch.dispose([x, a!, b!]);
    scripted.dispose();
    model.dispose();
  }, 120_000);
});
