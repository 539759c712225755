// `xlmt bench compare`: the ONNX classifier runtime against @huggingface/transformers' text-classification pipeline.
import { Command } from 'commander';
import { COMPARE_DEFAULTS, compareWithTransformers, defaultCompareData, type CompareResult, type VariantResult } from '../bench/compare.ts';
import { nonNegativeInt, positiveInt } from './options.ts';

function printCompare(r: CompareResult): void {
  const row = (v: VariantResult): string =>
    `  ${v.name.padEnd(46)} ${v.textsPerSec.toFixed(1).padStart(8)} texts/s  (${v.texts} texts in ${v.seconds.toFixed(2)} s; ${v.paddedTokens} token positions with padding)`;
  const times = (x: number): string => `${x.toFixed(2)}×`;
  const { ratios, agreement: a } = r;
  const lines = [
    `model           ${r.model} (task ${r.task}), transformers.js ${r.transformersVersion}`,
    `texts           first ${r.texts} of ${r.data}: ${r.tokens.total} tokens, ${r.tokens.mean.toFixed(1)} on average, longest ${r.tokens.max}, ${r.tokens.truncated} cut to ${r.tokens.maxLength}`,
    `tokenizing      ${r.tokenization.xlmtSeconds.toFixed(2)} s (xlmt) vs ${r.tokenization.pipelineSeconds.toFixed(2)} s (transformers.js) for all texts; ` +
      `same token count on ${r.tokenization.sameLength} of ${r.texts}`,
    `settings        ${r.threads} ONNX Runtime threads on both sides, segments of ${r.segment} texts, median of ${r.rounds} pass(es), load average ${r.loadAverage[0].toFixed(1)} → ${r.loadAverage[1].toFixed(1)}`,
    '',
    ...r.variants.map(row),
    '',
    `ratio (xlmt ÷ pipeline)  ${times(ratios.batched)} batches of ${r.batchSize} each, ${times(ratios.sorted)} against length-sorted batches` +
      (ratios.single === null ? '' : `, ${times(ratios.single)} one text per call each`) + `, ${times(ratios.best)} fastest against fastest`,
    `agreement       ${(100 * a.labels).toFixed(2)}% same label (${a.disagreements} differ, ${a.disagreementsTruncated} of them on cut texts); ` +
      `max score difference ${a.maxScoreDiff.toExponential(1)} on uncut texts; xlmt's labels: ` +
      Object.entries(a.labelCounts).map(([label, count]) => `${label} ${count}`).join(', '),
  ];
  console.log(lines.join('\n'));
}

export function benchCompareCommand(): Command {
  const d = COMPARE_DEFAULTS;
  return new Command('compare')
    .description("xlmt's ONNX runtime against @huggingface/transformers' text-classification pipeline on one exported single-task model: texts/s and label agreement")
    .requiredOption('--model <dir>', 'export directory of a single-task multiclass model (xlmt export)')
    .option('--data <file>', 'JSONL with a "text" field (default: ../shared/data/xm-bench/dev.jsonl when present, else data/demo/dev.jsonl)')
    .option('--texts <n>', 'texts to classify, from the start of --data', positiveInt('--texts'), d.texts)
    .option('--threads <n>', 'ONNX Runtime intra-op threads, both sides', positiveInt('--threads'), d.threads)
    .option('--batch-size <n>', 'texts per forward pass, both sides', positiveInt('--batch-size'), d.batchSize)
    .option('--warmup <n>', 'untimed texts each side classifies first', nonNegativeInt('--warmup'), d.warmup)
    .option('--segment <n>', 'texts per timing segment; every variant runs a segment before any moves on', positiveInt('--segment'), d.segment)
    .option('--rounds <n>', 'timed passes over all texts per variant; the median is reported', positiveInt('--rounds'), d.rounds)
    .option('--single <n>', 'texts both sides also classify one call per text (default: all --texts; 0: skip)', nonNegativeInt('--single'))
    .option('--json', 'print one JSON object', false)
    .action(async (o: { model: string; data?: string; texts: number; threads: number; batchSize: number; warmup: number; segment: number; rounds: number; single?: number; json: boolean }) => {
      const result = await compareWithTransformers({ ...o, data: o.data ?? defaultCompareData(), single: o.single ?? o.texts }, (line) => process.stderr.write(`${line}\n`));
      if (o.json) console.log(JSON.stringify(result, null, 2));
      else printCompare(result);
    });
}
