// Codes of data files, task schemas, corpora and configurations. The per-row issue codes inside DATA_INVALID
// (`details.issues[].code`) are listed in data/issues.ts and docs/errors.md.
import type { CodeTable } from '../types.ts';

export const dataCodes = {
  DATA_INVALID: { kind: 'input', summary: 'a data or task-schema file has problems; details.issues lists every one with file, line and field' },
  CONFIG_INVALID: { kind: 'usage', summary: 'a training or pretraining configuration (flags and config file merged) breaks a rule; `where.field` names it' },
} as const satisfies CodeTable;
