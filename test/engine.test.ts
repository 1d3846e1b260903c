/**
 * @jest-environment ./test/support/shared-typed-arrays.js
 */
// The ONNX engine (`unet-torch/onnx`, `unet predict --engine onnxruntime`) against `unet predict`
// on libtorch: the same labels and probabilities on the sample images, with the shipped model;
// the engine's entry point never loads the addon; its array code (components, normalisation)
// against the tensor code; and its errors.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { PNG } from 'pngjs';

import { torch } from '../lib';
import { main } from '../lib/cli/main';
import { normaliseImage } from '../lib/data/normalise';
import { loadNpy } from '../lib/io/npy';
import { readImagePng, readLabelPng } from '../lib/io/png';
import { connectedComponents, labelValues } from '../lib/labels';
import { componentValues } from '../lib/raster/labels';
import { NORMALISATIONS, normaliseRaster } from '../lib/raster/normalise';
import { decodeImagePng, decodeLabelPng, writeLabelRasterPng } from '../lib/raster/png';
import { encodeLabelPng } from '../web/png-encode';
import { packageRoot } from '../lib/package-root';
import { writeGrayAsRgbPng } from './support/colour';

const SAMPLES = path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images');

let folder: string;
beforeAll(() => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-engine-'));
});
afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));

async function quiet(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(argv), stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('the ONNX engine', () => {
  test('componentValues gives the addon kernel’s ids, 4- and 8-connected', () => {
    torch.manualSeed(5);
    for (const connectivity of [4, 8] as const)
      for (const density of [0.3, 0.55, 0.7]) {
        const mask = torch.tidy(() => torch.rand([37, 53]).lt(density));
        const theirs = torch.tidy(() => labelValues(connectedComponents(mask, connectivity)));
        const values = Uint8Array.from(labelValues(mask));
        expect([connectivity, density, Array.from(componentValues(values, 37, 53, connectivity))]).toEqual([
          connectivity,
          density,
          Array.from(theirs),
        ]);
        mask.dispose();
      }
  });

  test('normaliseRaster gives normaliseImage’s values (to float32 rounding of the mean and deviation)', () => {
    const file = path.join(SAMPLES, fs.readdirSync(SAMPLES)[0]!);
    const raster = decodeImagePng(file);
    const image = readImagePng(file);
    for (const mode of NORMALISATIONS) {
      const ours = normaliseRaster(raster, mode);
      const theirs = torch.tidy(() => normaliseImage(image, mode).toTypedArray() as Float32Array);
      let worst = 0;
      for (let k = 0; k < ours.length; k += 1) worst = Math.max(worst, Math.abs(ours[k]! - theirs[k]!));
      expect([mode, worst <= 1e-5]).toEqual([mode, true]);
    }
    image.dispose();
    // A flat image divides by 1, not by its zero spread.
    const flat = { ...raster, data: new Float32Array(raster.data.length).fill(7) };
    for (const mode of NORMALISATIONS) expect(normaliseRaster(flat, mode).every((value) => Number.isFinite(value))).toBe(true);
    expect(() => normaliseRaster(raster, 'max' as never)).toThrow(/normaliseRaster\(\): 'mode' must be one of zscore, minmax, percentile/);
  });

  test('unet predict --engine onnxruntime gives unet predict’s labels and probabilities on the sample images', async () => {
    const onnx = path.join(folder, 'nuclei.onnx');
    expect((await quiet(['export', '--model', 'nuclei', '--out', onnx])).code).toBe(0);
    const viaTorch = path.join(folder, 'libtorch');
    const viaOnnx = path.join(folder, 'onnxruntime');
    expect((await quiet(['predict', '--model', 'nuclei', '--out', viaTorch, SAMPLES])).code).toBe(0);
    expect((await quiet(['predict', '--engine', 'onnxruntime', '--model', onnx, '--out', viaOnnx, SAMPLES])).code).toBe(0);
    const names = fs.readdirSync(SAMPLES).map((name) => path.basename(name, '.png'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const differing = torch.tidy(() => {
        const a = readLabelPng(path.join(viaTorch, `${name}.png`));
        const b = readLabelPng(path.join(viaOnnx, `${name}.png`));
        return a.ne(b).sum().item();
      });
      const gap = torch.tidy(() =>
        loadNpy(path.join(viaTorch, `${name}.probabilities.npy`))
          .sub(loadNpy(path.join(viaOnnx, `${name}.probabilities.npy`)))
          .abs()
          .max()
          .item(),
      );
      expect([name, differing, (gap as number) <= 1e-4]).toEqual([name, 0, true]);
      expect(fs.existsSync(path.join(viaOnnx, `${name}.overlay.png`))).toBe(true);
    }
    // A gray image stored as RGB is segmented as the gray image, as by the libtorch engine.
    const coloured = path.join(folder, `${names[0]}.png`);
    writeGrayAsRgbPng(path.join(SAMPLES, `${names[0]}.png`), coloured);
    expect(decodeImagePng(coloured).channels).toBe(3);
    const fromRgb = path.join(folder, 'from-rgb');
    expect((await quiet(['predict', '--engine', 'onnxruntime', '--model', onnx, '--out', fromRgb, coloured])).code).toBe(0);
    for (const file of [`${names[0]}.png`, `${names[0]}.probabilities.npy`])
      expect(fs.readFileSync(path.join(fromRgb, file)).equals(fs.readFileSync(path.join(viaOnnx, file)))).toBe(true);
  }, 300_000);

  test('the unet-torch/onnx entry point segments without loading the addon', () => {
    const onnx = path.join(folder, 'entry.onnx');
    execFileSync(process.execPath, [path.join(packageRoot, 'dist', 'cli', 'main.js'), 'export', '--model', 'nuclei', '--out', onnx]);
    const image = path.join(SAMPLES, fs.readdirSync(SAMPLES)[0]!);
    const script = `
const engine = require(${JSON.stringify(path.join(packageRoot, 'dist', 'engine'))});
(async () => {
  const segmenter = await engine.loadOnnxSegmenter(${JSON.stringify(onnx)});
  const result = await segmenter.segment(engine.decodeImagePng(${JSON.stringify(image)}), { tta: false });
  await segmenter.release();
  const cells = new Set(result.labels.data).size - 1;
  const addon = Object.keys(require.cache).filter((file) => file.endsWith('.node') && !file.includes('onnxruntime') || file.endsWith(require('path').join('dist', 'native.js')));
  console.log(JSON.stringify({ cells, addon }));
})().catch((error) => { console.error(error); process.exit(1); });`;
    const report = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { cells: number; addon: string[] };
    expect(report.addon).toEqual([]);
    expect(report.cells).toBeGreaterThan(5);
  }, 120_000);

  test('unet predict --engine onnxruntime runs where the addon cannot load; the libtorch engine there fails', () => {
    const onnx = path.join(folder, 'cli.onnx');
    execFileSync(process.execPath, [path.join(packageRoot, 'dist', 'cli', 'main.js'), 'export', '--model', 'nuclei', '--out', onnx]);
    const image = path.join(SAMPLES, fs.readdirSync(SAMPLES).sort()[0]!);
    const blocked = (args: string[]): string =>
      execFileSync(
        process.execPath,
        ['-r', path.join(packageRoot, 'test', 'support', 'no-addon.js'), path.join(packageRoot, 'dist', 'cli', 'main.js'), ...args],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    const out = path.join(folder, 'no-addon');
    expect(blocked(['predict', '--engine', 'onnxruntime', '--no-tta', '--model', onnx, '--out', out, image])).toMatch(/→ .*\.png/);
    expect(fs.existsSync(path.join(out, `${path.basename(image, '.png')}.png`))).toBe(true);
    expect(() => blocked(['predict', '--model', 'nuclei', '--out', out, image])).toThrow(/the unet-torch addon was loaded/);
  }, 120_000);

  test('refuses what it cannot run, by name', async () => {
    const notOnnx = path.join(folder, 'not.onnx');
    fs.writeFileSync(notOnnx, 'not a model at all');
    // Failures reject; the unet command prints them and exits with 1.
    await expect(quiet(['predict', '--engine', 'onnxruntime', '--model', notOnnx, '--out', folder, SAMPLES])).rejects.toThrow(
      /not\.onnx: not an ONNX model/,
    );
    const usage = await quiet(['predict', '--engine', 'onnxruntime', '--model', 'nuclei', '--out', folder, SAMPLES]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--engine onnxruntime takes an ONNX file \(unet export\), got --model nuclei/);
    const engine = await quiet(['predict', '--engine', 'tensorflow', '--model', 'nuclei', '--out', folder, SAMPLES]);
    expect(engine.code).toBe(2);
    expect(engine.stderr).toMatch(/--engine must be one of libtorch, onnxruntime, got 'tensorflow'/);
    const onnx = path.join(folder, 'refusals.onnx');
    expect((await quiet(['export', '--model', 'nuclei', '--out', onnx])).code).toBe(0);
    await expect(quiet(['predict', '--engine', 'onnxruntime', '--model', onnx, '--tile', '290', '--out', folder, SAMPLES])).rejects.toThrow(
      /290 is not a valid tile size for this network \(valid: \d+ \+ k·16: with valid convolutions and depth 5 every pooling must see an even size\); the nearest valid sizes are 284 and 300/,
    );
  });
});

describe("the browser page's label download", () => {
  test('its PNG encoder and unet predict write label ids by one rule: 8 bits up to 255, 16 above, nothing outside 0..65535', async () => {
    for (const ids of [
      [0, 1, 255, 7, 0, 3],
      [0, 300, 65535, 2, 256, 0],
    ]) {
      const raster = { height: 2, width: 3, data: Int32Array.from(ids) };
      const written = path.join(folder, 'predict.png');
      writeLabelRasterPng(written, raster);
      const downloaded = path.join(folder, 'page.png');
      fs.writeFileSync(downloaded, await encodeLabelPng(raster.data, 3, 2));
      for (const file of [written, downloaded]) {
        // pngjs, not our decoder, reads the depth and the samples.
        const png = PNG.sync.read(fs.readFileSync(file), { skipRescale: true });
        expect([file, png.depth, png.colorType]).toEqual([file, Math.max(...ids) > 255 ? 16 : 8, 0]);
        expect(Array.from(decodeLabelPng(file).data)).toEqual(ids);
      }
    }
    expect(() => writeLabelRasterPng(path.join(folder, 'x.png'), { height: 1, width: 2, data: Int32Array.from([0, 65536]) })).toThrow(
      /writeLabelPng\(\): label ids must be in 0\.\.65535, got 65536/,
    );
    await expect(encodeLabelPng(Int32Array.from([-1, 0]), 2, 1)).rejects.toThrow(
      /encodeLabelPng\(\): label ids must be in 0\.\.65535, got -1/,
    );
  });
});
