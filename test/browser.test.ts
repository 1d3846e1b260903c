/// <reference lib="dom" />
// The browser page (web/, served by `unet serve`) in a real headless Chromium (Debian's chromium,
// driven by puppeteer-core): with the shipped model exported to ONNX, the label PNG it offers
// for a sample image equals `unet predict`'s labels; a bad model file and a non-image show a
// clear message on the page. Where no Chromium is installed the test is skipped with the reason
// printed, unless UNET_BROWSER_TEST=required (CI sets it), where that fails.
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

import puppeteer, { type Browser, type Page } from 'puppeteer-core';

import { main } from '../lib/cli/main';
import { serveStatic, WEB_ROOT } from '../lib/cli/serve';
import { packageRoot } from '../lib/package-root';
import { decodeLabelPng } from '../lib/raster/png';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = fs.existsSync(CHROMIUM);
if (!available && process.env.UNET_BROWSER_TEST === 'required')
  throw new Error(`UNET_BROWSER_TEST=required but there is no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);
if (!available) console.log(`browser test skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

const SAMPLES = path.join(packageRoot, 'examples', 'dsb2018', 'test', 'images');

let folder: string;
let server: http.Server;
let browser: Browser;
let address: string;

beforeAll(async () => {
  if (!available) return;
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-browser-'));
  server = await serveStatic(WEB_ROOT, 0, '127.0.0.1');
  address = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  if (!available) return;
  await browser.close();
  server.close();
  server.closeAllConnections();
  fs.rmSync(folder, { recursive: true, force: true });
});

async function quiet(argv: string[]): Promise<number> {
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await main(argv);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** Waits until the page settles in one of `states`; returns the state and the message shown. */
async function settle(page: Page, states: string[], timeout = 120_000): Promise<{ state: string; message: string }> {
  await page.waitForFunction((wanted: string[]) => wanted.includes(document.body.dataset.state ?? ''), { timeout }, states);
  return page.evaluate(() => ({
    state: document.body.dataset.state ?? '',
    message: document.getElementById('message')!.textContent ?? '',
  }));
}

async function open(): Promise<Page> {
  const page = await browser.newPage();
  // WASM: the numbers the test compares; WebGPU is not in headless Chromium anyway.
  await page.goto(`${address}?ep=wasm`);
  return page;
}

const maybe = available ? describe : describe.skip;

maybe('the browser page', () => {
  test("segments a sample image in a Web Worker and offers unet predict's labels as a PNG", async () => {
    const onnx = path.join(folder, 'nuclei.onnx');
    expect(await quiet(['export', '--model', 'nuclei', '--out', onnx])).toBe(0);
    const image = path.join(SAMPLES, fs.readdirSync(SAMPLES).sort()[0]!);
    const predicted = path.join(folder, 'libtorch');
    expect(await quiet(['predict', '--model', 'nuclei', '--out', predicted, image])).toBe(0);

    const page = await open();
    await (await page.$('input#model'))!.uploadFile(onnx);
    expect((await settle(page, ['ready', 'error'])).state).toBe('ready');
    await (await page.$('input#image'))!.uploadFile(image);
    const done = await settle(page, ['done', 'error']);
    expect(done).toEqual({ state: 'done', message: expect.stringMatching(/^\d+ cells in [\d.]+ s\.$/) });
    expect(await page.$eval('#progress', (bar) => (bar as HTMLProgressElement).value)).toBe(1);
    const png = await page.$eval('#download', async (link) => {
      const bytes = new Uint8Array(await (await fetch((link as HTMLAnchorElement).href)).arrayBuffer());
      return Array.from(bytes);
    });
    const file = path.join(folder, 'page.labels.png');
    fs.writeFileSync(file, Uint8Array.from(png));
    const ours = decodeLabelPng(file);
    const theirs = decodeLabelPng(path.join(predicted, `${path.basename(image, '.png')}.png`));
    expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
    let differing = 0;
    for (let k = 0; k < ours.data.length; k += 1) if (ours.data[k] !== theirs.data[k]) differing += 1;
    expect(differing).toBe(0);
    // A file that is no image: a clear message, and the model stays ready for the next one.
    const text = path.join(folder, 'notes.png');
    fs.writeFileSync(text, 'this is not a picture');
    await (await page.$('input#image'))!.uploadFile(text);
    expect(await settle(page, ['error'])).toEqual({
      state: 'error',
      message: 'notes.png is not an image this browser can read (PNG, JPEG, …)',
    });
    await page.close();
  }, 300_000);

  test('a file that is not an exported U-Net shows a clear message', async () => {
    const bad = path.join(folder, 'broken.onnx');
    fs.writeFileSync(bad, 'definitely not protobuf \u0000\u00ff');
    const page = await open();
    await (await page.$('input#model'))!.uploadFile(bad);
    const { state, message } = await settle(page, ['ready', 'error']);
    expect(state).toBe('error');
    expect(message).toMatch(/not an ONNX model|not a U-Net exported by unet-torch/);
    await page.close();
  }, 120_000);
});
