// The page: picks a model and an image, hands them to the worker, shows the progress, the image
// with each cell in its colour, and offers the label PNG. `document.body.dataset.state` says
// where it is (idle, loading, ready, working, done, error), for people and for the browser test.
import { labelPictureOf } from '../lib/io/picture';
import type { UNetMetadata } from '../lib/onnx/metadata';
import { fitChannels } from '../lib/raster/channels';
import type { ImageRaster } from '../lib/raster/image';
import { encodeLabelPng } from './png-encode';
import type { Reply, Request } from './protocol';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const message = $<HTMLParagraphElement>('message');
const progress = $<HTMLProgressElement>('progress');
const download = $<HTMLAnchorElement>('download');
const view = $<HTMLCanvasElement>('view');
const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });

let metadata: UNetMetadata | null = null;
let shown: { name: string; rgba: Uint8ClampedArray; width: number; height: number } | null = null;

function say(text: string, state: string): void {
  message.textContent = text;
  message.className = state === 'error' ? 'error' : '';
  document.body.dataset.state = state;
}

function send(request: Request, transfer: Transferable[] = []): void {
  worker.postMessage(request, transfer);
}

async function chooseModel(file: File): Promise<void> {
  say(`Loading ${file.name}…`, 'loading');
  download.hidden = true;
  const providers = 'gpu' in navigator && new URLSearchParams(location.search).get('ep') !== 'wasm' ? ['webgpu', 'wasm'] : ['wasm'];
  const bytes = await file.arrayBuffer();
  send({ type: 'model', bytes, executionProviders: providers }, [bytes]);
}

// The image's pixels as the network takes them: its red, green and blue, fitted to the model's
// channels by the rule `unet predict` applies (lib/raster/channels).
async function readImage(file: File, channels: number): Promise<{ raster: ImageRaster; rgba: Uint8ClampedArray }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch {
    throw new Error(`${file.name} is not an image this browser can read (PNG, JPEG, …)`);
  }
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, width, height).data;
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let k = 0; k < plane; k += 1) for (let c = 0; c < 3; c += 1) data[c * plane + k] = rgba[4 * k + c]! / 255;
  return { raster: fitChannels({ channels: 3, height, width, data }, channels, file.name), rgba };
}

async function chooseImage(file: File): Promise<void> {
  if (metadata === null) {
    say('Choose a model first.', 'error');
    return;
  }
  download.hidden = true;
  progress.value = 0;
  try {
    const { raster, rgba } = await readImage(file, metadata.model.options.inChannels);
    shown = { name: file.name.replace(/\.[^.]*$/, ''), rgba, width: raster.width, height: raster.height };
    say(`Segmenting ${file.name} (${raster.width}×${raster.height})…`, 'working');
    send({ type: 'segment', image: raster }, [raster.data.buffer]);
  } catch (error) {
    say((error as Error).message, 'error');
  }
}

async function showResult(reply: Extract<Reply, { type: 'result' }>): Promise<void> {
  if (shown === null) return;
  const { width, height, labels } = reply;
  const plane = width * height;
  const base = new Uint8Array(3 * plane);
  for (let k = 0; k < plane; k += 1) for (let c = 0; c < 3; c += 1) base[3 * k + c] = shown.rgba[4 * k + c]!;
  const picture = labelPictureOf(labels, height, width, { height, width, rgb: base });
  const pixels = new ImageData(width, height);
  for (let k = 0; k < plane; k += 1) {
    pixels.data.set(picture.rgb.subarray(3 * k, 3 * k + 3), 4 * k);
    pixels.data[4 * k + 3] = 255;
  }
  view.width = width;
  view.height = height;
  view.getContext('2d')!.putImageData(pixels, 0, 0);
  const png = await encodeLabelPng(labels, width, height);
  URL.revokeObjectURL(download.href);
  download.href = URL.createObjectURL(new Blob([png], { type: 'image/png' }));
  download.download = `${shown.name}.labels.png`;
  download.hidden = false;
  progress.value = 1;
  const what = metadata?.model.postprocess.kind === 'classes' ? 'classes' : `${reply.cells} cells`;
  say(`${what} in ${reply.seconds.toFixed(1)} s.`, 'done');
}

worker.onmessage = (event: MessageEvent<Reply>): void => {
  const reply = event.data;
  if (reply.type === 'model-ready') {
    metadata = reply.metadata;
    const { options, postprocess } = reply.metadata.model;
    $('model-info').textContent = `${options.inChannels} channel(s) in, ${options.classes} classes, ${postprocess.kind}; ${reply.executionProvider}`;
    say('Model ready: choose or drop an image.', 'ready');
  } else if (reply.type === 'progress') progress.value = reply.fraction;
  else if (reply.type === 'result') void showResult(reply);
  else {
    if (document.body.dataset.state === 'loading') metadata = null;
    say(reply.message, 'error');
  }
};
worker.onerror = (event): void => say(`the worker failed: ${event.message}`, 'error');

$<HTMLInputElement>('model').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) void chooseModel(file);
});
$<HTMLInputElement>('image').addEventListener('change', (event) => {
  const file = (event.target as HTMLInputElement).files?.[0];
  if (file) void chooseImage(file);
});
const drop = $('drop');
drop.addEventListener('dragover', (event) => {
  event.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (event) => {
  event.preventDefault();
  drop.classList.remove('over');
  const file = event.dataTransfer?.files[0];
  if (file) void (file.name.endsWith('.onnx') ? chooseModel(file) : chooseImage(file));
});
