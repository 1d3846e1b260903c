// A progress line for the training loop: one line redrawn in place on a terminal, a line per
// tenth of the run (and per epoch) otherwise.
import type { TrainEvent } from '../train/trainer';

function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const seconds = Math.round(ms / 1000);
  return seconds >= 3600
    ? `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`
    : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
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
      const cells = v.seg === undefined ? '' : `, SEG ${v.seg.toFixed(4)}, DET ${v.det!.toFixed(4)}`;
      const isbi = v.isbiRandError === undefined ? '' : `, ISBI Rand error ${v.isbiRandError.toFixed(4)}`;
      stream.write(
        `${tty ? '\r\x1b[K' : ''}epoch ${event.epoch} (step ${event.step}): validation IoU ${v.iou[foreground]!.toFixed(4)}, Dice ${v.dice[foreground]!.toFixed(4)}${cells}${isbi}, loss ${v.loss.toFixed(4)}\n`,
      );
    } else if (event.type === 'calibrated') {
      const v = event.validation;
      const scores =
        v.seg === undefined
          ? v.isbiRandError === undefined
            ? ''
            : `ISBI Rand error ${v.isbiRandError.toFixed(4)}`
          : `SEG ${v.seg.toFixed(4)}, DET ${v.det!.toFixed(4)}`;
      stream.write(`post-processing chosen on the validation images: ${JSON.stringify(event.postprocess)} (${scores})\n`);
    } else if (event.type === 'stopped') {
      stream.write(`${tty ? '\n' : ''}stopped at step ${event.step}; the checkpoint holds everything to continue with --resume\n`);
    }
  };
}
