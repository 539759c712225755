// `xlmt train`: the classification objective (classification.ts) run by the training loop (loop/): epochs of
// multi-task training with evaluation on dev, early stopping on mean macro-F1, the best model kept, and a resumable
// checkpoint that makes a killed run end with the same weights as an unbroken one.
import type { TrainConfig } from './config.ts';
import { classificationObjective, type RunEvents } from './classification.ts';
import { runLoop, type RunProgress } from './loop/index.ts';
import { setupRun } from './setup.ts';
import { inputsOf, type OutputSpec } from '../util/output-dir.ts';

export type { EvalEvent, RunEvents, StepEvent } from './classification.ts';

export interface RunResult {
  readonly out: string;
  readonly steps: number;
  readonly epochs: number;
  readonly best: RunProgress['best'];
  readonly stoppedEarly: boolean;
}

/** The run directory as an output: a new or empty directory, or a run to resume; never one of the inputs. */
export function runOutput(config: TrainConfig): OutputSpec {
  const inputs = inputsOf({ '--train': config.train, '--dev': config.dev, '--tasks': config.tasks, '--tokenizer': config.tokenizer, '--init': config.init, '--teacher': config.teacher });
  return { command: 'train', path: config.out, inputs };
}

export async function runTraining(config: TrainConfig, events: RunEvents): Promise<RunResult> {
  const setup = async () => classificationObjective(config, await setupRun(config, events.log), events);
  const { progress, finishedBefore, stoppedEarly } = await runLoop(runOutput(config), config, setup, events);
  return {
    out: config.out, steps: progress.step, epochs: progress.epoch, best: progress.best,
    // A run finished before this call stopped early when it ended short of its epochs.
    stoppedEarly: finishedBefore ? progress.epoch < config.epochs : stoppedEarly,
  };
}
