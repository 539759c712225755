// Parsers for numeric command-line options: a bad value names the flag and what it expected.
import { InvalidArgumentError } from 'commander';

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
