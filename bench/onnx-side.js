'use strict';
// onnxruntime-node's side of bench/runtimes.js, in its own process so that its peak memory is
// its own, and without the addon (the engine entry point never loads it):
//   node bench/onnx-side.js MODEL.onnx SIZE TILE REPEATS THREADS → { ms, peakRssMb }
const { loadOnnxSegmenter } = require('../dist/engine');
const { predictPlanes } = require('../dist/raster/tiles.js');
const { numberArguments } = require('./numbers');

async function main() {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: onnx-side.js MODEL.onnx SIZE TILE REPEATS THREADS');
  const [size, tile, repeats, threads] = /** @type {[number, number, number, number]} */ (numberArguments(process.argv.slice(3), 4));
  const segmenter = await loadOnnxSegmenter(file, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  // The network alone on tiles, as the libtorch side's predictProbabilities: no post-processing.
  const rule = segmenter.metadata.tile;
  const run = segmenter.runTiles;
  let seed = 1;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return (seed / 2147483647) * 2 - 1;
  };
  const image = { channels: 1, height: size, width: size, data: Float32Array.from({ length: size * size }, random) };
  await predictPlanes({ ...image, height: 64, width: 64, data: image.data.subarray(0, 64 * 64) }, rule, run, { tileSize: tile }); // warm-up
  let best = Infinity;
  for (let k = 0; k < repeats; k += 1) {
    const start = process.hrtime.bigint();
    await predictPlanes(image, rule, run, { tileSize: tile });
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  await segmenter.release();
  process.stdout.write(JSON.stringify({ ms: best, peakRssMb: process.resourceUsage().maxRSS / 1024 }));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
