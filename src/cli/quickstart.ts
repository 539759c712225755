// `xlmt quickstart`: the whole path on the bundled demo data in a few minutes: a tokenizer, a short masked-LM
// pretraining, multi-task training with dev evaluation, and the final scores.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { formatScore, taskLanguageTable } from '../eval/index.ts';
import { parsePretrainConfig } from '../pretrain/config.ts';
import { runPretraining } from '../pretrain/run.ts';
import { readCorpusFiles, trainTokenizer } from '../tokenize/index.ts';
import { evaluateModel } from '../train/assess.ts';
import { parseTrainConfig } from '../train/config.ts';
import { runTraining } from '../train/run.ts';
import { positiveInt } from './options.ts';
import { progress } from './progress.ts';

/** data/demo in the xlmt package, wherever it is installed. */
export const DEMO_DATA = fileURLToPath(new URL('../../data/demo/', import.meta.url));

/** A small encoder that pretrains and trains in minutes on two cores. */
const ENCODER = { layers: 2, hidden: 128, heads: 2, ffn: 512, maxPositions: 130 };

interface QuickstartFlags {
  out: string;
  threads: number;
  pretrainSteps: number;
  epochs: number;
}

export function quickstartCommand(): Command {
  return new Command('quickstart')
    .description('tokenizer → pretraining → multi-task training → evaluation on the bundled demo data (a few minutes)')
    .option('--out <dir>', 'where everything goes', 'runs/quickstart')
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'), 2)
    .option('--pretrain-steps <n>', 'masked-LM steps', positiveInt('--pretrain-steps'), 600)
    .option('--epochs <n>', 'training epochs', positiveInt('--epochs'), 6)
    .action(async (flags: QuickstartFlags) => {
      const demo = (file: string): string => join(DEMO_DATA, file);
      if (!existsSync(demo('train.jsonl'))) throw new Error(`the demo data is missing from ${DEMO_DATA}`);
      const say = (line: string): void => {
        process.stderr.write(`\n== ${line}\n`);
      };
      const tokenizerFile = join(flags.out, 'tokenizer.json');
      say(`1/4 tokenizer: Unigram, 4,000 pieces, on the demo texts → ${tokenizerFile}`);
      if (!existsSync(tokenizerFile)) {
        const tokenizer = await trainTokenizer(readCorpusFiles([demo('unlabeled.jsonl'), demo('train.jsonl')]), { type: 'unigram', vocabSize: 4000 });
        tokenizer.save(tokenizerFile);
      }

      say(`2/4 masked-LM pretraining: ${flags.pretrainSteps} steps on 10,000 unlabeled lines → ${join(flags.out, 'pretrain')}`);
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

      say(`3/4 multi-task training: sentiment, topic, emotion in 15 languages, ${flags.epochs} epochs → ${join(flags.out, 'train')}`);
      const t = progress(false, 'ex/s');
      const trained = await runTraining(parseTrainConfig({
        train: demo('train.jsonl'), dev: demo('dev.jsonl'), tasks: demo('tasks.json'), init: pretrained.model, out: join(flags.out, 'train'),
        epochs: flags.epochs, lr: 1e-3, maxLength: 64, batchSize: 32, patience: 0, threads: flags.threads,
      }, 'quickstart'), {
        log: t.note,
        onStart: ({ totalSteps, startStep }) => t.start(totalSteps, startStep),
        onStep: (e) => t.step({ ...e, amount: e.examples }),
        onEval: (e) => t.note(`epoch ${e.epoch}: dev mean macro-F1 ${formatScore(e.evaluation.summary.meanMacroF1)}${e.improved ? ' (best so far)' : ''}`),
      });

      say(`4/4 evaluation of ${join(trained.out, 'best')} on the demo dev set`);
      const evaluation = await evaluateModel(trained.out, demo('dev.jsonl'), flags.threads);
      console.log(`\nmacro-F1 ×100 per task and language (demo dev set; mean ${formatScore(evaluation.summary.meanMacroF1)}):\n`);
      console.log(taskLanguageTable(evaluation.reports));
      console.log(`\nThe model is in ${join(trained.out, 'best')}. Next: npx xlmt eval --model ${trained.out} --data ${demo('dev.jsonl')}`);
    });
}
