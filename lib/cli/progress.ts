// A progress line for the training loop: one line redrawn in place on a terminal, a line per
// tenth of the run (and per epoch) otherwise.
import type { TrainEvent } from '../train/trainer';

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const seconds = Math.round(ms / 1000);
  return seconds >= 3600 ? `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** Returns the event handler that draws the progress to `stream`. */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (event: TrainEvent) => void {
  const tty = stream.isTTY === true;
  let average = NaN;
  let lastPrinted = 0;
  return (event) => {
    if (event.type === 'step') {
      average = Number.isNaN(average) ? event.loss : 0.95 * average + 0.05 * event.loss;
      const width = 24;
      const done = Math.round((event.step / event.steps) * width);
      const line = `step ${event.step}/${event.steps} [${'='.repeat(done)}${' '.repeat(width - done)}] loss ${average.toFixed(4)}  ${event.tilesPerSecond.toFixed(2)} tiles/s  ETA ${duration(event.etaMs)}`;
      if (tty) stream.write(`\r${line}\x1b[K`);
      else if (event.step === 1 || event.step === event.steps || event.step - lastPrinted >= Math.max(1, Math.round(event.steps / 10))) {
        stream.write(`${line}\n`);
        lastPrinted = event.step;
      }
    } else if (event.type === 'epoch' && event.validation) {
      const v = event.validation;
      const foreground = v.iou.length - 1;
      const instance = v.randError === undefined ? '' : `, Rand error ${v.randError.toFixed(4)}, warping error ${v.warpingError!.toFixed(5)}, SEG ${v.seg!.toFixed(4)}`;
      stream.write(`${tty ? '\r\x1b[K' : ''}epoch ${event.epoch} (step ${event.step}): validation IoU ${v.iou[foreground]!.toFixed(4)}, Dice ${v.dice[foreground]!.toFixed(4)}, pixel error ${v.pixelError.toFixed(4)}${instance}\n`);
    } else if (event.type === 'stopped') {
      stream.write(`${tty ? '\n' : ''}stopped at step ${event.step}; the checkpoint holds everything to continue with --resume\n`);
    }
  };
}
