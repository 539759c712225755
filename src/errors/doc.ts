// The code tables of docs/errors.md, made from the registry so the documentation cannot drift from the code
// (`npx tsx scripts/errors-doc.ts` rewrites them; a test checks they are current).
import { DATA_ISSUE_CODES } from '../data/issues.ts';
import { CODE_TABLES, EXIT_STATUS } from './registry.ts';
import type { CodeTable } from './types.ts';

export const BEGIN = '<!-- codes:begin (made by scripts/errors-doc.ts from src/errors/codes; do not edit by hand) -->';
export const END = '<!-- codes:end -->';

const TITLES: Readonly<Record<keyof typeof CODE_TABLES, string>> = {
  common: 'Any command',
  data: 'Data files and configurations',
  model: 'Model files: checkpoints, model directories, import, export, inference',
  train: 'Training, pretraining, tokenizers, models, graphs and autodiff',
  distill: 'Distillation: online teachers, teacher maps and caches',
  evaluate: 'Metrics, optimizers, the TF-IDF baseline, experiments and batch prediction',
  serve: 'The HTTP service',
};

function table(codes: CodeTable, withHttp: boolean): string {
  const head = withHttp ? '| code | kind (exit status) | HTTP | when |\n|---|---|---:|---|' : '| code | kind (exit status) | when |\n|---|---|---|';
  const rows = Object.entries(codes).map(([code, e]) => {
    const kind = `${e.kind} (${EXIT_STATUS[e.kind]})`;
    return withHttp ? `| \`${code}\` | ${kind} | ${e.http ?? ''} | ${e.summary} |` : `| \`${code}\` | ${kind} | ${e.summary} |`;
  });
  return [head, ...rows].join('\n');
}

/** The generated part of docs/errors.md, markers included. */
export function codeTablesMarkdown(): string {
  const sections = (Object.keys(CODE_TABLES) as (keyof typeof CODE_TABLES)[]).map((area) => {
    const codes: CodeTable = CODE_TABLES[area];
    const withHttp = Object.values(codes).some((e) => e.http !== undefined);
    const section = `### ${TITLES[area]}\n\n${table(codes, withHttp)}`;
    return area === 'data' ? `${section}\n\n${dataIssueTable()}` : section;
  });
  return [BEGIN, ...sections, END].join('\n\n');
}

/** The per-row codes inside DATA_INVALID (`details.issues[].code`), which are not registry codes of their own. */
function dataIssueTable(): string {
  const rows = Object.entries(DATA_ISSUE_CODES).map(([code, summary]) => `| \`${code}\` | ${summary} |`);
  return ['#### Data issues: `details.issues[].code` of `DATA_INVALID`', '', '| issue code | when |', '|---|---|', ...rows].join('\n');
}

/** `doc` with its generated part replaced by the current one. */
export function withCurrentTables(doc: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`docs/errors.md has no generated block between "${BEGIN}" and "${END}"`);
  return doc.slice(0, start) + codeTablesMarkdown() + doc.slice(end + END.length);
}
