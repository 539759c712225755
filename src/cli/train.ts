// `xlmt train`: multi-task training from a config file and/or flags, with a progress bar.
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { runTraining, type RunEvents } from '../train/run.ts';
import { addTrainOptions, ALL_TRAIN_FLAGS, resolveConfig, type TrainFlags } from './train-options.ts';

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
  const command = new Command('train').description('train a multi-task classifier; resumes when --out holds an unfinished run');
  return addTrainOptions(command, ALL_TRAIN_FLAGS)
    .option('--quiet', 'print only the final summary', false)
    .action(async (flags: TrainFlags & { quiet?: boolean }) => {
      const config = resolveConfig(flags);
      const result = await runTraining(config, progressEvents(flags.quiet ?? false));
      const best = result.best ? `best dev mean macro-F1 ${(100 * result.best.score).toFixed(1)} at epoch ${result.best.epoch}` : 'no dev set: the last epoch is kept';
      console.log(`${result.out}: ${result.steps} steps, ${result.epochs} epochs${result.stoppedEarly ? ' (stopped early)' : ''}; ${best}; model in ${result.out}/best`);
    });
}
