// `xlmt export`: a trained model → an ONNX inference directory (fused fp32, or int8), checked before it is kept.
import { Command, Option } from 'commander';
import { XlmtError } from '../errors/index.ts';
import { formatScore } from '../eval/index.ts';
import { exportModel, type ExportReport, type Quantization } from '../export/export.ts';
import { INT8_EMBEDDINGS_MODES, type Int8EmbeddingsMode, type WordTableReport } from '../export/int8-embeddings.ts';
import { positiveInt } from './options.ts';

interface ExportFlags {
  model: string;
  out: string;
  int8: boolean;
  perChannel: boolean;
  int8Embeddings?: Int8EmbeddingsMode;
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
  if (r.wordEmbeddings) lines.push('', ...wordTableText(r.wordEmbeddings));
  return lines.join('\n');
}

/** MB, or kB for the tests' tiny models, where a table's saving would read 0.0 MB. */
const size = (bytes: number): string => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);

/** The word table's form and why, the export's size with each table, and the int8 table's own effect per task. */
export function wordTableText(w: WordTableReport): string[] {
  const sizes = w.bytesInt8Table === null ? '' : `; ${size(w.bytesFp32Table)} with the fp32 table, ${size(w.bytesInt8Table)} with the int8 one`;
  const lines = [`word embeddings: ${w.int8 ? 'int8 rows, one scale per row' : 'fp32'} (${w.reason})${sizes}`];
  if (!w.effect) return lines;
  lines.push(
    '',
    '| task | max \\|Δp\\| int8 vs fp32 table | decisions unchanged by the int8 table | macro-F1 change (points) |',
    '|---|---|---|---|',
    ...w.effect.map((e) => `| ${e.task} | ${e.maxAbsDiff.toExponential(2)} | ${(e.agreement * 100).toFixed(1)}% | ${e.macroF1Change === undefined ? '–' : (e.macroF1Change * 100).toFixed(2)} |`),
  );
  return lines;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model as an ONNX inference directory (Hugging Face layout, onnx/model.onnx)')
    .requiredOption('--model <dir>', 'run or model directory written by xlmt train')
    .requiredOption('--out <dir>', 'output directory: new, empty, or an earlier export (replaced atomically); not inside --model')
    .option('--int8', 'dynamic int8 quantization of the weight matrices', false)
    .option('--per-channel', 'int8 scales per output column instead of per tensor (with --int8)', false)
    .addOption(new Option('--int8-embeddings <mode>', "with --int8, the word-embedding table as int8 rows too: 'auto' keeps it when the self-check finds decisions unchanged by it (at least 99% per task), 'on' always, 'off' never").choices(INT8_EMBEDDINGS_MODES))
    .option('--check-data <file>', 'labeled data for the self-check (default: the run\'s dev file)')
    .option('--check-sample <n>', 'examples of the check data to score', positiveInt('--check-sample'), 500)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: ExportFlags) => {
      if (flags.perChannel && !flags.int8) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--per-channel' }, message: 'per-channel scales are for int8 weights only', hint: 'add --int8, or drop --per-channel for an fp32 export' });
      }
      if (flags.int8Embeddings !== undefined && !flags.int8) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--int8-embeddings' }, message: 'an int8 word-embedding table is for int8 exports only', hint: 'add --int8, or drop --int8-embeddings for an fp32 export' });
      }
      const quantization: Quantization = flags.int8 ? (flags.perChannel ? 'int8-per-channel' : 'int8-per-tensor') : 'none';
      const report = await exportModel(flags.model, flags.out, {
        quantization, checkSample: flags.checkSample, threads: flags.threads, ...(flags.checkData ? { checkData: flags.checkData } : {}),
        ...(flags.int8Embeddings ? { int8Embeddings: flags.int8Embeddings } : {}),
      });
      console.log(flags.json ? JSON.stringify(report, null, 2) : exportReportText(report));
    });
}
