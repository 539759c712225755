// `xlmt trim-vocab`: a model or export with only the tokens a corpus needs, proven to tokenize and score as before.
import { Command } from 'commander';
import { BUILT_IN_SAMPLE_NAME, trimVocab, type TokenizationFigures, type TrimReport } from '../compress/trim-vocab/index.ts';
import { positiveInt } from './options.ts';

interface TrimFlags {
  model: string;
  corpus: string[];
  minCount: number;
  out?: string;
  sample?: string[];
  sampleLines: number;
  checkSample: number;
  textField?: string;
  threads: number;
  json: boolean;
}

const count = (n: number): string => n.toLocaleString('en-US');
const percent = (part: number, whole: number): string => `${whole === 0 ? '0.00' : ((100 * part) / whole).toFixed(2)}%`;
const size = (bytes: number): string => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);

function tokenizationLine(name: string, f: TokenizationFigures): string {
  return `${name}: ${count(f.identical)} of ${count(f.texts)} texts tokenized identically (${percent(f.identical, f.texts)}); ` +
    `unknown tokens ${percent(f.unknownBefore, f.tokensBefore)} → ${percent(f.unknownAfter, f.tokensAfter)}`;
}

/** The report as text: rows and bytes before and after, what was kept, and the proof's figures. */
export function trimReportText(r: TrimReport): string {
  const k = r.keptBy;
  const p = r.proof.probabilities;
  return [
    `trimmed ${r.model} → ${r.out} (${r.kind === 'export' ? 'an export' : 'a model directory'}) on ${count(r.corpus.texts)} corpus texts`,
    `rows: ${count(r.rows.before)} → ${count(r.rows.after)} (${percent(r.rows.after, r.rows.before)} kept: ${count(k.special)} special, ` +
      `${count(k.used)} used at least ${r.minCount}×, ${count(k.singleChar)} single characters of the corpus's scripts, ` +
      `${count(k.model)} the model needs, ${count(k.merges)} merge parts)`,
    `${r.file.name}: ${size(r.file.bytesBefore)} → ${size(r.file.bytesAfter)} (${percent(r.file.bytesAfter, r.file.bytesBefore)})`,
    tokenizationLine('corpus', r.proof.corpus),
    tokenizationLine(`sample (--sample files and the ${BUILT_IN_SAMPLE_NAME})`, r.proof.sample),
    `probabilities: ${count(p.texts)} texts and ${count(p.sequences)} random id sequences through both models, ` +
      `largest |Δp| ${p.maxAbsDiff.toExponential(2)} (tolerance ${p.tolerance.toExponential(0)})`,
  ].join('\n');
}

export function trimVocabCommand(): Command {
  return new Command('trim-vocab')
    .description('keep only the tokens a corpus needs: a smaller tokenizer and embedding, proven to tokenize and score the same')
    .requiredOption('--model <dir>', 'run or model directory (xlmt train, import) or export directory (xlmt export)')
    .requiredOption('--corpus <files...>', 'text the model must read: plain text (one text per line) or .jsonl/.ndjson')
    .option('--min-count <n>', 'keep tokens the corpus uses at least this many times', positiveInt('--min-count'), 1)
    .option('--out <dir>', 'output directory: new, empty, or an earlier trim-vocab output (default: <model>-trimmed)')
    .option('--sample <files...>', 'other text for the proof: the first --sample-lines texts of each file (a built-in multilingual sample is always added)')
    .option('--sample-lines <n>', 'texts read from each --sample file', positiveInt('--sample-lines'), 1000)
    .option('--check-sample <n>', 'texts scored by both models', positiveInt('--check-sample'), 500)
    .option('--text-field <name>', 'field holding the text in JSONL files (default "text")')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--json', 'print one JSON object', false)
    .action(async (flags: TrimFlags) => {
      const report = await trimVocab({
        model: flags.model,
        corpus: flags.corpus,
        minCount: flags.minCount,
        sampleLines: flags.sampleLines,
        checkSample: flags.checkSample,
        threads: flags.threads,
        ...(flags.out === undefined ? {} : { out: flags.out }),
        ...(flags.sample === undefined ? {} : { sample: flags.sample }),
        ...(flags.textField === undefined ? {} : { textField: flags.textField }),
      });
      console.log(flags.json ? JSON.stringify(report, null, 2) : trimReportText(report));
    });
}
