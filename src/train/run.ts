// `xlmt train`: the classification objective (classification.ts) run by the training loop (loop/): epochs of
// multi-task training with evaluation on dev, early stopping on mean macro-F1, the best model kept, and a resumable
// checkpoint that makes a killed run end with the same weights as an unbroken one. Online teachers
// (`teacherModel`) run through compress/distill/online-run.ts, which builds its objective on this one.
import type { TrainConfig } from './config.ts';
import { type ClassifierBatch, classificationObjective, type RunEvents } from './classification.ts';
import type { DatasetEvaluation } from './evaluate.ts';
import { type Objective, runLoop, type RunProgress } from './loop/index.ts';
import { setupRun } from './setup.ts';
import { XlmtError } from '../errors/index.ts';
import { type InputPath, inputsOf, type OutputSpec } from '../util/output-dir.ts';

export type { EvalEvent, RunEvents, StepEvent } from './classification.ts';

export interface RunResult {
  readonly out: string;
  readonly steps: number;
  readonly epochs: number;
  readonly best: RunProgress['best'];
  readonly stoppedEarly: boolean;
}

/** The classification objective, or one built on it (online distillation). */
export type ClassifierObjective = Objective<TrainConfig, DatasetEvaluation, ClassifierBatch>;

/**
 * The run directory as an output: a new or empty directory, or a run to resume; never one of the inputs.
 * `more`: inputs the configuration names in a form of their own (the directories of `teacherModel` values).
 */
export function runOutput(config: TrainConfig, more: readonly InputPath[] = []): OutputSpec {
  const inputs = inputsOf({ '--train': config.train, '--dev': config.dev, '--tasks': config.tasks, '--tokenizer': config.tokenizer, '--init': config.init, '--teacher': config.teacher });
  return { command: 'train', path: config.out, inputs: [...inputs, ...more] };
}

/** Trains `config` with the objective `setup` builds (run by the loop, which also resumes or refuses to). */
export async function trainClassifier(config: TrainConfig, output: OutputSpec, setup: () => Promise<ClassifierObjective>, events: RunEvents): Promise<RunResult> {
  const { progress, finishedBefore, stoppedEarly } = await runLoop(output, config, setup, events);
  return {
    out: config.out, steps: progress.step, epochs: progress.epoch, best: progress.best,
    // A run finished before this call stopped early when it ended short of its epochs.
    stoppedEarly: finishedBefore ? progress.epoch < config.epochs : stoppedEarly,
  };
}

/** Trains without online teachers; a configuration that names some is refused rather than trained without them. */
export async function runTraining(config: TrainConfig, events: RunEvents): Promise<RunResult> {
  if (config.teacherModel !== undefined) {
    throw new XlmtError({
      code: 'CONFIG_INVALID', where: { field: 'teacherModel' }, message: 'online teachers are run by xlmt train only',
      received: config.teacherModel.join(', '), hint: 'train with xlmt train --teacher-model, or give the teachers\' predictions as --teacher files',
    });
  }
  return trainClassifier(config, runOutput(config), async () => classificationObjective(config, await setupRun(config, events.log), events), events);
}
