'use strict';
// The border weight map: the addon's windowed exact distance transforms against the plain scipy
// reference (one distance transform per cell over the whole image), on the project's shared label
// images when they are there and on generated 1024×1024 images with 10, 100 and 1,000 cells.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { torch, weightMap, weightmap } = require('../dist/index.js');
const { readLabelPng } = require('../dist/io/png.js');
const { bestMs, referencePython, printTable, verdict } = require('./support');

const SHARED = path.join(__dirname, '..', '..', 'shared', 'data');

function discs(size, count, seed) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  const values = new Int32Array(size * size);
  for (let k = 1; k <= count; k += 1) {
    const cy = Math.floor(random() * size);
    const cx = Math.floor(random() * size);
    const r = 4 + Math.floor(random() * (count > 100 ? 8 : 30));
    for (let y = Math.max(0, cy - r); y < Math.min(size, cy + r + 1); y += 1) {
      for (let x = Math.max(0, cx - r); x < Math.min(size, cx + r + 1); x += 1)
        if ((y - cy) ** 2 + (x - cx) ** 2 <= r * r) values[y * size + x] = k;
    }
  }
  return torch.tensor(values).reshape([size, size]);
}

/** @returns {[string, () => import('../dist').Tensor, boolean][]} */
function cases() {
  /** @type {[string, () => import('../dist').Tensor, boolean][]} */
  const list = [];
  const first = (/** @type {string} */ folder) =>
    path.join(SHARED, folder, 'labels', /** @type {string} */ (fs.readdirSync(path.join(SHARED, folder, 'labels')).sort()[0]));
  if (fs.existsSync(SHARED)) {
    list.push(['HeLa (cell tracking) label', () => readLabelPng(first('dic-c2dh-hela')), false]);
    const dsb = fs.readdirSync(path.join(SHARED, 'dsb2018', 'labels')).sort();
    const nuclei = /** @type {string} */ (dsb[0]);
    list.push([`DSB2018 nuclei (${nuclei})`, () => readLabelPng(path.join(SHARED, 'dsb2018', 'labels', nuclei)), false]);
    list.push(['ISBI 2012 membrane mask (components)', () => readLabelPng(first('isbi2012')), true]);
  } else {
    console.log(`(${SHARED} is not here: only the generated images are measured)\n`);
  }
  for (const count of [10, 100, 1000]) list.push([`generated 1024×1024, ${count} cells`, () => discs(1024, count, count), false]);
  return list;
}

const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'unet-weightmap-bench-'));
try {
  const rows = cases().map(([label, load, mask]) => {
    const labels = load();
    const [h, w] = labels.shape;
    const cells = torch.tidy(() => (mask ? weightmap.instancesOf(labels, { input: 'mask' }) : labels).max().item());
    const options = /** @type {const} */ ({ input: mask ? 'mask' : 'instances' });
    // A warm-up, then the best of 5, each map disposed as it is made: a map left to the garbage
    // collector keeps its block from the next one, which then touches fresh pages (the HeLa row
    // measured 11.5 ms that way at f858d7c, against 4.8 ms for the map itself).
    weightMap(labels, options).dispose();
    const ours = bestMs(() => weightMap(labels, options).dispose(), 5);
    const file = path.join(folder, 'labels.npy');
    torch.saveNpy(file, labels.to('int32'));
    const args = ['-m', 'reference', 'weightmap', '--labels', file, '--out', path.join(folder, 'out.npy'), ...(mask ? ['--mask'] : [])];
    // The reference takes its best of up to 3 runs within 2 s (the 1,000-cell image takes minutes).
    const reference = JSON.parse(execFileSync(referencePython(), args, { cwd: path.join(__dirname, '..'), encoding: 'utf8' })).ms;
    labels.dispose();
    return [
      label,
      `${w}×${h}`,
      String(cells),
      ours.toFixed(1),
      reference.toFixed(1),
      `${(reference / ours).toFixed(1)}×`,
      verdict(reference / ours, '>=', 20, '×'),
    ];
  });
  printTable(['labels', 'size', 'cells', 'unet-torch ms', 'scipy reference ms', 'speed-up', 'target'], rows);
} finally {
  fs.rmSync(folder, { recursive: true, force: true });
}
