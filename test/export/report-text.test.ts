// `xlmt export`'s report: what the export is (fp32 says so, not "none") and a check table that stays one
// markdown table, with the pipes of |Δp| escaped.
import { describe, expect, it } from 'vitest';
import { exportReportText } from '../../src/cli/export.ts';
import type { ExportReport, Quantization } from '../../src/export/export.ts';
import type { WordTableReport } from '../../src/export/int8-embeddings.ts';

function report(quantization: Quantization, wordEmbeddings: WordTableReport | null = null): ExportReport {
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
    wordEmbeddings,
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

  it('adds the word table: its form and why, the size with each table, and its own effect as a second table', () => {
    const kept: WordTableReport = {
      mode: 'auto', int8: true, reason: "auto: on no task does the int8 table cost significantly more than 1% of the fp32 model's decisions",
      bytesFp32Table: 816_400_000, bytesInt8Table: 240_200_000, rule: { maxNetLoss: 0.01, familyAlpha: 0.05, z: 1.96 },
      effect: [
        { task: 'sentiment', maxAbsDiff: 4e-3, agreement: 0.995, macroF1Change: 0.001, lost: 3, gained: 1, texts: 500 },
        { task: 'topics', maxAbsDiff: 2e-3, agreement: 1, lost: 0, gained: 0, texts: 500 },
      ],
    };
    const text = exportReportText(report('int8-per-channel', kept)).split('\n');
    expect(text).toContain("word embeddings: int8 rows, one scale per row (auto: on no task does the int8 table cost significantly more than 1% of the fp32 model's decisions); 816.4 MB with the fp32 table, 240.2 MB with the int8 one");
    const rows = text.filter((line) => line.startsWith('|'));
    expect(rows).toHaveLength(8); // the check's table (2 + 2 rows) and the word table's (2 + 2)
    expect(rows.slice(4).every((row) => cells(row).length === 5)).toBe(true);
    expect(rows.slice(6)).toEqual(['| sentiment | 4.00e-3 | 99.5% | 3 / 1 of 500 (1.00) | 0.10 |', '| topics | 2.00e-3 | 100.0% | 0 / 0 of 500 (0.00) | – |']);
  });

  it('says the table stayed fp32 when --int8-embeddings is off, with no effect table', () => {
    const off: WordTableReport = { mode: 'off', int8: false, reason: '--int8-embeddings off', bytesFp32Table: 816_400_000, bytesInt8Table: null, effect: null, rule: { maxNetLoss: 0.01, familyAlpha: 0.05, z: 1.96 } };
    const text = exportReportText(report('int8-per-channel', off)).split('\n');
    expect(text.at(-1)).toBe('word embeddings: fp32 (--int8-embeddings off)');
    expect(text.filter((line) => line.startsWith('|'))).toHaveLength(4);
  });
});
