// Parsers for numeric command-line options: a bad value names the flag and what it expected. They throw
// commander's InvalidArgumentError, which the command line reports as BAD_OPTION with the flag as `where.field`
// (cli/report-error.ts).
import { InvalidArgumentError } from 'commander';
import { XlmtError } from '../errors/index.ts';

export function positiveInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${flag} expects a positive integer, got "${value}"`);
    return n;
  };
}

export function nonNegativeInt(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} expects an integer >= 0, got "${value}"`);
    return n;
  };
}

export function probability(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError(`${flag} expects a number in [0, 1), got "${value}"`);
    return n;
  };
}

export function number(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${flag} expects a number, got "${value}"`);
    return n;
  };
}

/** `on` or `off` as a boolean. */
export function onOff(flag: string): (value: string) => boolean {
  return (value) => {
    if (value !== 'on' && value !== 'off') throw new InvalidArgumentError(`${flag} expects on or off, got "${value}"`);
    return value === 'on';
  };
}

/** `MIN-MAX` (or one length N, meaning N-N) as { min, max }, both positive integers with min ≤ max. */
export function intRange(flag: string): (value: string) => { min: number; max: number } {
  return (value) => {
    const match = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
    const min = match ? Number(match[1]) : Number.NaN;
    const max = match ? Number(match[2] ?? match[1]) : Number.NaN;
    if (!(min >= 1 && max >= min)) throw new InvalidArgumentError(`${flag} expects MIN-MAX with 1 <= MIN <= MAX (e.g. 3-5), got "${value}"`);
    return { min, max };
  };
}

/** A repeatable option's values, in the order given: `--x a --x b` gives ["a", "b"]. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function positiveNumber(flag: string): (value: string) => number {
  return (value) => {
    const x = Number(value);
    if (value.trim() === '' || !Number.isFinite(x) || x <= 0) throw new InvalidArgumentError(`${flag} expects a number > 0, got "${value}"`);
    return x;
  };
}

/** Comma-separated names, none empty. */
export function list(flag: string): (value: string) => string[] {
  return (value) => {
    const items = value.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) throw new InvalidArgumentError(`${flag} expects comma-separated names, got "${value}"`);
    return items;
  };
}

/** --text-field and --text-column name the same thing in each format's words; both at once must agree. */
export function oneOf(a: string | undefined, b: string | undefined, flagA: string, flagB: string): string | undefined {
  if (a !== undefined && b !== undefined && a !== b) {
    throw new XlmtError({ code: 'BAD_OPTION', message: `${flagA} and ${flagB} name the same field but differ`, where: { field: flagA }, expected: 'one of them, or both equal', received: `${JSON.stringify(a)} and ${JSON.stringify(b)}` });
  }
  return a ?? b;
}
