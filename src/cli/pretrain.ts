// `xlmt pretrain`: masked-LM pretraining from a config file and/or flags, with a progress bar.
import { Command, Option } from 'commander';
import { PRESET_NAMES } from '../checkpoint/index.ts';
import { parsePretrainConfig, type PretrainConfig } from '../pretrain/config.ts';
import { runSkipGramPretraining } from '../pretrain/skipgram-run.ts';
import { type PretrainCheckpointEvent, type PretrainEvents, runPretraining } from '../pretrain/run.ts';
import { readConfigFile } from '../train/config.ts';
import { nonNegativeInt, number, positiveInt, probability } from './options.ts';
import { progress } from './progress.ts';
import { configOrigin, mergeFlags } from './train-options.ts';

interface PretrainFlags {
  config?: string; objective?: string; window?: number; negatives?: number; subsample?: number;
  corpus?: string[]; textField?: string; tokenizer?: string; init?: string; out?: string;
  steps?: number; epochs?: number; batchSize?: number; groupWindow?: number; maxLength?: number;
  lr?: number; schedule?: string; warmupRatio?: number; weightDecay?: number; maskProbability?: number;
  evalLines?: number; checkpointEvery?: number; seed?: number; threads?: number;
  preset?: string; layers?: number; hidden?: number; heads?: number; ffn?: number;
  quiet?: boolean;
}


const FLAT_KEYS = [
  'objective', 'window', 'negatives', 'subsample', 'corpus', 'textField', 'tokenizer', 'init', 'out', 'steps', 'epochs', 'batchSize', 'groupWindow', 'maxLength', 'lr', 'schedule', 'warmupRatio',
  'weightDecay', 'maskProbability', 'evalLines', 'checkpointEvery', 'seed', 'threads',
] as const;

/** Flags override the config file (--steps replaces the file's epochs and the reverse); the result is validated whole. */
export function resolvePretrainConfig(flags: PretrainFlags): PretrainConfig {
  const base = flags.config ? readConfigFile(flags.config) : {};
  if (flags.steps !== undefined) delete base.epochs;
  if (flags.epochs !== undefined) delete base.steps;
  const given = flags as Record<string, unknown>;
  return parsePretrainConfig(mergeFlags(base, given, FLAT_KEYS), configOrigin(given, FLAT_KEYS, flags.config));
}

function describeCheckpoint(e: PretrainCheckpointEvent): string {
  const parts = [`step ${e.step}/${e.totalSteps}`];
  if (e.train) parts.push(`train loss ${e.train.loss.toFixed(4)} acc ${(100 * e.train.accuracy).toFixed(1)}% ${Math.round(e.train.tokensPerSec)} tokens/s`);
  if (e.eval) parts.push(`held-out loss ${e.eval.loss.toFixed(4)} acc ${(100 * e.eval.accuracy).toFixed(1)}%`);
  return parts.join(', ');
}

function progressEvents(quiet: boolean): PretrainEvents {
  const p = progress(quiet, 'tokens/s');
  return {
    log: p.note,
    onStart: ({ totalSteps, startStep }) => p.start(totalSteps, startStep),
    onStep: (e) => p.step({ ...e, amount: e.tokens }),
    onCheckpoint: (e) => p.note(describeCheckpoint(e)),
  };
}

async function skipGram(config: PretrainConfig, quiet: boolean): Promise<void> {
  const note = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const started = performance.now();
  const r = await runSkipGramPretraining(config, {
    log: note,
    onProgress: (e) => note(`pass ${e.epoch} done: ${e.tokens}/${e.totalTokens} tokens, ${((performance.now() - started) / 1000).toFixed(0)} s`),
  });
  console.log(`${r.out}: skip-gram vectors for ${r.trainedRows} of ${r.vocabSize} tokens from ${r.tokens} tokens of ${r.texts} texts ` +
    `(${r.pairs} context pairs) in ${r.seconds.toFixed(1)} s; model in ${r.model}`);
}

export function pretrainCommand(): Command {
  return new Command('pretrain')
    .description('pretraining on unlabeled text: masked-LM from scratch or from --init (resumes when --out holds an unfinished run), or skip-gram word embeddings')
    .option('--config <file>', 'JSON pretraining configuration (flags override it); fields in docs/pretraining.md')
    .addOption(new Option('--objective <kind>', 'mlm: masked-LM over the whole encoder (default); skipgram: word embeddings only, minutes of CPU').choices(['mlm', 'skipgram']))
    .option('--corpus <files...>', 'unlabeled text: .jsonl (a text field a line) or plain text (a text a line)')
    .option('--text-field <name>', 'field holding the text in JSONL files (default text)')
    .option('--tokenizer <file>', 'tokenizer.json (default: the one in --init)')
    .option('--init <dir>', 'Hugging Face checkpoint directory to continue pretraining')
    .option('--out <dir>', 'run directory (default runs/pretrain)')
    .option('--steps <n>', 'optimizer steps (default: one epoch)', positiveInt('--steps'))
    .option('--epochs <n>', 'passes over the corpus (skipgram: default 5)', positiveInt('--epochs'))
    .option('--batch-size <n>', 'texts per step (default 32)', positiveInt('--batch-size'))
    .option('--group-window <n>', 'batch similar lengths together within this many batches (default 50; 0: random)', nonNegativeInt('--group-window'))
    .option('--max-length <n>', 'tokens per text (default 128)', positiveInt('--max-length'))
    .option('--lr <x>', 'peak learning rate (default 5e-4; skipgram 0.025)', number('--lr'))
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule (default linear)').choices(['linear', 'cosine', 'constant']))
    .option('--warmup-ratio <x>', 'share of steps spent warming up (default 0.06)', number('--warmup-ratio'))
    .option('--weight-decay <x>', 'AdamW weight decay (default 0.01)', number('--weight-decay'))
    .option('--mask-probability <x>', 'share of tokens to predict (default 0.15)', probability('--mask-probability'))
    .option('--window <n>', 'skipgram: widest context window either side (default 5)', positiveInt('--window'))
    .option('--negatives <n>', 'skipgram: noise tokens per context pair (default 5)', positiveInt('--negatives'))
    .option('--subsample <x>', 'skipgram: frequent-token subsampling threshold (default 1e-4, 0: none)', probability('--subsample'))
    .option('--eval-lines <n>', 'texts held out for the masked-LM loss at each checkpoint (default 200, 0: none)', nonNegativeInt('--eval-lines'))
    .option('--checkpoint-every <n>', 'steps between checkpoints (default 500)', positiveInt('--checkpoint-every'))
    .option('--seed <n>', 'random seed (default 42)', nonNegativeInt('--seed'))
    .option('--threads <n>', 'ONNX Runtime threads (default 2)', positiveInt('--threads'))
    .addOption(new Option('--preset <name>', 'encoder shape from scratch: one of the paper\'s models').choices(PRESET_NAMES))
    .option('--layers <n>', 'encoder layers (from scratch, default 4)', positiveInt('--layers'))
    .option('--hidden <n>', 'hidden size (from scratch, default 256)', positiveInt('--hidden'))
    .option('--heads <n>', 'attention heads (from scratch, default 4)', positiveInt('--heads'))
    .option('--ffn <n>', 'feed-forward size (from scratch, default 1024)', positiveInt('--ffn'))
    .option('--quiet', 'print only the final summary', false)
    .action(async (flags: PretrainFlags) => {
      const config = resolvePretrainConfig(flags);
      if (config.objective === 'skipgram') {
        await skipGram(config, flags.quiet ?? false);
        return;
      }
      const result = await runPretraining(config, progressEvents(flags.quiet ?? false));
      const scores = result.eval ? `; held-out loss ${result.eval.loss.toFixed(4)}, accuracy ${(100 * result.eval.accuracy).toFixed(1)}%` : '';
      console.log(`${result.out}: ${result.steps} steps${result.alreadyFinished ? ' (finished before)' : ''}${scores}; model in ${result.model}`);
    });
}
