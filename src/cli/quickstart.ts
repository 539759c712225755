// `xlmt quickstart`: the whole path on the bundled demo data in a few minutes: a tokenizer, a short masked-LM
// pretraining, multi-task training with dev evaluation, the scores, an int8 export that checks itself, and the
// model served over HTTP, answering a first request.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { formatScore, taskLanguageTable } from '../eval/index.ts';
import { exportModel } from '../export/export.ts';
import { parsePretrainConfig } from '../pretrain/config.ts';
import { runPretraining } from '../pretrain/run.ts';
import { readCorpusFiles, trainTokenizer } from '../tokenize/index.ts';
import { evaluateModel } from '../train/assess.ts';
import { parseTrainConfig } from '../train/config.ts';
import { runTraining } from '../train/run.ts';
import { SERVE_DEFAULTS } from '../serve/config.ts';
import { startServer } from '../serve/server.ts';
import { exportReportText } from './export.ts';
import { nonNegativeInt, positiveInt } from './options.ts';
import { claimOutputDir } from '../util/output-dir.ts';
import { progress } from './progress.ts';
import { describeEval } from './train.ts';
import { XlmtError } from '../errors/index.ts';

/** data/demo in the xlmt package, wherever it is installed. */
export const DEMO_DATA = fileURLToPath(new URL('../../data/demo/', import.meta.url));

/** A small encoder that pretrains and trains in minutes on two cores. */
const ENCODER = { layers: 2, hidden: 128, heads: 2, ffn: 512, maxPositions: 130 };

interface QuickstartFlags {
  out: string;
  threads: number;
  pretrainSteps: number;
  epochs: number;
  port: number;
  serve: boolean;
}

/** Demo texts for the first request: one per task's domain, in three languages. */
const SAMPLE_TEXTS = [
  'The delivery was late again and nobody answered my emails.',
  'El nuevo parque nacional atrae a miles de turistas cada verano.',
  'Ich freue mich so sehr auf das Wochenende mit euch!',
];

export function quickstartCommand(): Command {
  return new Command('quickstart')
    .description('the whole path on the bundled demo data in a few minutes: tokenizer → masked-LM pretraining → multi-task '
      + 'training → evaluation per task and language → int8 export that checks itself → the model served over HTTP, '
      + 'answering a first request')
    .option('--out <dir>', 'where everything goes', 'runs/quickstart')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--pretrain-steps <n>', 'masked-LM steps', positiveInt('--pretrain-steps'), 600)
    .option('--epochs <n>', 'training epochs', positiveInt('--epochs'), 6)
    .option('--port <n>', 'port of the demo service on 127.0.0.1 (0: any free port)', nonNegativeInt('--port'), SERVE_DEFAULTS.port)
    .option('--no-serve', 'stop after the first request instead of serving until Ctrl-C')
    .action(async (flags: QuickstartFlags) => {
      const demo = (file: string): string => join(DEMO_DATA, file);
      if (!existsSync(demo('train.jsonl'))) {
        throw new XlmtError({ code: 'FILE_NOT_FOUND', message: 'the demo data is missing', where: { file: demo('train.jsonl') }, hint: 'reinstall xlmt: the package ships data/demo' });
      }
      const say = (line: string): void => {
        process.stderr.write(`\n== ${line}\n`);
      };
      // Its steps write pretrain/, train/ and export/ inside, each checked as that command's output.
      await claimOutputDir({ command: 'quickstart', path: flags.out, inputs: [{ flag: 'the demo data', path: DEMO_DATA }] });
      const tokenizerFile = join(flags.out, 'tokenizer.json');
      say(`1/6 tokenizer: Unigram, 4,000 pieces, on the demo texts → ${tokenizerFile}`);
      if (!existsSync(tokenizerFile)) {
        const tokenizer = await trainTokenizer(readCorpusFiles([demo('unlabeled.jsonl'), demo('train.jsonl')]), { type: 'unigram', vocabSize: 4000 });
        tokenizer.save(tokenizerFile);
      }

      say(`2/6 masked-LM pretraining: ${flags.pretrainSteps} steps on 10,000 unlabeled lines → ${join(flags.out, 'pretrain')}`);
      const p = progress(false, 'tokens/s');
      const pretrained = await runPretraining(parsePretrainConfig({
        corpus: [demo('unlabeled.jsonl')], tokenizer: tokenizerFile, out: join(flags.out, 'pretrain'), encoder: ENCODER,
        steps: flags.pretrainSteps, batchSize: 64, maxLength: 64, lr: 2e-3, checkpointEvery: 200, threads: flags.threads,
      }, 'quickstart'), {
        log: p.note,
        onStart: ({ totalSteps, startStep }) => p.start(totalSteps, startStep),
        onStep: (e) => p.step({ ...e, amount: e.tokens }),
        onCheckpoint: (e) => { if (e.eval) p.note(`step ${e.step}: held-out masked-LM loss ${e.eval.loss.toFixed(3)}, accuracy ${(100 * e.eval.accuracy).toFixed(1)}%`); },
      });

      say(`3/6 multi-task training: sentiment, topic, emotion in 15 languages, ${flags.epochs} epochs → ${join(flags.out, 'train')}`);
      const t = progress(false, 'ex/s');
      const trained = await runTraining(parseTrainConfig({
        train: demo('train.jsonl'), dev: demo('dev.jsonl'), tasks: demo('tasks.json'), init: pretrained.model, out: join(flags.out, 'train'),
        epochs: flags.epochs, lr: 1e-3, maxLength: 64, batchSize: 32, patience: 0, threads: flags.threads,
      }, 'quickstart'), {
        log: t.note,
        onStart: ({ totalSteps, startStep }) => t.start(totalSteps, startStep),
        onStep: (e) => t.step({ ...e, amount: e.examples }),
        onEval: (e) => t.note(describeEval(e)),
      });

      say(`4/6 evaluation of ${join(trained.out, 'best')} on the demo dev set`);
      const evaluation = await evaluateModel(trained.out, demo('dev.jsonl'), flags.threads);
      console.log(`\nmacro-F1 ×100 per task and language (demo dev set; mean ${formatScore(evaluation.summary.meanMacroF1)}):\n`);
      console.log(taskLanguageTable(evaluation.reports));
      const optimistic = evaluation.reports.filter((r) => r.thresholdSource?.optimistic).map((r) => r.task);
      if (optimistic.length > 0) {
        console.log(`\n${optimistic.join(', ')}: multilabel thresholds were tuned on this same dev set, so these scores are optimistic.`);
      }
      console.log(`\nThe model is in ${join(trained.out, 'best')}. Next: npx xlmt eval --model ${trained.out} --data ${demo('dev.jsonl')}`);

      const exportDir = join(flags.out, 'export');
      say(`5/6 export: fused ONNX graph with int8 weights (per channel), checked on the dev set → ${exportDir}`);
      const exported = await exportModel(trained.out, exportDir, { quantization: 'int8-per-channel', checkData: demo('dev.jsonl'), checkSample: 920, threads: flags.threads });
      console.log(`\n${exportReportText(exported)}`);

      say(`6/6 serving ${exportDir} on 127.0.0.1${flags.port === 0 ? ' (a free port)' : `:${flags.port}`}, and a first request`);
      const server = await startServer({
        dir: exportDir, host: '127.0.0.1', port: flags.port, threads: flags.threads, logLevel: 'warn', shutdownTimeoutMs: 10_000,
        limits: { maxTexts: SERVE_DEFAULTS.maxTexts, maxChars: SERVE_DEFAULTS.maxChars, onLongText: SERVE_DEFAULTS.onLongText, bodyLimit: SERVE_DEFAULTS.bodyLimit },
        batching: { maxBatchSize: SERVE_DEFAULTS.maxBatchSize, maxWaitMs: SERVE_DEFAULTS.maxWaitMs, maxQueue: SERVE_DEFAULTS.maxQueue },
      }, { version: '0.1.0' });
      const body = JSON.stringify({ texts: SAMPLE_TEXTS });
      const response = await fetch(`${server.url}/v1/classify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      console.log(`\nPOST ${server.url}/v1/classify ${body}\n→ ${response.status}\n${JSON.stringify(await response.json(), null, 2)}`);
      if (!flags.serve) {
        await server.stop('quickstart done');
        process.exit(0);
      }
      console.log(`\nServing until Ctrl-C. Try:\n  curl -s ${server.url}/v1/classify -H 'content-type: application/json' -d '{"texts": ["Great service!"], "tasks": ["sentiment"]}'`);
      console.log(`Docs: ${server.url}/openapi.json · metrics: ${server.url}/metrics · later: npx xlmt serve ${exportDir}`);
      process.exit((await server.stopped) ? 0 : 1);
    });
}
