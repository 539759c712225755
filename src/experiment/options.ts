// Parsers for the experiment's list options (--seeds, --compare, --tasks, --languages): the CLI and the API
// accept the same text, and a bad value names the option, what it expected and what it got.
import { XlmtError } from '../errors/index.ts';

export const COMPARISONS = ['crosslingual', 'multitask'] as const;
export type Comparison = (typeof COMPARISONS)[number];

/** "a, b,c" → ["a", "b", "c"]: entries trimmed, duplicates dropped (first occurrence kept), empty entries refused. */
export function parseList(option: string, text: string): string[] {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: option }, message: 'empty entry in the list', expected: 'comma-separated names such as "a,b"', received: JSON.stringify(text) });
  }
  return [...new Set(items)];
}

/** "1,2,3" → [1, 2, 3]: integers >= 0 (seeds of `xlmt train`), each once. */
export function parseSeeds(text: string): number[] {
  const items = text.split(',').map((s) => s.trim());
  const bad = items.find((s) => !/^\d+$/.test(s) || !Number.isSafeInteger(Number(s)));
  if (bad !== undefined) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--seeds' }, message: `"${bad}" is not a seed`, expected: 'comma-separated integers >= 0 such as "1,2,3"', received: JSON.stringify(text) });
  }
  return checkSeeds(items.map(Number));
}

export function checkSeeds(seeds: readonly number[]): number[] {
  if (seeds.length === 0) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--seeds' }, message: 'no seed', expected: 'at least one seed; two or more give confidence intervals', received: '[]' });
  }
  const bad = seeds.find((s) => !Number.isSafeInteger(s) || s < 0);
  if (bad !== undefined) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--seeds' }, message: `${bad} is not a seed`, expected: 'integers >= 0', received: String(bad) });
  }
  const twice = seeds.find((s, i) => seeds.indexOf(s) !== i);
  if (twice !== undefined) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--seeds' }, message: `seed ${twice} is listed twice`, expected: 'distinct seeds', received: seeds.join(','), hint: 'The same seed trains the same model twice' });
  }
  return [...seeds];
}

export function parseComparisons(text: string): Comparison[] {
  return parseList('--compare', text).map((c) => {
    const known = COMPARISONS.find((k) => k === c);
    if (known === undefined) {
      throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--compare' }, message: `unknown comparison "${c}"`, expected: COMPARISONS.map((k) => `"${k}"`).join(' or '), received: JSON.stringify(text) });
    }
    return known;
  });
}
