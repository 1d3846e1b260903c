// The U-Net against its PyTorch reference (reference/unet.py): structure and sizes of the paper
// preset, seeded weights, forward logits and every gradient on a 572 tile, a 20-step SGD
// trajectory, and every option combination on small inputs.
import { type Tensor, createUNet, optim, torch, unet } from '../lib';
import { runPython } from './support/python';
import { optionCombinations, pythonOptions } from './support/unet-combos';
import { isValidTile } from '../lib/raster/tile-rule';
import { skipCrops } from '../lib/unet/size';

const F = torch.nn.functional;

describe('the paper preset', () => {
  test('23 convolutions, 31,030,658 parameters, 572 → 388, and the size rules', () => {
    const model = torch.tidy(() => createUNet('ronneberger2015'));
    const convolutions = [...model.modules()].filter((m) => m instanceof torch.nn.Conv2d || m instanceof torch.nn.ConvTranspose2d);
    expect(convolutions.length).toBe(23);
    expect(model.numParameters()).toBe(31_030_658);
    expect(model.outputSize(572)).toBe(388);
    expect(model.marginFor(572)).toBe(92);
    expect(model.inputSizeFor(388)).toBe(572);
    expect(model.inputSizeFor(300)).toBe(492);
    expect(model.isValidInputSize(572)).toBe(true);
    expect(model.isValidInputSize(570)).toBe(false);
    expect(() => model.outputSize(570)).toThrow(
      /UNet: 570 is not a valid tile size for this network \(valid: 188 \+ k·16: with valid convolutions and depth 5 every pooling must see an even size\); the nearest valid sizes are 556 and 572/,
    );
    expect(() => torch.tidy(() => model.forward(torch.zeros([1, 1, 572, 570])))).toThrow(/nearest valid sizes are 556 and 572/);
    expect(() => torch.tidy(() => model.forward(torch.zeros([1, 3, 572, 572])))).toThrow(/UNet: expected 1 input channel\(s\), got 3/);
    // Valid sizes are 16k + 60 for depth 5 (down to the smallest that keeps every map positive).
    const valid = Array.from({ length: 700 }, (_, k) => k + 1).filter((s) => model.isValidInputSize(s));
    expect(valid.every((s) => (s - 60) % 16 === 0)).toBe(true);
    expect(valid.slice(0, 3)).toEqual([188, 204, 220]);
    expect(unet.outputExtent(64, { depth: 5, padding: 'same' })).toBe(64);
    expect(unet.nearestValidExtents(100, { depth: 5, padding: 'same' })).toEqual({ below: 96, above: 112 });
    // The paper's Figure 1: 64 → 56, 136 → 104, 280 → 200, 568 → 392 (the crops ONNX export writes).
    expect(skipCrops({ depth: 5, padding: 'valid' })).toEqual([8, 32, 80, 176]);
    expect(skipCrops({ depth: 3, padding: 'same' })).toEqual([0, 0]);
    model.dispose();
  });

  test('the series rule that exported models carry gives the valid sizes the network computes, for every depth and padding; sizes that are no number are refused, not searched for ever', () => {
    const model = torch.tidy(() => createUNet('compact'));
    // Infinity once sent the search for the nearest valid size into an endless loop.
    for (const size of [Infinity, -Infinity, Number.NaN])
      expect(() => model.outputSize(size)).toThrow(
        new RangeError(
          `UNet: ${size} is not a valid tile size for this network (valid: 188 + k·16: with valid convolutions and depth 5 every pooling must see an even size)`,
        ),
      );
    // 2^53 + 1 is 2^53 in a double: the search for an input from 2^53 on never moved.
    expect(() => unet.inputExtentFor(2 ** 53, { depth: 5, padding: 'valid' })).toThrow(/the output size must be a positive integer/);
    expect(unet.inputExtentFor(2 ** 52, { depth: 5, padding: 'valid' })).toBe(2 ** 52 + 188);
    expect(() => unet.nearestValidExtents(Infinity, { depth: 5, padding: 'valid' })).toThrow(
      /nearestValidExtents\(\): argument 'input': the size must be a finite number, got Infinity/,
    );
    model.dispose();
    for (const padding of ['valid', 'same'] as const)
      for (let depth = 1; depth <= 6; depth += 1) {
        const spec = { depth, padding };
        const rule = unet.extentRule(spec);
        const sizes = Array.from({ length: 800 }, (_, k) => k + 1);
        expect([padding, depth, sizes.filter((s) => isValidTile(rule, s))]).toEqual([
          padding,
          depth,
          sizes.filter((s) => unet.outputExtent(s, spec) !== null),
        ]);
        // The smallest input for an output, against a search over every input size.
        for (const output of [1, 2, 17, 100, 256, 388])
          expect([padding, depth, output, unet.inputExtentFor(output, spec)]).toEqual([
            padding,
            depth,
            output,
            Array.from({ length: 2000 }, (_, k) => k + 1).find((input) => (unet.outputExtent(input, spec) ?? 0) >= output),
          ]);
        for (const s of [1, 37, 250, 571, 799]) {
          const { below, above } = unet.nearestValidExtents(s, spec);
          const valid = Array.from({ length: 900 }, (_, k) => k + 1).filter((t) => unet.isValidExtent(t, spec));
          expect([padding, depth, s, below, above]).toEqual([
            padding,
            depth,
            s,
            valid.filter((t) => t <= s).pop() ?? null,
            valid.find((t) => t >= s),
          ]);
        }
      }
  });

  test('seeded weights, state-dict keys, logits and every gradient on a 572 tile equal PyTorch', () => {
    torch.manualSeed(51);
    const model = createUNet('ronneberger2015');
    model.eval(); // drop-out off: the comparison is of the network, not of random masks
    torch.tidy(() => {
      const x = torch.randn([1, 1, 572, 572]);
      const target = torch.randint(0, 2, [1, 388, 388]);
      const logits = model.forward(x);
      const loss = F.crossEntropy(logits, target);
      loss.backward();
      const ours: Record<string, Tensor> = { logits, loss };
      for (const [name, p] of model.namedParameters()) ours[`grad.${name}`] = p.grad!;
      const theirs = runPython(
        `from reference.unet import create_unet
import torch.nn.functional as F
torch.manual_seed(51)
model = create_unet("ronneberger2015")
model.eval()
logits = model(inputs["x"])
loss = F.cross_entropy(logits, inputs["target"])
loss.backward()
outputs["logits"], outputs["loss"] = logits, loss
for name, p in model.named_parameters():
    outputs["grad." + name] = p.grad
outputs["keys"] = torch.tensor(list(",".join(model.state_dict().keys()).encode()), dtype=torch.uint8)`,
        { x, target },
      );
      expect(Object.keys(model.stateDict()).join(',')).toBe(Buffer.from(theirs.keys!.toTypedArray() as Uint8Array).toString());
      // Bitwise: the same libtorch runs the same kernels on the same weights.
      for (const [key, value] of Object.entries(ours)) expect([key, value.equal(theirs[key]!)]).toEqual([key, true]);
    });
    model.dispose();
  });
});

describe('the compact preset', () => {
  test('20 SGD steps (momentum 0.99) give the same losses and final weights as PyTorch', () => {
    torch.manualSeed(52);
    const model = createUNet('compact');
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.99 });
    const x = torch.randn([1, 1, 252, 252]);
    const target = torch.randint(0, 2, [1, 68, 68]);
    const losses: number[] = [];
    for (let step = 0; step < 20; step += 1) {
      optimizer.zeroGrad();
      losses.push(
        torch.tidy(() => {
          torch.manualSeed(1000 + step); // the drop-out masks: drawn the same way on both sides
          const loss = F.crossEntropy(model.forward(x), target);
          loss.backward();
          return loss.item() as number;
        }),
      );
      optimizer.step();
    }
    torch.tidy(() => {
      const theirs = runPython(
        `from reference.unet import create_unet
import torch.nn.functional as F
torch.manual_seed(52)
model = create_unet("compact")
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.99, foreach=False)
losses = []
for step in range(20):
    optimizer.zero_grad()
    torch.manual_seed(1000 + step)
    loss = F.cross_entropy(model(inputs["x"]), inputs["target"])
    loss.backward()
    losses.append(loss.item())
    optimizer.step()
outputs["losses"] = torch.tensor(losses, dtype=torch.float64)
for k, v in model.state_dict().items():
    outputs["final." + k] = v`,
        { x, target },
      );
      expect(losses).toEqual(Array.from(theirs.losses!.toTypedArray() as Float64Array));
      for (const [key, value] of Object.entries(model.stateDict()))
        expect([key, value.equal(theirs[`final.${key}`]!)]).toEqual([key, true]);
    });
    optimizer.dispose();
    model.dispose();
    torch.dispose([x, target]);
  });
});

describe('every option combination on small inputs', () => {
  const combos = optionCombinations();

  test(`${combos.length} combinations: seeded weights, logits and all gradients equal PyTorch (training mode)`, () => {
    torch.tidy(() => {
      const inputs: Record<string, Tensor> = {};
      const ours: Record<string, Tensor> = {};
      combos.forEach((options, k) => {
        torch.manualSeed(100 + k);
        const model = new unet.UNet(options);
        const size = options.padding === 'valid' ? 60 : 32;
        const x = torch.randn([2, 2, size, size]);
        const out = model.outputSize(size);
        const projection = torch.randn([2, 3, out, out]);
        inputs[`${k}.x`] = x;
        inputs[`${k}.p`] = projection;
        torch.manualSeed(200 + k);
        const logits = model.forward(x);
        logits.mul(projection).sum().backward();
        ours[`${k}.logits`] = logits;
        for (const [name, p] of model.namedParameters()) ours[`${k}.grad.${name}`] = p.grad!;
        for (const [name, b] of model.namedBuffers()) ours[`${k}.buffer.${name}`] = b.clone();
        model.dispose();
      });
      const theirs = runPython(
        `from reference.unet import UNet, UNetOptions
combos = [${combos.map(pythonOptions).join(', ')}]
for k, options in enumerate(combos):
    torch.manual_seed(100 + k)
    model = UNet(options)
    torch.manual_seed(200 + k)
    logits = model(inputs[f"{k}.x"])
    (logits * inputs[f"{k}.p"]).sum().backward()
    outputs[f"{k}.logits"] = logits
    for name, p in model.named_parameters():
        outputs[f"{k}.grad.{name}"] = p.grad
    for name, b in model.named_buffers():
        outputs[f"{k}.buffer.{name}"] = b`,
        inputs,
      );
      const mismatched = Object.entries(ours).filter(([key, value]) => !(theirs[key] !== undefined && value.equal(theirs[key]!)));
      expect(mismatched.map(([key]) => `${key} (${JSON.stringify(combos[Number(key.split('.')[0])])})`)).toEqual([]);
      expect(Object.keys(theirs).length).toBe(Object.keys(ours).length);
    });
  });

  test('invalid options are rejected with the option named', () => {
    const base = unet.presetOptions('compact');
    expect(() => new unet.UNet({ ...base, padding: 'reflect' as 'same' })).toThrow(
      /UNet: option 'padding' must be one of 'valid', 'same', got 'reflect'/,
    );
    expect(() => new unet.UNet({ ...base, depth: 0 })).toThrow(/option 'depth' must be a positive integer, got 0/);
    expect(() => new unet.UNet({ ...base, dropout: 1 })).toThrow(/option 'dropout' must be in \[0, 1\), got 1/);
    expect(() => new unet.UNet({ ...base, normalization: 'group', groups: 5 })).toThrow(/divisible by groups \(5\)/);
    expect(() => createUNet('tiny' as 'compact')).toThrow(/unknown U-Net preset 'tiny'; known: ronneberger2015, compact, padded/);
    expect(() => new unet.UNet({ ...base, depth: 17 })).toThrow(/UNet: option 'depth' must be at most 16, got 17/);
  });

  test('the size arithmetic, the crop and the model files name a bad argument (the fuzzer found each unchecked)', () => {
    const spec = { depth: 5, padding: 'valid' } as const;
    expect(() => unet.outputExtent(64, undefined as never)).toThrow(
      new TypeError("outputExtent(): argument 'spec' must be an object { depth, padding }, got undefined"),
    );
    expect(() => unet.extentRule({ ...spec, depth: 40 })).toThrow(
      /extentRule\(\): argument 'spec': depth must be an integer in 1..16, got 40/,
    );
    expect(() => unet.isValidExtent(64, { ...spec, padding: 'mirror' as 'same' })).toThrow(
      /isValidExtent\(\): argument 'spec': padding must be 'valid' or 'same', got mirror/,
    );
    expect(() => unet.inputExtentFor(Symbol('size') as never, spec)).toThrow(
      /inputSizeFor\(\): the output size must be a positive integer, got Symbol\(size\)/,
    );
    const model = torch.tidy(() => createUNet('compact'));
    expect(() => model.smallerInputSize(Symbol('size') as never)).toThrow(
      /UNet.smallerInputSize\(\): argument 'input' must be a positive number/,
    );
    torch.tidy(() => {
      const map = torch.zeros([1, 2, 8, 8]);
      expect(unet.centreCrop(map, 4, 6).shape).toEqual([1, 2, 4, 6]);
      expect(() => unet.centreCrop(map, 10, 4)).toThrow(/centreCrop\(\): argument 'height' must be an integer in 0..8, got 10/);
      expect(() => unet.centreCrop(map.select(0, 0), 4, 4)).toThrow(
        /centreCrop\(\): argument 'map' must be \(N, C, H, W\), got shape \[2,8,8\]/,
      );
      expect(() => unet.centreCrop(undefined as never, 4, 4)).toThrow(/centreCrop\(\): argument 'map' must be a Tensor, got undefined/);
    });
    expect(() => unet.saveModelConfig('somewhere', {} as never)).toThrow(/saveModelConfig\(\): argument 'model' must be a UNet/);
    expect(() => unet.defaultDescription(undefined as never)).toThrow(
      /defaultDescription\(\): argument 'options' must be an object, got undefined/,
    );
    expect(() => unet.loadTrainedModel(Symbol('run') as never)).toThrow(/loadTrainedModel\(\): argument 'location' must be a file path/);
    // A name of Object.prototype is not a shipped model.
    expect(() => unet.loadPretrained('toString')).toThrow(/unknown pretrained model 'toString'; the package ships: nuclei/);
    model.dispose();
  });
});
