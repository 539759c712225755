// A recipe's prune-hidden step with rounds > 1: the hidden size narrowed in equal steps of whole heads, each cut
// followed by training with the pipeline's teacher (Eq. 2) on its own share of --train, so that one pass over the
// training data carries the model from its width to the target. One cut of half the width leaves a trained encoder
// at chance; cuts of a few heads' width lose a few points each, and training wins them back before the next
// (the gradual pruning of Zhu & Gupta 2017 and CoFi, applied to the hidden size).
//
// Under the step's directory: shards/shard-I-of-N.jsonl (a seeded shuffle of --train dealt into N shares, written as
// xlmt's JSONL whatever the input format), round-I-hidden-K (the cut) and round-I-hidden-K.train (its training run).
// After a kill the same step skips the cuts already written and resumes the training that was running.
import { existsSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readHfConfig } from '../../checkpoint/index.ts';
import { loadDataset, loadTaskSchema } from '../../data/index.ts';
import { XlmtError } from '../../errors/index.ts';
import { exampleLine } from '../../experiment/data-files.ts';
import { Random } from '../../util/random.ts';
import { pruneHidden } from '../prune/hidden.ts';

/**
 * The hidden size after each of `rounds` cuts from `from` to `to`: as equal as whole heads allow, each smaller than
 * the one before, the last `to`. Refused when there are more rounds than heads' widths to remove.
 */
export function hiddenSchedule(from: number, to: number, rounds: number, headSize: number): number[] {
  const heads = (from - to) / headSize;
  if (!Number.isInteger(heads) || heads <= 0) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: 'keep' }, message: `the hidden size goes from ${from} in whole heads of ${headSize}`, expected: `a multiple of ${headSize} below ${from}`, received: String(to) });
  }
  if (rounds > heads) {
    throw new XlmtError({ code: 'BAD_OPTION', where: { field: 'rounds' }, message: `${from} → ${to} removes ${heads} heads' width, one at the least each round`, expected: `at most ${heads} rounds`, received: String(rounds) });
  }
  return Array.from({ length: rounds }, (_, i) => from - Math.round((heads * (i + 1)) / rounds) * headSize);
}

/** --train dealt into `count` shares after a seeded shuffle, each written once as JSONL; their paths in order. */
export async function writeShards(train: string, tasks: string | undefined, dir: string, count: number, seed: number): Promise<string[]> {
  const files = Array.from({ length: count }, (_, i) => join(dir, `shard-${i + 1}-of-${count}.jsonl`));
  if (files.every((f) => existsSync(f))) return files;
  const dataset = await loadDataset(train, tasks ? { schema: await loadTaskSchema(tasks) } : {});
  const order = new Random(seed).shuffle(dataset.examples.map((_, i) => i));
  await mkdir(dir, { recursive: true });
  for (const [i, file] of files.entries()) {
    const rows = order.filter((_, position) => position % count === i).map((row) => `${exampleLine(dataset.examples[row] as (typeof dataset.examples)[number], dataset.schema)}\n`);
    await writeFile(`${file}.tmp`, rows.join(''));
    await rename(`${file}.tmp`, file);
  }
  return files;
}

export interface NarrowPlan {
  readonly keep: number;
  readonly rounds: number;
  readonly method: 'activation' | 'even';
  readonly samples: number;
  readonly train: string;
  readonly tasks?: string;
  readonly threads: number;
  /** Trains `init` into `out` on `train` with the pipeline's teacher; returns the model it made. */
  readonly retrain: (init: string, out: string, train: string) => Promise<string>;
  readonly log: (line: string) => void;
}

/** Runs the rounds from the model `from` under `out`; returns the last round's trained model. */
export async function narrowInRounds(from: string, out: string, plan: NarrowPlan): Promise<string> {
  const { config } = await readHfConfig(join(from, 'config.json'));
  const headSize = config.encoder.hiddenSize / config.encoder.numAttentionHeads;
  const sizes = hiddenSchedule(config.encoder.hiddenSize, plan.keep, plan.rounds, headSize);
  await mkdir(out, { recursive: true });
  const shards = await writeShards(plan.train, plan.tasks, join(out, 'shards'), plan.rounds, 42);
  let model = from;
  for (const [i, size] of sizes.entries()) {
    const cut = join(out, `round-${i + 1}-hidden-${size}`);
    if (!existsSync(join(cut, 'config.json'))) {
      plan.log(`round ${i + 1}/${plan.rounds}: hidden ${size}, cut from ${model}`);
      await pruneHidden(model, cut, { keep: size, method: plan.method, data: shards[i] as string, samples: plan.samples, threads: plan.threads });
    }
    plan.log(`round ${i + 1}/${plan.rounds}: training ${cut} on ${shards[i]}`);
    model = await plan.retrain(cut, `${cut}.train`, shards[i] as string);
  }
  return model;
}
