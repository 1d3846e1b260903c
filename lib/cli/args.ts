// Option values of the command line, checked and named in the error when they are wrong.
import { setMaxImagePixels } from '../io/limits';
import { UsageError } from './command';

/** A finite number from `--name`, or undefined when the option was not given. */
export function numberOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got '${text}'`);
  return value;
}

/** An integer from `--name`, or undefined when the option was not given. */
export function integerOption(name: string, text: string | undefined): number | undefined {
  const value = numberOption(name, text);
  if (value !== undefined && !Number.isInteger(value)) throw new UsageError(`--${name} must be an integer, got '${text}'`);
  return value;
}

/** Two numbers from `--name A,B` (or one, `--name A`, meaning A,A), or undefined when not given. */
export function pairOption(name: string, text: string | undefined): [number, number] | undefined {
  if (text === undefined) return undefined;
  const parts = text.split(/[,x×]/).map((part) => numberOption(name, part)!);
  if (parts.length === 1) return [parts[0]!, parts[0]!];
  if (parts.length !== 2) throw new UsageError(`--${name} must be one number or two separated by a comma, got '${text}'`);
  return [parts[0]!, parts[1]!];
}

/** One of `allowed` from `--name`, or undefined when not given. */
export function choiceOption<T extends string>(name: string, text: string | undefined, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!allowed.includes(text as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${text}'`);
  return text as T;
}

/** `--threads`, checked (at least 1), or undefined when not given; the engine decides what it sets. */
export function threadsOption(values: { threads?: string }): number | undefined {
  const threads = integerOption('threads', values.threads);
  if (threads !== undefined && threads < 1) throw new UsageError(`--threads must be at least 1, got ${threads}`);
  return threads;
}

/** Applies `--max-pixels` (the image readers' limit), when given. */
export function applyMaxPixelsFlag(values: { 'max-pixels'?: string }): void {
  const maxPixels = integerOption('max-pixels', values['max-pixels']);
  if (maxPixels === undefined) return;
  if (maxPixels < 1) throw new UsageError(`--max-pixels must be at least 1, got ${maxPixels}`);
  setMaxImagePixels(maxPixels);
}
