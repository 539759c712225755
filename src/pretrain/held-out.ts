// The masked-LM evaluation: held-out texts tokenized and masked once, so every evaluation of a run scores the same
// masked tokens and the numbers compare across steps.
import { type Feeds, Session } from '../runtime/session.ts';
import type { ParamStore } from '../ir/params.ts';
import { mixSeed } from '../util/random.ts';
import { mlmBatch, type MlmBatchOptions } from './batches.ts';
import type { PretrainConfig } from './config.ts';
import { MLM_CORRECT } from './mlm-graph.ts';
import type { PretrainSetup } from './setup.ts';

/** Seed stream of the held-out texts' masks: fixed for the whole run, apart from every training step's. */
const EVAL_MASK_STREAM = 0xe7a1;

/** Masked-LM scores: mean cross-entropy per masked token and the share of masked tokens ranked first. */
export interface MlmScores {
  readonly loss: number;
  readonly accuracy: number;
  readonly masked: number;
}

interface HeldOutBatch {
  readonly feeds: Feeds;
  readonly masked: number;
}

export interface HeldOut {
  score(params: ParamStore): Promise<MlmScores | null>;
  release(): Promise<void>;
}

type BatchOptions = Pick<MlmBatchOptions, 'maxLength' | 'positions' | 'masking'>;

/** The held-out texts' scorer; null when the run holds none out. */
export async function heldOutScorer(setup: PretrainSetup, config: PretrainConfig, options: BatchOptions): Promise<HeldOut | null> {
  if (!setup.heldOut) return null;
  const batches = await heldOutBatches(setup, config, options);
  const session = await Session.create(setup.evaluation, { threads: config.threads });
  return { score: (params) => scoreHeldOut(session, batches, params), release: () => session.release() };
}

async function heldOutBatches(setup: PretrainSetup, config: PretrainConfig, options: BatchOptions): Promise<HeldOutBatch[]> {
  const texts = setup.heldOut?.texts ?? [];
  const batches: HeldOutBatch[] = [];
  for (let start = 0, k = 0; start < texts.length; start += config.evalBatchSize, k++) {
    const batch = await mlmBatch(setup.tokenizer, texts.slice(start, start + config.evalBatchSize), { ...options, seed: mixSeed(config.seed, EVAL_MASK_STREAM), step: k });
    if (batch.masked > 0) batches.push({ feeds: batch.feeds, masked: batch.masked });
  }
  return batches;
}

async function scoreHeldOut(session: Session, batches: readonly HeldOutBatch[], params: ParamStore): Promise<MlmScores | null> {
  let lossSum = 0;
  let correct = 0;
  let masked = 0;
  for (const batch of batches) {
    const out = await session.run(batch.feeds, params, ['loss', MLM_CORRECT]);
    lossSum += Number(out.loss?.data[0]) * batch.masked; // the graph's loss is a mean over the batch's masked tokens
    correct += Number(out[MLM_CORRECT]?.data[0]);
    masked += batch.masked;
  }
  return masked > 0 ? { loss: lossSum / masked, accuracy: correct / masked, masked } : null;
}
