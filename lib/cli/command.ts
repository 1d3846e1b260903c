// One way to declare a `unet` verb: its flags (type, placeholder, help, default), its
// positional arguments and its run function. The usage text is generated from the declaration,
// parsing is strict, and every verb answers the same way: --help prints the usage (exit 0), a
// usage error prints what is wrong and the usage (exit 2), a failure prints its message (exit 1).
import { parseArgs } from 'node:util';

/** A mistake in how a command was called: unknown flag, missing argument, a value of the wrong form. */
export class UsageError extends Error {
  /** The error's class, as `error.name` and stack traces show it. */
  override name = 'UsageError';
}

/** One flag: `--name VALUE` (string) or `--name` (boolean). */
export interface FlagSpec {
  type: 'string' | 'boolean';
  /** What the value looks like in the usage (string flags), e.g. 'N' or 'DIR'. */
  placeholder?: string;
  /** One line (or a few) on what it does and its default. */
  help: string;
}

export type Flags = Record<string, FlagSpec>;

/** Parsed flag values: strings for string flags, booleans for boolean flags, undefined when absent. */
export type FlagValues<F extends Flags> = { [K in keyof F]?: F[K]['type'] extends 'boolean' ? boolean : string };

/** A verb of the `unet` command. */
export interface CommandSpec<F extends Flags> {
  name: string;
  /** What follows `unet NAME` in the usage line, e.g. '--data DIR --out RUN [options]'. */
  synopsis: string;
  flags: F;
  /** Flags that must be given. */
  required?: (keyof F & string)[];
  /** How many positional arguments are allowed: [min, max] (default none). */
  positionals?: [number, number];
  /** Lines after the flags in the usage: outputs, notes. */
  epilogue?: string;
  run(values: FlagValues<F>, positionals: string[]): number | Promise<number>;
}

/** A declared command, ready to run with its arguments. */
export interface Command {
  name: string;
  usage(): string;
  run(args: string[]): Promise<number>;
}

/** The usage lines of flags, aligned. */
export function flagUsage(flags: Flags): string {
  const heads = Object.entries(flags).map(([name, flag]) => `  --${name}${flag.type === 'string' ? ` ${flag.placeholder ?? 'X'}` : ''}`);
  const width = Math.max(...heads.map((head) => head.length)) + 2;
  return Object.values(flags)
    .map((flag, k) => {
      const [first, ...rest] = flag.help.split('\n');
      return [`${heads[k]!.padEnd(width)}${first}`, ...rest.map((line) => `${' '.repeat(width)}${line}`)].join('\n');
    })
    .join('\n');
}

/** Declares a command: its usage comes from the declaration, its parsing is strict. */
export function defineCommand<F extends Flags>(spec: CommandSpec<F>): Command {
  const flags: Flags = { ...spec.flags, help: { type: 'boolean', help: 'print this usage' } };
  const usage = (): string =>
    `usage: unet ${spec.name} ${spec.synopsis}\n${flagUsage(flags)}\n${spec.epilogue ? `${spec.epilogue.trimEnd()}\n` : ''}`;
  return {
    name: spec.name,
    usage,
    async run(args: string[]): Promise<number> {
      let values: Record<string, string | boolean | undefined>;
      let positionals: string[];
      try {
        ({ values, positionals } = parseArgs({
          args,
          strict: true,
          allowPositionals: spec.positionals !== undefined,
          options: Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, { type: flag.type }])),
        }));
      } catch (error) {
        return usageError(spec.name, (error as Error).message, usage());
      }
      if (values.help) {
        process.stdout.write(usage());
        return 0;
      }
      const [min, max] = spec.positionals ?? [0, 0];
      if (positionals.length < min || positionals.length > max) {
        const expected = min === max ? `${min}` : `${min} to ${max}`;
        return usageError(spec.name, `expected ${expected} argument(s) besides the flags, got ${positionals.length}`, usage());
      }
      const missing = (spec.required ?? []).filter((name) => values[name] === undefined);
      if (missing.length > 0) return usageError(spec.name, `missing ${missing.map((name) => `--${name}`).join(', ')}`, usage());
      try {
        return await spec.run(values as FlagValues<F>, positionals);
      } catch (error) {
        if (error instanceof UsageError) return usageError(spec.name, error.message, usage());
        // The image limit's library option, said as the flag of every verb that has it.
        throw 'max-pixels' in spec.flags ? withFlags(error, { maxPixels: '--max-pixels' }) : error;
      }
    },
  };
}

/**
 * An error of the library with its option names followed by the flags that set them, so that a
 * command-line user knows what to change: "option 'tileSize' …" becomes "option 'tileSize' (--tile) …".
 */
export function withFlags(error: unknown, flags: Record<string, string>): unknown {
  if (!(error instanceof Error)) return error;
  error.message = error.message.replace(/option '(\w+)'/g, (whole, name: string) => (flags[name] ? `${whole} (${flags[name]})` : whole));
  return error;
}

function usageError(name: string, message: string, usage: string): number {
  process.stderr.write(`unet ${name}: ${message}\n\n${usage}`);
  return 2;
}

/** Flags several verbs share. */
export const COMMON_FLAGS = {
  threads: { type: 'string', placeholder: 'N', help: 'CPU threads for libtorch (default: the CPUs)' },
  'max-pixels': { type: 'string', placeholder: 'N', help: 'refuse images that declare more pixels (default 268435456, 2^28)' },
} as const satisfies Flags;
