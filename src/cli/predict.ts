// `xlmt predict`: scores a JSONL, CSV or TSV file with an exported model, writing predictions row by row; a
// killed run continues where it stopped when run again with the same arguments.
import cliProgress from 'cli-progress';
import { Command, Option } from 'commander';
import type { DataFormat } from '../data/index.ts';
import { OnnxClassifier } from '../infer/onnx-classifier.ts';
import { modelIdentity } from '../predict/progress-file.ts';
import { DEFAULT_CHUNK_SIZE, predictFile, type OnError, type PredictHooks, type PredictProgress, type PredictSummary, type ScoringFile } from '../predict/run.ts';
import { list, oneOf, positiveInt } from './options.ts';

/** The input and output flags of a command that scores a file (`xlmt predict`, `xlmt baseline predict`). */
export interface ScoringFileFlags {
  in: string;
  out: string;
  format?: DataFormat;
  textField?: string;
  textColumn?: string;
  idField?: string;
  idColumn?: string;
  keep?: string[];
  tasks?: string[];
}

/** Adds --in, --out, --format, the text and id field flags, --keep and --tasks. */
export function addScoringFileOptions(command: Command): Command {
  return command
    .requiredOption('--in <file>', 'rows to score (JSONL, CSV, TSV); labels are not needed')
    .requiredOption('--out <file>', 'predictions: JSONL, or CSV/TSV when the name ends in .csv/.tsv')
    .addOption(new Option('--format <format>', 'input format (default: from the extension)').choices(['jsonl', 'csv', 'tsv']))
    .option('--text-field <name>', 'JSONL field holding the text (default text)')
    .option('--text-column <name>', 'CSV/TSV column holding the text (default text)')
    .option('--id-field <name>', 'field holding the row id (default id; rows without one are named by line)')
    .option('--id-column <name>', 'CSV/TSV column holding the row id (same as --id-field)')
    .option('--keep <fields>', 'input fields copied to each output row, comma-separated (default lang; a teacher file for xlmt train --teacher needs text)', list('--keep'))
    .option('--tasks <names>', 'tasks to predict, comma-separated (default: all)', list('--tasks'));
}

/** The scoring job's input, output and field choices from the flags (a field's JSONL and CSV names must agree). */
export function scoringFile(flags: ScoringFileFlags): ScoringFile {
  const textField = oneOf(flags.textField, flags.textColumn, '--text-field', '--text-column');
  const idField = oneOf(flags.idField, flags.idColumn, '--id-field', '--id-column');
  return {
    input: flags.in,
    output: flags.out,
    ...(flags.format ? { format: flags.format } : {}),
    ...(textField !== undefined ? { textField } : {}),
    ...(idField !== undefined ? { idField } : {}),
    ...(flags.keep ? { keep: flags.keep } : {}),
    ...(flags.tasks ? { tasks: flags.tasks } : {}),
  };
}

interface PredictFlags extends ScoringFileFlags {
  model: string;
  threads: number;
  batchSize: number;
  chunkSize: number;
  onError: OnError;
  restart: boolean;
  quiet: boolean;
}

export function predictCommand(): Command {
  const command = new Command('predict')
    .description('score every row of a JSONL, CSV or TSV file with an exported model; resumable after a kill')
    .requiredOption('--model <dir>', 'export directory written by xlmt export');
  return addScoringFileOptions(command)
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--batch-size <n>', 'texts per forward pass (grouped by length)', positiveInt('--batch-size'), 32)
    .option('--chunk-size <n>', 'rows scored, written and recorded as done together', positiveInt('--chunk-size'), DEFAULT_CHUNK_SIZE)
    .addOption(new Option('--on-error <mode>', 'an unscorable row: stop with its file:line, or skip it to <out>.errors.jsonl').choices(['stop', 'skip']).default('stop'))
    .option('--restart', 'ignore an interrupted run\'s progress and start over', false)
    .option('--quiet', 'no progress bar', false)
    .action(async (flags: PredictFlags) => {
      const file = scoringFile(flags);
      const classifier = await OnnxClassifier.load(flags.model, { threads: flags.threads, batchSize: flags.batchSize });
      const display = progressDisplay(flags.quiet);
      try {
        const summary = await predictFile(classifier, {
          ...file,
          modelDir: flags.model,
          model: await modelIdentity(flags.model),
          chunkSize: flags.chunkSize,
          onError: flags.onError,
          restart: flags.restart,
        }, display.hooks);
        display.stop();
        console.log(summaryText(summary, flags));
      } finally {
        display.stop();
        await classifier.release();
      }
    });
}

function summaryText(s: PredictSummary, flags: PredictFlags): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = [];
  if (s.resumedRows > 0) lines.push(`resumed after ${n(s.resumedRows)} rows done by an interrupted run`);
  const errored = s.errors === null ? `${n(s.rowsErrored)} errored` : `${n(s.rowsErrored)} errored → ${s.errors}`;
  lines.push(`read ${n(s.rowsRead)} rows: ${n(s.rowsWritten)} written → ${s.output}, ${errored}`);
  const rate = s.seconds > 0 ? s.scored / s.seconds : 0;
  lines.push(`scored ${n(s.scored)} texts in ${s.seconds.toFixed(1)} s: ${n(Math.round(rate))} texts/s (${flags.threads} threads, batch ${flags.batchSize})`);
  return lines.join('\n');
}

/** A bar over the input's bytes on a terminal (no line count to wait for), a line every 10 s elsewhere. */
function progressDisplay(quiet: boolean): { hooks: PredictHooks; stop(): void } {
  if (quiet) return { hooks: {}, stop: () => {} };
  let started = 0;
  let firstRows = 0;
  const rate = (p: PredictProgress): string => {
    const seconds = (performance.now() - started) / 1000;
    return seconds > 0 ? Math.round((p.rowsRead - firstRows) / seconds).toLocaleString('en-US') : '-';
  };
  if (!process.stderr.isTTY) {
    let last = 0;
    const hooks: PredictHooks = {
      onStart: (_total, _resumed, at) => { started = performance.now(); firstRows = at.rowsRead; last = started; },
      onChunk: (p) => {
        const now = performance.now();
        if (now - last < 10_000) return;
        last = now;
        const percent = p.totalBytes > 0 ? ((100 * p.bytesRead) / p.totalBytes).toFixed(1) : '100.0';
        process.stderr.write(`${percent}% of the input, ${p.rowsRead.toLocaleString('en-US')} rows, ${rate(p)} rows/s\n`);
      },
    };
    return { hooks, stop: () => {} };
  }
  const bar = new cliProgress.SingleBar({
    format: '|{bar}| {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  let running = false;
  const hooks: PredictHooks = {
    onStart: (total, _resumed, at) => {
      started = performance.now();
      firstRows = at.rowsRead;
      bar.start(total, at.bytesRead, { rows: at.rowsRead.toLocaleString('en-US'), rate: '-' });
      running = true;
    },
    onChunk: (p) => bar.update(p.bytesRead, { rows: p.rowsRead.toLocaleString('en-US'), rate: rate(p) }),
  };
  const stop = (): void => {
    if (running) bar.stop();
    running = false;
  };
  return { hooks, stop };
}
