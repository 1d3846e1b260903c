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

// Each verb's module loads when that verb runs (`unet --help` loads them all for their summaries),
// so that a verb that needs no libtorch (`predict --engine onnxruntime`, `serve`) never loads the addon.
const COMMANDS: [string, () => Command][] = [
  ['start', withTorch(() => (require('./start') as typeof import('./start')).startCommand)],
  ['train', withTorch(() => (require('./train') as typeof import('./train')).trainCommand)],
  ['predict', () => (require('./predict') as typeof import('./predict')).predictCommand],
  ['eval', withTorch(() => (require('./eval') as typeof import('./eval')).evalCommand)],
  ['export', withTorch(() => (require('./export') as typeof import('./export')).exportCommand)],
  ['accuracy', withTorch(() => (require('./accuracy') as typeof import('./accuracy')).accuracyCommand)],
  ['info', withTorch(() => (require('./info') as typeof import('./info')).infoCommand)],
  ['demo', withTorch(() => (require('./demo') as typeof import('./demo')).demoCommand)],
  ['weightmap', withTorch(() => (require('./weightmap') as typeof import('./weightmap')).weightMapCommand)],
  ['augment', withTorch(() => (require('./augment') as typeof import('./augment')).augmentCommand)],
  ['compare', withTorch(() => (require('./compare') as typeof import('./compare')).compareCommand)],
  ['serve', () => (require('./serve') as typeof import('./serve')).serveCommand],
];

function usage(): string {
  const lines = COMMANDS.map(([, load]) => load()).map((command) => `  ${command.name.padEnd(10)} ${command.summary}`);
  return `usage: unet <command> [options]   (unet <command> --help for its options)\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs `unet ARGV…`; resolves to the exit status: 0 done, 1 failed, 2 a usage error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find(([verb]) => verb === name)?.[1]();
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
