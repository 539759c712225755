// `xlmt pretrain`: the masked-LM objective (mlm-objective.ts) run by the training loop (train/loop/), on unlabeled
// text, from scratch or from a checkpoint, with model/ kept as a Hugging Face directory for `xlmt train --init`
// and a resumable checkpoint that makes a killed run end with the same weights as an unbroken one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runLoop } from '../train/loop/index.ts';
import { inputsOf, type OutputSpec } from '../util/output-dir.ts';
import type { PretrainConfig } from './config.ts';
import type { MlmScores } from './held-out.ts';
import { mlmObjective, type PretrainEvents } from './mlm-objective.ts';
import { setupPretraining } from './setup.ts';

export type { MlmScores } from './held-out.ts';
export type { PretrainCheckpointEvent, PretrainEvents, PretrainStepEvent } from './mlm-objective.ts';

export interface PretrainResult {
  readonly out: string;
  /** The Hugging Face model directory: `xlmt train --init` takes it. */
  readonly model: string;
  readonly steps: number;
  /** The run had finished before this call, which changed nothing. */
  readonly alreadyFinished: boolean;
  /** The last held-out scores, when there are held-out texts. */
  readonly eval: MlmScores | null;
}

/** The run directory as an output (both objectives): a new or empty directory, or a run to resume. */
export function pretrainOutput(config: PretrainConfig): OutputSpec {
  return { command: 'pretrain', path: config.out, inputs: inputsOf({ '--corpus': config.corpus, '--tokenizer': config.tokenizer, '--init': config.init }) };
}

export async function runPretraining(config: PretrainConfig, events: PretrainEvents): Promise<PretrainResult> {
  const setup = async () => mlmObjective(config, await setupPretraining(config, events.log), events);
  const { progress, finishedBefore } = await runLoop(pretrainOutput(config), config, setup, events);
  return { out: config.out, model: join(config.out, 'model'), steps: progress.step, alreadyFinished: finishedBefore, eval: lastEval(join(config.out, 'metrics.jsonl')) };
}

/**
 * The last held-out scores metrics.jsonl records. Every checkpoint evaluates the same masked texts, and a run's
 * last step is a checkpoint, so for a run that ends in this call they are the scores of its last step.
 */
function lastEval(metricsFile: string): MlmScores | null {
  if (!existsSync(metricsFile)) return null;
  const lines = readFileSync(metricsFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
  const last = lines.filter((l) => l.type === 'eval').at(-1);
  return last ? { loss: Number(last.loss), accuracy: Number(last.accuracy), masked: Number(last.masked) } : null;
}
