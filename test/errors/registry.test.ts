// The error model's contract: one registry with each code once, documented in docs/errors.md and raised somewhere;
// one text rendering that is safe to print; Node's errors mapped to codes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODE_TABLES, CODES, preview, printable, renderText, toXlmtError, XlmtError } from '../../src/errors/index.ts';
import { withCurrentTables } from '../../src/errors/doc.ts';
import { DATA_ISSUE_CODES } from '../../src/data/issues.ts';
import { runXlmt } from '../helpers/cli.ts';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the code registry', () => {
  it('holds each code in one table only', () => {
    const seen = new Map<string, string>();
    for (const [area, table] of Object.entries(CODE_TABLES)) {
      for (const code of Object.keys(table)) {
        expect(seen.get(code), `${code} is in both ${seen.get(code)} and ${area}`).toBeUndefined();
        seen.set(code, area);
      }
    }
    expect(seen.size).toBe(Object.keys(CODES).length);
  });

  it('is documented: docs/errors.md holds the tables made from it', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    expect(withCurrentTables(doc), 'run `npx tsx scripts/errors-doc.ts`').toBe(doc);
    for (const code of Object.keys(CODES)) expect(doc).toContain(`\`${code}\``);
  });

  it('documents each per-row data issue code of DATA_INVALID', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    for (const [code, summary] of Object.entries(DATA_ISSUE_CODES)) expect(doc).toContain(`| \`${code}\` | ${summary} |`);
  });

  it('names only codes that some module raises', () => {
    const sources = sourceFiles('src').filter((f) => !f.startsWith(join('src', 'errors', 'codes'))).map((f) => readFileSync(f, 'utf8')).join('\n');
    const unused = Object.keys(CODES).filter((code) => !sources.includes(`'${code}'`) && !sources.includes(`"${code}"`));
    expect(unused).toEqual([]);
  });
});

describe('rendering', () => {
  it('puts where, expected, received and hint in one line', () => {
    const e = new XlmtError({ code: 'BAD_OPTION', message: 'not a number', where: { field: '--lr' }, expected: 'a number > 0', received: '"x"', hint: 'pass e.g. 1e-3' });
    expect(e.message).toBe('--lr: not a number (expected a number > 0; received "x"). Pass e.g. 1e-3');
    expect(e.kind).toBe('usage');
    expect(e.exitStatus).toBe(2);
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 'BAD_OPTION', kind: 'usage', message: 'not a number', where: { field: '--lr' }, expected: 'a number > 0', received: '"x"', hint: 'pass e.g. 1e-3',
    });
  });

  it('names file:line, node and tensor', () => {
    expect(renderText({ message: 'm', where: { file: 'a.jsonl', line: 3, field: 'labels.topic' } })).toBe('a.jsonl:3: labels.topic: m');
    expect(renderText({ message: 'm', where: { file: 'w.safetensors', tensor: 'x.weight' } })).toBe('w.safetensors: tensor "x.weight": m');
    expect(renderText({ message: 'm', where: { node: '/enc/MatMul' } })).toBe('node "/enc/MatMul": m');
  });

  it('escapes control characters so a bad row cannot drive the terminal', () => {
    expect(printable('a\u001b[31mred\u0007\u0085b\tc\nd')).toBe('a\\u001b[31mred\\u0007\\u0085b\tc\nd');
    expect(new XlmtError({ code: 'BAD_OPTION', message: 'bad \u001b[2J' }).message).toBe('bad \\u001b[2J');
  });

  it('previews values too deep for JSON.stringify without throwing', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(preview(deep)).toBe('an array of 1');
    expect(preview('x'.repeat(100)).length).toBe(60);
  });
});

describe('toXlmtError', () => {
  it('maps a missing file to FILE_NOT_FOUND naming the path, other errors to INTERNAL', () => {
    let missing: unknown;
    try {
      readFileSync('/no/such/file');
    } catch (e) {
      missing = e;
    }
    const e = toXlmtError(missing);
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.where).toEqual({ file: '/no/such/file' });
    expect(e.exitStatus).toBe(4);
    const internal = toXlmtError(new TypeError('x is undefined'));
    expect(internal.code).toBe('INTERNAL');
    expect(internal.exitStatus).toBe(1);
  });
});

describe('the command line', () => {
  const xlmt = runXlmt;

  it('reports an unknown flag as BAD_OPTION with exit status 2, and as JSON with --json', () => {
    const text = xlmt(['eval', '--model', 'm', '--data', 'd', '--bogus']);
    expect(text.status).toBe(2);
    expect(text.stderr).toMatch(/^xlmt: BAD_OPTION: --bogus: unknown option '--bogus'/);
    const json = xlmt(['eval', '--model', 'm', '--data', 'd', '--bogus', '--json']);
    expect(json.status).toBe(2);
    expect(JSON.parse(json.stderr).error).toMatchObject({ code: 'BAD_OPTION', kind: 'usage', where: { field: '--bogus' } });
  });

  it('names a missing required flag', () => {
    const missing = xlmt(['eval', '--data', 'd']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/^xlmt: MISSING_OPTION: --model: required option '--model <dir>' not specified/);
  });
});
