// `xlmt export`: a trained model → an ONNX inference directory (fused fp32, or int8), checked before it is kept.
import { Command } from 'commander';
import { XlmtError } from '../errors/index.ts';
import { formatScore } from '../eval/index.ts';
import { exportModel, type ExportReport, type Quantization } from '../export/export.ts';
import { positiveInt } from './options.ts';

interface ExportFlags {
  model: string;
  out: string;
  int8: boolean;
  perChannel: boolean;
  checkData?: string;
  checkSample: number;
  threads: number;
  json: boolean;
}

const QUANTIZATION_TEXT: Readonly<Record<Quantization, string>> = {
  none: 'fp32 (no quantization)',
  'int8-per-tensor': 'int8 weights, one scale per tensor',
  'int8-per-channel': 'int8 weights, one scale per output column',
};

/** The export report as text: size, op counts and the self-check table (markdown, so `|` inside a cell is escaped). */
export function exportReportText(r: ExportReport): string {
  const lines = [
    `exported ${r.model} → ${r.out}: ${QUANTIZATION_TEXT[r.quantization]}, ${(r.bytes / 1e6).toFixed(1)} MB`,
    `ops: ${Object.entries(r.opCounts).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', ')}`,
    `check on ${r.check.examples} ${r.check.data ? `examples of ${r.check.data}` : 'random token sequences'}${r.check.tolerance !== null ? ` (tolerance ${r.check.tolerance})` : ''}:`,
    '',
    '| task | max \\|Δp\\| | decisions unchanged | macro-F1 reference | macro-F1 exported | change (points) |',
    '|---|---|---|---|---|---|',
  ];
  for (const t of r.check.tasks) {
    const f1 = t.referenceMacroF1 !== undefined && t.exportedMacroF1 !== undefined && t.macroF1Change !== undefined
      ? `${formatScore(t.referenceMacroF1)} | ${formatScore(t.exportedMacroF1)} | ${(t.macroF1Change * 100).toFixed(2)}`
      : '– | – | –';
    lines.push(`| ${t.task} | ${t.maxAbsDiff.toExponential(2)} | ${(t.agreement * 100).toFixed(1)}% | ${f1} |`);
  }
  return lines.join('\n');
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model as an ONNX inference directory (Hugging Face layout, onnx/model.onnx)')
    .requiredOption('--model <dir>', 'run or model directory written by xlmt train')
    .requiredOption('--out <dir>', 'output directory: new, empty, or an earlier export (replaced atomically); not inside --model')
    .option('--int8', 'dynamic int8 quantization of the weight matrices', false)
    .option('--per-channel', 'int8 scales per output column instead of per tensor (with --int8)', false)
    .option('--check-data <file>', 'labeled data for the self-check (default: the run\'s dev file)')
    .option('--check-sample <n>', 'examples of the check data to score', positiveInt('--check-sample'), 500)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: ExportFlags) => {
      if (flags.perChannel && !flags.int8) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--per-channel' }, message: 'per-channel scales are for int8 weights only', hint: 'add --int8, or drop --per-channel for an fp32 export' });
      }
      const quantization: Quantization = flags.int8 ? (flags.perChannel ? 'int8-per-channel' : 'int8-per-tensor') : 'none';
      const report = await exportModel(flags.model, flags.out, {
        quantization, checkSample: flags.checkSample, threads: flags.threads, ...(flags.checkData ? { checkData: flags.checkData } : {}),
      });
      console.log(flags.json ? JSON.stringify(report, null, 2) : exportReportText(report));
    });
}
