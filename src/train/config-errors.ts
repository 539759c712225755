// Configuration errors (training and pretraining alike): zod's issues turned into XlmtErrors that name the flag a
// value came from, or the configuration file and field path, so `xlmt train` with no --train says `--train`.
import type { z } from 'zod';
import { closest, didYouMean, oneOf } from '../data/suggest.ts';
import { preview, renderText, XlmtError, type ErrorData, type Where } from '../errors/index.ts';
import { valueAt } from '../data/schema.ts';

export class ConfigError extends XlmtError {
  constructor(data: ErrorData, options?: ErrorOptions) {
    super(data, options);
    this.name = 'ConfigError';
  }
}

/** Where a configuration object came from: a file, command-line flags laid over it, or both. */
export interface ConfigOrigin {
  /** The configuration file (or a description such as "base configuration") the values not set by flags came from. */
  readonly file?: string;
  /** Dotted field (`train`, `encoder.layers`) → the flag that sets it, for every flag the command has. */
  readonly flags?: Readonly<Record<string, string>>;
  /** The dotted fields whose value a flag gave. */
  readonly fromFlags?: ReadonlySet<string>;
}

/** One problem with a configuration, as data. */
interface Problem extends ErrorData {
  readonly missing: boolean;
}

/** Every zod issue of a configuration as one ConfigError: the first (missing settings first) in full, the rest listed. */
export function configError(error: z.ZodError, input: unknown, origin: ConfigOrigin, knownFields: readonly string[]): ConfigError {
  const problems = error.issues.flatMap((i) => toProblems(i, input, origin, knownFields));
  problems.sort((a, b) => Number(b.missing) - Number(a.missing));
  const [first, ...rest] = problems;
  if (first === undefined) return new ConfigError({ code: 'CONFIG_INVALID', message: 'invalid configuration', ...whereOf(origin, []) });
  const { missing: _missing, ...data } = first;
  if (rest.length === 0) return new ConfigError(data);
  const shown = [first, ...rest].map((p) => ({ code: p.code, message: p.message, ...omitUndefined(p) }));
  const also = rest.map((p) => renderText(p)).join('; ');
  const head = renderText({ message: first.message, expected: first.expected, received: first.received });
  return new ConfigError({
    code: first.code,
    message: `${head}; ${rest.length} more: ${also}`,
    ...(first.where === undefined ? {} : { where: first.where }),
    ...(first.hint === undefined ? {} : { hint: first.hint }),
    details: { issues: shown },
  });
}

function omitUndefined(p: Problem): Record<string, unknown> {
  return Object.fromEntries(Object.entries({ where: p.where, expected: p.expected, received: p.received, hint: p.hint }).filter(([, v]) => v !== undefined));
}

function toProblems(i: z.core.$ZodIssue, input: unknown, origin: ConfigOrigin, knownFields: readonly string[]): Problem[] {
  const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
  if (i.code === 'unrecognized_keys') {
    return i.keys.map((key) => {
      const at = [...path, key];
      const hint = path.length === 0 ? didYouMean(key, knownFields) : undefined;
      return problem(at, origin, false, { message: 'unknown setting', received: preview(key), ...(hint === undefined ? { hint: 'see docs/training.md and docs/pretraining.md for the settings' } : { hint }) });
    });
  }
  const value = valueAt(input, path);
  if (i.code === 'invalid_type' && value === undefined) {
    const flag = flagFor(path, origin);
    const hint = flag === undefined ? undefined : `give ${flag}${origin.file === undefined ? ' or a --config file that sets it' : ` or set "${dotted(path)}" in ${origin.file}`}`;
    return [problem(path, origin, true, { message: 'required setting not given', ...(hint === undefined ? {} : { hint }) })];
  }
  switch (i.code) {
    case 'invalid_type':
      return [problem(path, origin, false, { message: 'wrong type', expected: describeType(i.expected), received: preview(value) })];
    case 'invalid_value': {
      const choices = i.values.map(String);
      const near = typeof value === 'string' ? closest(value, choices) : null;
      return [problem(path, origin, false, { message: 'not one of the choices', expected: oneOf(choices), received: preview(value), ...(near === null ? {} : { hint: `did you mean ${JSON.stringify(near)}?` }) })];
    }
    case 'too_small':
    case 'too_big':
      return [problem(path, origin, false, { message: 'out of range', expected: bound(i), received: Array.isArray(value) ? `${value.length} items` : preview(value) })];
    default:
      return [problem(path, origin, false, { message: i.code === 'invalid_union' ? 'not a valid value' : i.message, received: preview(value) })];
  }
}

function problem(path: readonly (string | number)[], origin: ConfigOrigin, missing: boolean, data: Omit<ErrorData, 'code' | 'where'>): Problem {
  const flag = flagFor(path, origin);
  const given = flag !== undefined && topField(path, origin) !== undefined;
  // A missing setting is best named by the flag that gives it; a bad value by where it came from.
  if (missing) return { ...data, missing, code: 'MISSING_OPTION', ...(flag === undefined ? whereOf(origin, path) : { where: { field: flag } }) };
  if (given) return { ...data, missing, code: 'BAD_OPTION', where: { field: flag } };
  return { ...data, missing, code: 'CONFIG_INVALID', ...whereOf(origin, path) };
}

function whereOf(origin: ConfigOrigin, path: readonly (string | number)[]): { where?: Where } {
  const where: Where = { ...(origin.file === undefined ? {} : { file: origin.file }), ...(path.length === 0 ? {} : { field: dotted(path) }) };
  return Object.keys(where).length === 0 ? {} : { where };
}

/** The flag for the longest prefix of `path` that one sets (`charNgrams.min` → `--char-ngrams`). */
function flagFor(path: readonly (string | number)[], origin: ConfigOrigin): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const flag = origin.flags?.[dotted(path.slice(0, n))];
    if (flag !== undefined) return flag;
  }
  return undefined;
}

/** The prefix of `path` a flag gave, if one did. */
function topField(path: readonly (string | number)[], origin: ConfigOrigin): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const field = dotted(path.slice(0, n));
    if (origin.fromFlags?.has(field) === true) return field;
  }
  return undefined;
}

function dotted(path: readonly (string | number)[]): string {
  return path.map((p, k) => (typeof p === 'number' ? `[${p}]` : k === 0 ? p : `.${p}`)).join('');
}

function describeType(expected: string): string {
  const names: Readonly<Record<string, string>> = { string: 'a string', number: 'a number', int: 'a whole number', array: 'a list', object: 'an object', boolean: 'true or false' };
  return names[expected] ?? expected;
}

function bound(i: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = i.code === 'too_small';
  const limit = small ? (i as z.core.$ZodIssueTooSmall).minimum : (i as z.core.$ZodIssueTooBig).maximum;
  if (i.origin === 'array') return `${small ? 'at least' : 'at most'} ${limit} item${Number(limit) === 1 ? '' : 's'}`;
  if (i.origin === 'string') return small ? 'a non-empty string' : `at most ${limit} characters`;
  const sign = small ? (i.inclusive === false ? '>' : '≥') : (i.inclusive === false ? '<' : '≤');
  return `a number ${sign} ${limit}`;
}
