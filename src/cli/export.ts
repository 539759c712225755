// `xlmt export`: a trained model → an ONNX inference directory (fused fp32, or int8), checked before it is kept.
import { Command, Option } from 'commander';
import { XlmtError } from '../errors/index.ts';
import { formatScore } from '../eval/index.ts';
import { CALIBRATION_METHODS, type CalibrationMethod } from '../export/calibrate.ts';
import { DEFAULT_CALIBRATION_ROWS } from '../export/calibration.ts';
import { DEFAULT_CALIBRATION_METHOD, exportModel, type ExportReport, type Int8Record, type Quantization } from '../export/export.ts';
import type { WeightBits } from '../export/int8.ts';
import { INT8_EMBEDDINGS_MODES, type Int8EmbeddingsMode, tableCost, type WordTableReport } from '../export/int8-embeddings.ts';
import { positiveInt } from './options.ts';

interface ExportFlags {
  model: string;
  out: string;
  int8: boolean;
  perChannel: boolean;
  perTensor: boolean;
  int8Embeddings?: Int8EmbeddingsMode;
  static: boolean;
  calibration?: string;
  method?: CalibrationMethod;
  calibrationRows?: number;
  weightBits?: string;
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
  if (r.int8) lines.splice(1, 0, ...int8Text(r.int8));
  if (r.wordEmbeddings) lines.push('', ...wordTableText(r.wordEmbeddings));
  return lines.join('\n');
}

/** The weight range chosen and why, and how activations are quantized. */
export function int8Text(r: Int8Record): string[] {
  const w = r.weights;
  const lines = [`int8 weights: ${w.bits}-bit codes −${w.maxCode}…${w.maxCode} (${w.reason})`];
  const a = r.activations;
  if (a.kind === 'dynamic') return [...lines, 'int8 activations: dynamic, uint8 over each batch\'s own range, measured by ONNX Runtime on every run'];
  if (a.kind === 'qat') {
    const table = a.againstFakeQuantized.map((t) => {
      const f1 = t.otherMacroF1 !== undefined && t.exportedMacroF1 !== undefined ? ` | ${formatScore(t.otherMacroF1)} | ${formatScore(t.exportedMacroF1)}` : ' | – | –';
      return `| ${t.task} | ${t.maxAbsDiff.toExponential(2)} | ${(t.agreement * 100).toFixed(1)}%${f1} |`;
    });
    return [
      ...lines,
      `int8 activations: static (${a.form}), uint8 over the ranges quantization-aware training learned ('${a.trained}') for ${a.layers.length} layer inputs; weights per output column, as it trained`,
      'against the QAT model\'s own fake-quantized forward pass:',
      '',
      '| task | max \\|Δp\\| | decisions unchanged | macro-F1 fake-quantized | macro-F1 exported |',
      '|---|---|---|---|---|',
      ...table,
      '',
    ];
  }
  const c = a.calibration;
  const settings = Object.entries(c.settings).map(([k, v]) => `${k} ${v}`).join(', ');
  return [...lines, `int8 activations: static (${a.form}), uint8 over fixed ranges of ${a.layers.length} layer inputs: ${c.method}${settings ? ` (${settings})` : ''} on ${c.rows} of ${c.available} texts of ${c.file} (${c.tokens} tokens; sha256 ${c.sha256.slice(0, 12)}…)`];
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
    "| task | max \\|Δp\\| int8 vs fp32 table | decisions unchanged by the int8 table | fp32 model's decisions lost / gained (z) | macro-F1 change (points) |",
    '|---|---|---|---|---|',
    ...w.effect.map((e) => `| ${e.task} | ${e.maxAbsDiff.toExponential(2)} | ${(e.agreement * 100).toFixed(1)}% | ${e.lost} / ${e.gained} of ${e.texts} (${tableCost(e).z.toFixed(2)}) | ${e.macroF1Change === undefined ? '–' : (e.macroF1Change * 100).toFixed(2)} |`),
  );
  return lines;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('export a trained model as an ONNX inference directory (Hugging Face layout, onnx/model.onnx)')
    .requiredOption('--model <dir>', 'run or model directory written by xlmt train')
    .requiredOption('--out <dir>', 'output directory: new, empty, or an earlier export (replaced atomically); not inside --model')
    .option('--int8', 'dynamic int8 quantization of the weight matrices', false)
    .option('--per-channel', 'with --int8, one weight scale per output column (the default, measured against per tensor in docs/results.md)', false)
    .option('--per-tensor', 'with --int8, one weight scale per tensor instead of per output column', false)
    .addOption(new Option('--int8-embeddings <mode>', "with --int8, the word-embedding table as int8 rows too: 'auto' keeps it unless the self-check finds that it costs, on some task, significantly more than 1% of the fp32 model's decisions, 'on' always, 'off' never").choices(INT8_EMBEDDINGS_MODES))
    .option('--static', 'with --int8, static activation quantization: fixed ranges from --calibration texts instead of ranges measured on every run', false)
    .option('--calibration <file>', 'with --static, unlabeled texts to calibrate on: JSONL with "text", or plain text one a line')
    .addOption(new Option('--method <method>', `with --static, how a range is taken from the calibration statistics (default ${DEFAULT_CALIBRATION_METHOD})`).choices(CALIBRATION_METHODS))
    .option('--calibration-rows <n>', `with --static, calibrate on the first n texts (default ${DEFAULT_CALIBRATION_ROWS})`, positiveInt('--calibration-rows'))
    .addOption(new Option('--weight-bits <bits>', "with --int8, 7 or 8-bit weight codes (default: from the CPU's features, 7 without VNNI)").choices(['7', '8']))
    .option('--check-data <file>', 'labeled data for the self-check (default: the run\'s dev file)')
    .option('--check-sample <n>', 'examples of the check data to score', positiveInt('--check-sample'), 500)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: ExportFlags) => {
      for (const [field, set] of [['--per-channel', flags.perChannel], ['--per-tensor', flags.perTensor]] as const) {
        if (set && !flags.int8) throw new XlmtError({ code: 'BAD_OPTION', where: { field }, message: 'weight scales are for int8 exports only', hint: `add --int8, or drop ${field} for an fp32 export` });
      }
      if (flags.perChannel && flags.perTensor) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--per-tensor' }, message: '--per-channel and --per-tensor exclude each other', hint: 'keep one: --per-channel is the default' });
      }
      if (flags.int8Embeddings !== undefined && !flags.int8) {
        throw new XlmtError({ code: 'BAD_OPTION', where: { field: '--int8-embeddings' }, message: 'an int8 word-embedding table is for int8 exports only', hint: 'add --int8, or drop --int8-embeddings for an fp32 export' });
      }
      checkStaticFlags(flags);
      const quantization: Quantization = flags.int8 ? (flags.perTensor ? 'int8-per-tensor' : 'int8-per-channel') : 'none';
      const report = await exportModel(flags.model, flags.out, {
        quantization, checkSample: flags.checkSample, threads: flags.threads, ...(flags.checkData ? { checkData: flags.checkData } : {}),
        ...(flags.int8Embeddings ? { int8Embeddings: flags.int8Embeddings } : {}),
        ...(flags.weightBits ? { weightBits: Number(flags.weightBits) as WeightBits } : {}),
        ...(flags.static && flags.calibration ? {
          staticInt8: { calibration: flags.calibration, ...(flags.method ? { method: flags.method } : {}), ...(flags.calibrationRows ? { rows: flags.calibrationRows } : {}) },
        } : {}),
      });
      console.log(flags.json ? JSON.stringify(report, null, 2) : exportReportText(report));
    });
}

/** --static and its companions come together, with --int8; each refusal names the flag. */
function checkStaticFlags(flags: ExportFlags): void {
  const bad = (field: string, message: string, hint: string): XlmtError => new XlmtError({ code: 'BAD_OPTION', where: { field }, message, hint });
  if (flags.weightBits !== undefined && !flags.int8) throw bad('--weight-bits', 'a weight range is for int8 exports only', 'add --int8, or drop --weight-bits for an fp32 export');
  if (flags.static && !flags.int8) throw bad('--static', 'static activation quantization is for int8 exports only', 'add --int8');
  if (flags.static && flags.calibration === undefined) {
    throw new XlmtError({ code: 'MISSING_OPTION', where: { field: '--calibration' }, message: '--static needs calibration texts to take its activation ranges from', hint: 'add --calibration FILE (JSONL with "text", or plain text one a line), or drop --static for dynamic int8' });
  }
  if (flags.static) return;
  for (const [field, given] of [['--calibration', flags.calibration], ['--method', flags.method], ['--calibration-rows', flags.calibrationRows]] as const) {
    if (given !== undefined) throw bad(field, `${field} is for static int8 exports only`, 'add --int8 --static, or drop it for dynamic int8');
  }
}
