#!/usr/bin/env node
// The `unet` command line: one verb per file in this folder, each declared with defineCommand.
import { accuracyCommand } from './accuracy';
import { augmentCommand } from './augment';
import type { Command } from './command';
import { compareCommand } from './compare';
import { demoCommand } from './demo';
import { evalCommand } from './eval';
import { exportCommand } from './export';
import { infoCommand } from './info';
import { predictCommand } from './predict';
import { serveCommand } from './serve';
import { startCommand } from './start';
import { trainCommand } from './train';
import { weightMapCommand } from './weightmap';

const COMMANDS: Command[] = [
  startCommand,
  trainCommand,
  predictCommand,
  evalCommand,
  exportCommand,
  accuracyCommand,
  infoCommand,
  demoCommand,
  weightMapCommand,
  augmentCommand,
  compareCommand,
  serveCommand,
];

function usage(): string {
  const lines = COMMANDS.map((command) => `  ${command.name.padEnd(10)} ${command.summary}`);
  return `usage: unet <command> [options]   (unet <command> --help for its options)\n\ncommands:\n${lines.join('\n')}\n`;
}

/** Runs `unet ARGV…`; resolves to the exit status: 0 done, 1 failed, 2 a usage error. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
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
