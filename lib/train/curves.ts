// Training curves as a PNG: the loss per step (raw and smoothed) and, per epoch, the validation
// IoU and Dice of the foreground class and the score that chooses the best model (SEG for
// cells), with their ranges written on the axes.
import { writePicturePng } from '../io/png';
import type { Picture } from '../io/picture';
import type { ValidationScores } from './validate';

// 3 × 5 glyphs, rows top to bottom, 3 bits each (4 = left column).
const GLYPHS: Record<string, number[]> = {
  S: [7, 4, 7, 1, 7],
  E: [7, 4, 6, 4, 7],
  G: [7, 4, 5, 5, 7],
  R: [6, 5, 6, 5, 5],
  n: [0, 6, 5, 5, 5],
  d: [1, 1, 7, 5, 7],
  r: [0, 6, 4, 4, 4],
  '0': [7, 5, 5, 5, 7],
  '1': [2, 6, 2, 2, 7],
  '2': [7, 1, 7, 4, 7],
  '3': [7, 1, 3, 1, 7],
  '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7],
  '6': [7, 4, 7, 5, 7],
  '7': [7, 1, 1, 2, 2],
  '8': [7, 5, 7, 5, 7],
  '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2],
  '-': [0, 0, 7, 0, 0],
  e: [0, 7, 7, 4, 7],
  l: [6, 2, 2, 2, 7],
  o: [0, 7, 5, 5, 7],
  s: [0, 7, 6, 3, 7],
  t: [2, 7, 2, 2, 3],
  p: [0, 7, 5, 7, 4],
  v: [0, 5, 5, 5, 2],
  a: [0, 7, 1, 7, 7],
  I: [7, 2, 2, 2, 7],
  U: [5, 5, 5, 5, 7],
  D: [6, 5, 5, 5, 6],
  i: [2, 0, 2, 2, 2],
  c: [0, 7, 4, 4, 7],
  ' ': [0, 0, 0, 0, 0],
};

type Colour = [number, number, number];

class Canvas implements Picture {
  readonly rgb: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(3 * width * height).fill(255);
  }

  dot(x: number, y: number, colour: Colour): void {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
    this.rgb.set(colour, 3 * (py * this.width + px));
  }

  line(x0: number, y0: number, x1: number, y1: number, colour: Colour): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let k = 0; k <= steps; k += 1) this.dot(x0 + ((x1 - x0) * k) / steps, y0 + ((y1 - y0) * k) / steps, colour);
  }

  text(x: number, y: number, text: string, colour: Colour = [60, 60, 60]): void {
    [...text].forEach((char, index) => {
      const rows = GLYPHS[char] ?? GLYPHS[' ']!;
      rows.forEach((bits, row) => {
        for (let column = 0; column < 3; column += 1) {
          if ((bits >> (2 - column)) & 1)
            for (let s = 0; s < 16; s += 1) this.dot(x + index * 16 + column * 4 + (s % 4), y + row * 4 + Math.floor(s / 4), colour);
        }
      });
    });
  }
}

function label(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return Math.abs(value) >= 1000 || (Math.abs(value) < 0.01 && value !== 0)
    ? value.toExponential(1).replace('+', '')
    : value.toPrecision(3);
}

// One panel: series of (x, y) drawn in the box [left, left + width) × [top, top + height).
function panel(
  canvas: Canvas,
  left: number,
  top: number,
  width: number,
  height: number,
  series: { name: string; points: [number, number][]; colour: Colour }[],
): void {
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  // The title names each series in its colour.
  let titleX = left;
  for (const { name, colour } of series.filter((s) => s.name !== '')) {
    canvas.text(titleX, top - 36, name, colour);
    titleX += 16 * (name.length + 2);
  }
  canvas.line(left, top, left, top + height, [0, 0, 0]);
  canvas.line(left, top + height, left + width, top + height, [0, 0, 0]);
  if (all.length === 0) return;
  const xMax = Math.max(...all.map(([x]) => x), 1);
  let yMin = Math.min(...all.map(([, y]) => y));
  let yMax = Math.max(...all.map(([, y]) => y));
  if (yMax === yMin) [yMin, yMax] = [yMin - 0.5, yMax + 0.5];
  canvas.text(left - 8 - 16 * label(yMax).length, top, label(yMax));
  canvas.text(left - 8 - 16 * label(yMin).length, top + height - 20, label(yMin));
  canvas.text(left + width - 16 * String(xMax).length, top + height + 10, String(xMax));
  canvas.text(left, top + height + 10, 'step');
  for (const { points, colour } of series) {
    const place = ([x, y]: [number, number]): [number, number] => [
      left + (x / xMax) * width,
      top + height - ((y - yMin) / (yMax - yMin)) * height,
    ];
    points.forEach((point, k) => {
      if (k === 0 || !Number.isFinite(point[1]) || !Number.isFinite(points[k - 1]![1])) return;
      const [x0, y0] = place(points[k - 1]!);
      const [x1, y1] = place(point);
      canvas.line(x0, y0, x1, y1, colour);
    });
    if (points.length === 1) {
      const [x, y] = place(points[0]!);
      for (let d = -3; d <= 3; d += 1) canvas.line(x - 3, y + d, x + 3, y + d, colour);
    }
  }
}

/** Writes the loss curve and the validation curves to `file` (PNG, atomically). */
export function writeCurves(file: string, losses: number[], history: { step: number; validation: ValidationScores | null }[]): void {
  const canvas = new Canvas(1400, 560);
  const raw = losses.map((loss, k): [number, number] => [k + 1, loss]);
  const window = Math.max(1, Math.round(losses.length / 50));
  const smooth = raw.map(([step], k): [number, number] => {
    const part = losses.slice(Math.max(0, k - window + 1), k + 1);
    return [step, part.reduce((a, b) => a + b, 0) / part.length];
  });
  panel(canvas, 140, 60, 500, 400, [
    { name: '', points: raw, colour: [190, 200, 230] },
    { name: 'loss', points: smooth, colour: [30, 60, 160] },
  ]);
  const scored = history.filter((entry) => entry.validation !== null);
  const foreground = (entry: (typeof scored)[number], key: 'iou' | 'dice'): number =>
    entry.validation![key][entry.validation![key].length - 1]!;
  panel(canvas, 860, 60, 500, 400, [
    { name: 'val IoU', points: scored.map((entry): [number, number] => [entry.step, foreground(entry, 'iou')]), colour: [200, 80, 30] },
    { name: 'Dice', points: scored.map((entry): [number, number] => [entry.step, foreground(entry, 'dice')]), colour: [40, 150, 60] },
    ...(scored.some((entry) => entry.validation!.seg !== undefined)
      ? [
          {
            name: 'SEG',
            points: scored.map((entry): [number, number] => [entry.step, entry.validation!.seg ?? NaN]),
            colour: [120, 40, 160] as Colour,
          },
        ]
      : []),
    ...(scored.some((entry) => entry.validation!.isbiRandError !== undefined)
      ? [
          {
            name: 'Rand err',
            points: scored.map((entry): [number, number] => [entry.step, entry.validation!.isbiRandError ?? NaN]),
            colour: [120, 40, 160] as Colour,
          },
        ]
      : []),
  ]);
  writePicturePng(file, canvas);
}
