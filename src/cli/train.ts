// `xlmt train`: multi-task training from a config file and/or flags, with a progress bar.
import { Command } from 'commander';
import { runOnlineDistillation } from '../compress/distill/online-run.ts';
import { type EvalEvent, runTraining, type RunEvents } from '../train/run.ts';
import { progress } from './progress.ts';
import { addTrainOptions, ALL_TRAIN_FLAGS, resolveConfig, type TrainFlags } from './train-options.ts';

/**
 * One line per evaluation. "best so far" only when best/ was saved, that is when the score is strictly better;
 * when it rounds to the previous best, both are shown with the digits that tell them apart.
 */
export function describeEval(e: EvalEvent): string {
  const tasks = e.evaluation.summary.tasks.map((t) => `${t.task} ${(100 * t.macroF1).toFixed(1)}`).join(', ');
  const score = e.evaluation.summary.meanMacroF1;
  let best = '';
  if (e.improved && e.previousBest === null) best = ', best so far';
  if (e.improved && e.previousBest !== null) {
    const digits = digitsApart(score, e.previousBest);
    best = digits > 1 ? `, best so far (${(100 * score).toFixed(digits)}, up from ${(100 * e.previousBest).toFixed(digits)})` : ', best so far';
  }
  return `epoch ${e.epoch}: dev mean macro-F1 ${(100 * score).toFixed(1)} (${tasks})${best}`;
}

/** The fewest decimals (1 to 6) at which two scores, as percentages, read differently. */
function digitsApart(a: number, b: number): number {
  let digits = 1;
  while (digits < 6 && (100 * a).toFixed(digits) === (100 * b).toFixed(digits)) digits++;
  return digits;
}

export function progressEvents(quiet: boolean): RunEvents {
  const p = progress(quiet, 'ex/s');
  return {
    log: p.note,
    onStart: ({ totalSteps, startStep }) => p.start(totalSteps, startStep),
    onStep: (e) => p.step({ ...e, amount: e.examples }),
    onEval: (e) => p.note(describeEval(e)),
  };
}

export function trainCommand(): Command {
  const command = new Command('train').description('train a multi-task classifier; resumes when --out holds an unfinished run');
  return addTrainOptions(command, ALL_TRAIN_FLAGS)
    .option('--quiet', 'print only the final summary', false)
    .action(async (flags: TrainFlags & { quiet?: boolean }) => {
      const config = resolveConfig(flags);
      const events = progressEvents(flags.quiet ?? false);
      const result = config.teacherModel === undefined ? await runTraining(config, events) : await runOnlineDistillation(config, events);
      const best = result.best ? `best dev mean macro-F1 ${(100 * result.best.score).toFixed(1)} at epoch ${result.best.epoch}` : 'no dev set: the last epoch is kept';
      console.log(`${result.out}: ${result.steps} steps, ${result.epochs} epochs${result.stoppedEarly ? ' (stopped early)' : ''}; ${best}; model in ${result.out}/best`);
    });
}
