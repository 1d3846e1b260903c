/// <reference lib="dom" />
'use strict';
// Prediction of a 512 × 512 image with the compact U-Net (572 tiles) by the three runtimes a
// model trained here can run on: libtorch (`unet predict`'s predictProbabilities), onnxruntime-node
// (the ONNX engine, without the addon) and onnxruntime-web (WASM, one thread) in headless
// Chromium, each in its own process; the time is the best of the repeats, the memory the process's
// peak resident size (for the browser, the largest renderer process's). No target: issue 18 asks
// for honest numbers. The browser row is left out where Chromium is not installed.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { printTable } = require('./support');

const THREADS = String(Math.min(2, os.availableParallelism()));
const SIZE = 512;
const TILE = 572;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-bench-runtimes-'));
const onnx = path.join(folder, 'compact.onnx');
const dist = path.join(__dirname, '..', 'dist');
execFileSync(process.execPath, [
  '-e',
  `const { torch, createUNet, exportOnnx } = require(${JSON.stringify(dist)}); torch.manualSeed(0); exportOnnx(createUNet('compact'), ${JSON.stringify(onnx)});`,
]);

function side(script, args) {
  return JSON.parse(
    execFileSync(process.execPath, [path.join(__dirname, script), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }),
  );
}

/** The parent process of `pid`, or 0. */
function parentOf(pid) {
  try {
    return Number(/PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Peak resident MB (VmHWM) of the largest renderer process under the browser process `browserPid`. */
function rendererPeakMb(browserPid) {
  let peak = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      let ancestor = parentOf(pid);
      while (ancestor > 1 && ancestor !== browserPid) ancestor = parentOf(ancestor);
      if (ancestor !== browserPid) continue;
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
    } catch {
      // the process ended while being read
    }
  }
  return peak;
}

async function web(repeats) {
  const puppeteer = require('puppeteer-core');
  const { PNG } = require('pngjs');
  const { serveStatic, WEB_ROOT } = require(path.join(dist, 'cli', 'serve.js'));
  const image = path.join(folder, 'random.png');
  const png = new PNG({ width: SIZE, height: SIZE, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from(Uint8Array.from({ length: SIZE * SIZE }, (_, k) => (k * 2654435761) % 251));
  fs.writeFileSync(image, PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
  const server = await serveStatic(WEB_ROOT, 0, '127.0.0.1');
  // The browser as users run it: without the allocator settings bench/run.js gives the Node sides.
  const { GLIBC_TUNABLES: _tunables, ...env } = process.env;
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'], env });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/?ep=wasm`);
    const settle = (states) =>
      page
        .waitForFunction((wanted) => wanted.includes(document.body.dataset.state), { timeout: 600_000 }, states)
        .then(() =>
          page.evaluate(() => ({ state: document.body.dataset.state, message: document.getElementById('message')?.textContent ?? '' })),
        );
    const input = async (/** @type {string} */ selector) =>
      /** @type {import('puppeteer-core').ElementHandle<HTMLInputElement>} */ (await page.$(selector));
    await (await input('input#model')).uploadFile(onnx);
    await settle(['ready', 'error']);
    let best = Infinity;
    for (let k = 0; k <= repeats; k += 1) {
      await page.evaluate(() => {
        document.body.dataset.state = 'working';
      });
      await (await input('input#image')).uploadFile(image);
      const { state, message } = await settle(['done', 'error']);
      if (state !== 'done') throw new Error(`the page: ${message}`);
      // The first run warms the runtime up, as the other sides' warm-up.
      if (k > 0) best = Math.min(best, Number(/in ([\d.]+) s/.exec(message)?.[1]) * 1000);
      await (await input('input#image')).evaluate((element) => {
        element.value = '';
      });
    }
    return { ms: best, peakRssMb: rendererPeakMb(browser.process()?.pid ?? -1) };
  } finally {
    await browser.close();
    server.close();
  }
}

async function main() {
  const rows = [];
  const torchSide = side('predict-side.js', ['predict', 'compact', String(SIZE), String(TILE), '2', THREADS]);
  rows.push(['libtorch (unet predict)', torchSide.ms.toFixed(0), torchSide.peakRssMb.toFixed(0), `${THREADS} threads`]);
  const ortSide = side('onnx-side.js', [onnx, String(SIZE), String(TILE), '2', THREADS]);
  rows.push(['onnxruntime-node', ortSide.ms.toFixed(0), ortSide.peakRssMb.toFixed(0), `${THREADS} intra-op threads`]);
  if (fs.existsSync(CHROMIUM) && fs.existsSync(path.join(dist, 'web', 'index.html'))) {
    const webSide = await web(2);
    rows.push([
      'onnxruntime-web, headless Chromium',
      webSide.ms.toFixed(0),
      webSide.peakRssMb.toFixed(0),
      'WASM, 1 thread; includes post-processing',
    ]);
  } else {
    console.log(`(no browser row: no Chromium at ${CHROMIUM} or no built page)`);
  }
  printTable(['runtime', 'ms', 'peak MB', 'notes'], rows);
  console.log(
    `\n(compact, ${TILE} tiles, a ${SIZE}×${SIZE} image, CPU. The anchors' notes hold no tfjs-wasm time for this network, so none is shown.)`,
  );
  fs.rmSync(folder, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
