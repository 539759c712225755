// `xlmt train`: multi-task training from a config file and/or flags, with a progress bar.
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { parseTrainConfig, readConfigFile, type TrainConfig } from '../train/config.ts';
import { runTraining, type RunEvents } from '../train/run.ts';
import { positiveInt } from './options.ts';

interface TrainFlags {
  config?: string;
  train?: string; dev?: string; tasks?: string; tokenizer?: string; init?: string; out?: string;
  pooling?: string; maxLength?: number; batchSize?: number; accumulation?: number; epochs?: number;
  lr?: number; schedule?: string; warmupRatio?: number; weightDecay?: number; sampling?: string; temperature?: number;
  patience?: number; checkpointEvery?: number; seed?: number; threads?: number;
  layers?: number; hidden?: number; heads?: number; ffn?: number;
  quiet?: boolean;
}

const number = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${flag} expects a number, got "${v}"`);
  return n;
};

/** Flags override the config file; the merged object is validated as a whole. */
function resolveConfig(flags: TrainFlags): TrainConfig {
  const base = flags.config ? readConfigFile(flags.config) : {};
  const encoder = { ...(base.encoder as Record<string, unknown> | undefined) };
  for (const key of ['layers', 'hidden', 'heads', 'ffn'] as const) if (flags[key] !== undefined) encoder[key] = flags[key];
  const overrides = Object.fromEntries(
    (['train', 'dev', 'tasks', 'tokenizer', 'init', 'out', 'pooling', 'maxLength', 'batchSize', 'accumulation', 'epochs', 'lr', 'schedule',
      'warmupRatio', 'weightDecay', 'sampling', 'temperature', 'patience', 'checkpointEvery', 'seed', 'threads'] as const)
      .filter((k) => flags[k] !== undefined)
      .map((k) => [k, flags[k]]),
  );
  return parseTrainConfig({ ...base, ...overrides, ...(Object.keys(encoder).length > 0 ? { encoder } : {}) }, flags.config ?? 'command line');
}

function progressEvents(quiet: boolean): RunEvents {
  const log = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  if (quiet || !process.stderr.isTTY) {
    let last = 0;
    return {
      log,
      onStep: (e) => {
        const now = Date.now();
        if (now - last > 10_000 || e.step === e.totalSteps) {
          last = now;
          log(`step ${e.step}/${e.totalSteps} epoch ${e.epoch + 1} loss ${e.loss.toFixed(4)} lr ${e.lr.toExponential(2)}`);
        }
      },
      onEval: (e) => log(`epoch ${e.epoch}: dev mean macro-F1 ${(100 * e.evaluation.summary.meanMacroF1).toFixed(1)} (${e.evaluation.summary.tasks.map((t) => `${t.task} ${(100 * t.macroF1).toFixed(1)}`).join(', ')})${e.improved ? ', best so far' : ''}`),
    };
  }
  const bar = new cliProgress.SingleBar({
    format: 'epoch {epoch} |{bar}| {value}/{total} steps | loss {loss} | {rate} ex/s | ETA {eta_formatted}',
    stream: process.stderr,
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  let started = Date.now();
  let examples = 0;
  return {
    log: (line) => {
      bar.stop();
      log(line);
    },
    onStart: ({ totalSteps, startStep }) => {
      started = Date.now();
      bar.start(totalSteps, startStep, { epoch: 1, loss: '-', rate: '-' });
    },
    onStep: (e) => {
      examples += e.examples;
      const rate = examples / ((Date.now() - started) / 1000);
      bar.update(e.step, { epoch: e.epoch + 1, loss: e.loss.toFixed(4), rate: rate.toFixed(1) });
      if (e.step === e.totalSteps) bar.stop();
    },
    onEval: (e) => {
      bar.stop();
      log(`epoch ${e.epoch}: dev mean macro-F1 ${(100 * e.evaluation.summary.meanMacroF1).toFixed(1)} (${e.evaluation.summary.tasks.map((t) => `${t.task} ${(100 * t.macroF1).toFixed(1)}`).join(', ')})${e.improved ? ', best so far' : ''}`);
      bar.start(bar.getTotal(), e.step, { epoch: e.epoch + 1, loss: '-', rate: '-' });
    },
  };
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train a multi-task classifier; resumes when --out holds an unfinished run')
    .option('--config <file>', 'JSON training configuration (flags override it); fields in docs/training.md')
    .option('--train <file>', 'labeled training data (JSONL, CSV, TSV)')
    .option('--dev <file>', 'labeled dev data, evaluated every epoch')
    .option('--tasks <file>', 'task schema (tasks.json); inferred from the data when omitted')
    .option('--tokenizer <file>', 'tokenizer.json (default: the one in --init)')
    .option('--init <dir>', 'Hugging Face checkpoint directory to start from')
    .option('--out <dir>', 'run directory (default runs/train)')
    .addOption(new Option('--pooling <kind>', 'sentence vector').choices(['cls', 'mean']))
    .option('--max-length <n>', 'tokens per text', positiveInt('--max-length'))
    .option('--batch-size <n>', 'examples per batch', positiveInt('--batch-size'))
    .option('--accumulation <n>', 'micro-batches per optimizer step', positiveInt('--accumulation'))
    .option('--epochs <n>', 'epochs', positiveInt('--epochs'))
    .option('--lr <x>', 'peak learning rate', number('--lr'))
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule').choices(['linear', 'cosine', 'constant']))
    .option('--warmup-ratio <x>', 'share of steps spent warming up', number('--warmup-ratio'))
    .option('--weight-decay <x>', 'AdamW weight decay', number('--weight-decay'))
    .addOption(new Option('--sampling <kind>', 'task sampling').choices(['proportional', 'temperature', 'round-robin']))
    .option('--temperature <x>', 'temperature of task sampling', number('--temperature'))
    .option('--patience <n>', 'epochs without a better dev score before stopping (0: never)', number('--patience'))
    .option('--checkpoint-every <n>', 'optimizer steps between resumable checkpoints', positiveInt('--checkpoint-every'))
    .option('--seed <n>', 'random seed', number('--seed'))
    .option('--threads <n>', 'ONNX Runtime threads', positiveInt('--threads'))
    .option('--layers <n>', 'encoder layers (from scratch)', positiveInt('--layers'))
    .option('--hidden <n>', 'hidden size (from scratch)', positiveInt('--hidden'))
    .option('--heads <n>', 'attention heads (from scratch)', positiveInt('--heads'))
    .option('--ffn <n>', 'feed-forward size (from scratch)', positiveInt('--ffn'))
    .option('--quiet', 'print only the final summary', false)
    .action(async (flags: TrainFlags) => {
      const config = resolveConfig(flags);
      const result = await runTraining(config, progressEvents(flags.quiet ?? false));
      const best = result.best ? `best dev mean macro-F1 ${(100 * result.best.score).toFixed(1)} at epoch ${result.best.epoch}` : 'no dev set: the last epoch is kept';
      console.log(`${result.out}: ${result.steps} steps, ${result.epochs} epochs${result.stoppedEarly ? ' (stopped early)' : ''}; ${best}; model in ${result.out}/best`);
    });
}
