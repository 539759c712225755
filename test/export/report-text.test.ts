// `xlmt export`'s report: what the export is (fp32 says so, not "none") and a check table that stays one
// markdown table, with the pipes of |Δp| escaped.
import { describe, expect, it } from 'vitest';
import { exportReportText } from '../../src/cli/export.ts';
import type { ExportReport, Quantization } from '../../src/export/export.ts';

function report(quantization: Quantization): ExportReport {
  return {
    model: 'run/best',
    out: 'export',
    quantization,
    bytes: 3_900_000,
    opCounts: { Attention: 1, Gemm: 2 },
    check: {
      data: 'dev.jsonl',
      examples: 40,
      tolerance: quantization === 'none' ? 1e-4 : null,
      tasks: [
        { task: 'sentiment', maxAbsDiff: 2.5e-3, agreement: 0.975, referenceMacroF1: 0.8, exportedMacroF1: 0.79, macroF1Change: -0.01, labeled: 27 },
        { task: 'topics', maxAbsDiff: 1e-3, agreement: 1 },
      ],
    },
  };
}

/** Cells of a markdown table row: split on `|` that no backslash escapes. */
const cells = (row: string): string[] => row.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/);

describe('exportReportText', () => {
  it('names the quantization in words', () => {
    expect(exportReportText(report('none')).split('\n')[0]).toBe('exported run/best → export: fp32 (no quantization), 3.9 MB');
    expect(exportReportText(report('int8-per-channel')).split('\n')[0]).toBe('exported run/best → export: int8 weights, one scale per output column, 3.9 MB');
    expect(exportReportText(report('int8-per-tensor')).split('\n')[0]).toBe('exported run/best → export: int8 weights, one scale per tensor, 3.9 MB');
  });

  it('writes one well-formed markdown table: every row has the header\'s six cells', () => {
    const rows = exportReportText(report('int8-per-channel')).split('\n').filter((line) => line.startsWith('|'));
    expect(rows).toHaveLength(4);
    expect(cells(rows[0] as string).map((c) => c.trim())).toEqual(['task', 'max \\|Δp\\|', 'decisions unchanged', 'macro-F1 reference', 'macro-F1 exported', 'change (points)']);
    for (const row of rows) expect(cells(row)).toHaveLength(6);
    expect(rows[2]).toBe('| sentiment | 2.50e-3 | 97.5% | 80.0 | 79.0 | -1.00 |');
  });
});
