'use strict';
// Builds the browser page (web/) into dist/web: app.js and worker.js bundled by esbuild from
// web/*.ts and the engine code they share with Node (lib/engine/segmenter, lib/raster), the HTML,
// and onnxruntime-web's WASM runtime copied beside them (ort/), so that dist/web is a static
// site any server can serve (`unet serve` does). Skipped, with a note, where esbuild or
// onnxruntime-web is not installed (an install without dev or optional dependencies).
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'web');
// The runtime files the page loads: the ES module and its WASM builds (plain and WebGPU).
const ORT_FILES = [
  'ort.min.mjs',
  'ort-wasm-simd-threaded.mjs',
  'ort-wasm-simd-threaded.wasm',
  'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.jsep.wasm',
];

function main() {
  let esbuild;
  let ortDist;
  try {
    esbuild = require('esbuild');
    // onnxruntime-web's main file lies in its dist/ folder, beside the runtime files the page loads.
    ortDist = path.dirname(require.resolve('onnxruntime-web'));
  } catch (error) {
    console.log(`build-web: the browser page is not built (${/** @type {Error} */ (error).message.split('\n')[0]})`);
    return;
  }
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(path.join(out, 'ort'), { recursive: true });
  esbuild.buildSync({
    entryPoints: [path.join(root, 'web', 'app.ts'), path.join(root, 'web', 'worker.ts')],
    outdir: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(root, 'web', 'index.html'), path.join(out, 'index.html'));
  for (const file of ORT_FILES) fs.copyFileSync(path.join(ortDist, file), path.join(out, 'ort', file));
}

main();
