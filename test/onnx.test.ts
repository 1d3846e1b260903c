/**
 * @jest-environment ./test/support/shared-typed-arrays.js
 */
// ONNX export against onnxruntime-node: every preset and every option combination gives the
// libtorch forward pass's logits (evaluation mode) to 1e-4 on random tiles of several valid sizes
// and batch sizes; the file's names, dynamic axes and metadata; refusals; `unet export`; and
// the same files checked by Python's onnx.checker and onnxruntime.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as ort from 'onnxruntime-node';

import { type Tensor, type UNet, createUNet, nn, torch, unet } from '../lib';
import { main } from '../lib/cli/main';
import { ONNX_METADATA, exportOnnx, tileRule, unetToOnnx } from '../lib/onnx';
import { decodeModel } from '../lib/onnx/proto';
import { runPython } from './support/python';
import { optionCombinations } from './support/unet-combos';

// One thread on each side: these networks are small, and libtorch's and onnxruntime's thread
// pools spinning against each other (and against the other Jest worker) on a 2-core machine made
// a forward pass of a few milliseconds take hundreds.
const threads = torch.getNumThreads();
const SESSION = { intraOpNumThreads: 1, interOpNumThreads: 1 };
let folder: string;
beforeAll(() => {
  torch.setNumThreads(1);
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-onnx-'));
});
afterAll(() => {
  torch.setNumThreads(threads);
  fs.rmSync(folder, { recursive: true, force: true });
});

/** Moves batch-norm running statistics away from 0 and 1 with a few training-mode passes, then evaluation mode. */
function settle(model: UNet, size: number): void {
  torch.tidy(() => {
    model.train();
    torch.noGrad(() => {
      for (let k = 0; k < 3; k += 1) model.forward(torch.randn([2, model.options.inChannels, size, size]).mul(2).add(0.5));
    });
    model.eval();
  });
}

/** The largest |ours − theirs| − 1e-4·|ours| over the elements: ≤ 1e-4 passes. */
function excess(ours: Float32Array, theirs: Float32Array): number {
  let worst = -Infinity;
  for (let i = 0; i < ours.length; i += 1) worst = Math.max(worst, Math.abs(ours[i]! - theirs[i]!) - 1e-4 * Math.abs(ours[i]!));
  return worst;
}

async function compare(model: UNet, bytes: Uint8Array, shapes: number[][]): Promise<{ shape: number[]; excess: number }[]> {
  const session = await ort.InferenceSession.create(bytes, SESSION);
  const results: { shape: number[]; excess: number }[] = [];
  try {
    for (const shape of shapes) {
      const x = torch.randn(shape);
      const ours = torch.tidy(() => torch.noGrad(() => model.forward(x)));
      const input = x.toTypedArray() as Float32Array;
      const output = await session.run({ image: new ort.Tensor('float32', input, shape) });
      const logits = output.logits!;
      expect(logits.dims).toEqual(ours.shape);
      results.push({ shape, excess: excess(ours.toTypedArray() as Float32Array, logits.data as Float32Array) });
      torch.dispose([x, ours]);
    }
  } finally {
    await session.release();
  }
  return results;
}

describe('exportOnnx', () => {
  test.each(['compact', 'padded', 'ronneberger2015'] as const)(
    'the %s preset: onnxruntime-node gives the libtorch logits to 1e-4 at several tile and batch sizes',
    async (preset) => {
      torch.manualSeed(1);
      const model = createUNet(preset);
      const rule = tileRule(model);
      settle(model, rule.smallestInput + 2 * rule.inputStep);
      const sizes = [rule.smallestInput + rule.inputStep, rule.smallestInput + 3 * rule.inputStep];
      const results = await compare(model, unetToOnnx(model), [
        [1, 1, sizes[0]!, sizes[0]!],
        [2, 1, sizes[1]!, sizes[0]!],
      ]);
      for (const result of results) expect(result.excess).toBeLessThanOrEqual(1e-4);
      model.dispose();
    },
    120_000,
  );

  test('every option combination: onnxruntime-node gives the libtorch logits to 1e-4', async () => {
    const failures: string[] = [];
    for (const [k, options] of optionCombinations().entries()) {
      torch.manualSeed(300 + k);
      const model = new unet.UNet(options);
      const size = options.padding === 'valid' ? 60 : 32;
      settle(model, size);
      for (const result of await compare(model, unetToOnnx(model), [
        [2, 2, size, size],
        [1, 2, size + 8, size],
      ]))
        if (!(result.excess <= 1e-4)) failures.push(`${JSON.stringify(options)} at [${result.shape}]: excess ${result.excess}`);
      model.dispose();
    }
    expect(failures).toEqual([]);
  }, 300_000);

  test('names the input and output, leaves batch and spatial axes dynamic, records the tile rule and the model description', () => {
    const model = createUNet('compact');
    const file = path.join(folder, 'compact.onnx');
    exportOnnx(model, file, { opset: 18 });
    const decoded = decodeModel(fs.readFileSync(file));
    expect(decoded.opsetImport).toEqual([{ domain: '', version: 18 }]);
    expect(decoded.producerName).toBe('unet-torch');
    const dims = (info: (typeof decoded.graph.input)[number]): unknown[] =>
      info.type.tensorType.shape.dim.map((dim) => ('dimParam' in dim ? dim.dimParam : dim.dimValue));
    expect(decoded.graph.input.map((info) => [info.name, dims(info)])).toEqual([['image', ['batch', 1, 'height', 'width']]]);
    expect(decoded.graph.output.map((info) => [info.name, dims(info)])).toEqual([['logits', ['batch', 2, 'out_height', 'out_width']]]);
    const metadata = Object.fromEntries(decoded.metadataProps.map(({ key, value }) => [key, value]));
    expect(JSON.parse(metadata[ONNX_METADATA.tile]!)).toEqual({
      padding: 'valid',
      depth: 5,
      smallestInput: model.inputSizeFor(1),
      inputStep: 16,
      margin: 92,
      defaultTile: 572,
    });
    expect(JSON.parse(metadata[ONNX_METADATA.model]!)).toEqual(unet.defaultDescription(model.options));
    // No drop-out node: evaluation semantics.
    expect(decoded.graph.node.map((node) => node.opType)).not.toContain('Dropout');
    model.dispose();
  });

  test('refuses what it cannot export, by name', () => {
    const model = createUNet('compact', { depth: 2, baseChannels: 2 });
    expect(() => unetToOnnx(new nn.Sequential(new nn.Conv2d(1, 1, 3)) as never)).toThrow(/exportOnnx\(\): argument 'model' must be a UNet/);
    expect(() => unetToOnnx(model, { opset: 11 })).toThrow(/exportOnnx\(\): option 'opset' must be one of 17, 18, 19, 20, 21, got 11/);
    expect(() => exportOnnx(model, path.join(folder, 'no-such-folder', 'model.onnx'))).toThrow(/the folder does not exist/);
    model.dispose();
  });

  test('unet export writes a trained model with its description; Python onnx.checker accepts the files and its onnxruntime agrees', async () => {
    const file = path.join(folder, 'nuclei.onnx');
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    let code: number;
    try {
      code = await main(['export', '--model', 'nuclei', '--out', file]);
    } finally {
      stdout.mockRestore();
    }
    expect(code).toBe(0);
    const { model, description } = unet.loadTrainedModel(unet.resolveModel('nuclei'));
    model.eval();
    const metadata = Object.fromEntries(decodeModel(fs.readFileSync(file)).metadataProps.map(({ key, value }) => [key, value]));
    const { training: _training, ...recorded } = description;
    expect(JSON.parse(metadata[ONNX_METADATA.model]!)).toEqual(recorded);
    // A same-padding network with batch and group norm, beside the trained valid one.
    torch.manualSeed(4);
    const padded = createUNet('padded', { normalization: 'group', depth: 3, baseChannels: 8, groups: 4, upsampling: 'bilinear' });
    padded.eval();
    exportOnnx(padded, path.join(folder, 'padded.onnx'), { opset: 21 });
    const x = torch.randn([1, 1, model.inputSizeFor(64), model.inputSizeFor(64)]);
    const y = torch.randn([2, 1, 48, 64]);
    const ours = torch.noGrad(() => [model.forward(x), padded.forward(y)]);
    const theirs = runPython(
      `import onnx, onnxruntime
for name, key in [("nuclei", "x"), ("padded", "y")]:
    path = ${JSON.stringify(folder)} + "/" + name + ".onnx"
    onnx.checker.check_model(onnx.load(path), full_check=True)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    outputs[name] = torch.from_numpy(session.run(["logits"], {"image": inputs[key].numpy()})[0])`,
      { x, y },
    );
    expect(excess(ours[0]!.toTypedArray() as Float32Array, theirs.nuclei!.toTypedArray() as Float32Array)).toBeLessThanOrEqual(1e-4);
    expect(excess(ours[1]!.toTypedArray() as Float32Array, theirs.padded!.toTypedArray() as Float32Array)).toBeLessThanOrEqual(1e-4);
    torch.dispose([x, y, ...ours, ...Object.values(theirs)] as Tensor[]);
    model.dispose();
    padded.dispose();
  }, 120_000);
});
