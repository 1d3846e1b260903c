#!/usr/bin/env node
// The `unet` command line: one verb per file in this folder, each declared with defineCommand.
import type { Command } from './command';

/** A libtorch verb: the Tensor methods (lib/methods, which loads the addon) are installed first. */
function withTorch(load: () => Command): () => Command {
  return () => {
    require('../methods');
    return load();
  };
}

/** A verb of `unet`: its line in the overview, and its module, loaded when the verb runs. */
interface Verb {
  summary: string;
  load: () => Command;
}

// Only the verb that runs is loaded, so that the overview and a verb that needs no libtorch
// (`predict --engine onnxruntime`, `serve`) never load the addon.
const VERBS: Record<string, Verb> = {
  start: {
    summary: 'what npm start runs: train on the sample nuclei for a few minutes, segment and score the held-out ones',
    load: withTorch(() => (require('./start') as typeof import('./start')).startCommand),
  },
  train: {
    summary: 'train a U-Net on images/ and labels/ (checkpoints, validation, calibration; --resume)',
    load: withTorch(() => (require('./train') as typeof import('./train')).trainCommand),
  },
  predict: {
    summary: 'segment images of any size by overlap-tile with a trained or shipped model (labels, probabilities, overlay)',
    load: () => (require('./predict') as typeof import('./predict')).predictCommand,
  },
  eval: {
    summary: "score predicted labels against the truth: the challenges' SEG/DET or ISBI 2012 measures, IoU, Dice, Rand and warping error",
    load: withTorch(() => (require('./eval') as typeof import('./eval')).evalCommand),
  },
  export: {
    summary: 'write a trained or shipped model as ONNX, for onnxruntime in Node or the browser',
    load: withTorch(() => (require('./export') as typeof import('./export')).exportCommand),
  },
  accuracy: {
    summary: 'the results table: train each benchmark set with its recipe for a fixed time, score held-out frames as the challenges do',
    load: withTorch(() => (require('./accuracy') as typeof import('./accuracy')).accuracyCommand),
  },
  info: {
    summary:
      "the libtorch in use, CUDA, GPUs, distributed backends, CUDA kernels, threads, and the CPU with its kernels' instruction set (--json for JSON)",
    load: withTorch(() => (require('./info') as typeof import('./info')).infoCommand),
  },
  demo: {
    summary: 'a short tour of tensors, autograd and memory scopes',
    load: withTorch(() => (require('./demo') as typeof import('./demo')).demoCommand),
  },
  weightmap: {
    summary: "the paper's border weight map of a label image, as .npy or a .png picture",
    load: withTorch(() => (require('./weightmap') as typeof import('./weightmap')).weightMapCommand),
  },
  augment: {
    summary: 'one augmented sample (elastic, rotation, flips, gray values) as PNGs, with a preview',
    load: withTorch(() => (require('./augment') as typeof import('./augment')).augmentCommand),
  },
  compare: {
    summary: 'the U-Net here and in PyTorch side by side: values, gradients, 20 SGD steps, time',
    load: withTorch(() => (require('./compare') as typeof import('./compare')).compareCommand),
  },
  serve: {
    summary: 'serve the browser page that segments images with an exported model (onnxruntime-web)',
    load: () => (require('./serve') as typeof import('./serve')).serveCommand,
  },
};

function usage(): string {
  const lines = Object.entries(VERBS).map(([name, verb]) => `  ${name.padEnd(10)} ${verb.summary}`);
  return `usage: unet <command> [options]   (unet <command> --help for its options)\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs `unet ARGV…`; resolves to the exit status: 0 done, 1 failed, 2 a usage error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(VERBS, name) ? VERBS[name]!.load() : undefined;
  if (!command) {
    process.stderr.write(`unet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return command.run(args);
}

if (require.main === module) {
  // A closed pipe (`unet info | head`) ends the output, not the process with a stack trace.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`unet: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
