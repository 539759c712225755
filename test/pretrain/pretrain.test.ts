// End to end: corpus file → trained tokenizer → masked batches → an MLM graph whose loss falls on a repeated batch.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { trainingGraph } from '../../src/autodiff/training-graph.ts';
import { GraphBuilder } from '../../src/builder/index.ts';
import { encoderConfig } from '../../src/models/config.ts';
import { encoder } from '../../src/models/encoder.ts';
import { initParams } from '../../src/models/init.ts';
import { maskedLm } from '../../src/models/mlm.ts';
import { encoderInputs } from '../../src/models/multitask.ts';
import { AdamW, constantSchedule } from '../../src/optim/index.ts';
import { corpusBatches, mlmBatch, readUnlabeledCorpus, type CorpusBatch, type MlmBatch } from '../../src/pretrain/index.ts';
import { TrainingSession } from '../../src/runtime/training-session.ts';
import { trainTokenizer, type TextTokenizer } from '../../src/tokenize/index.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { tempDir, UNLABELED } from '../tokenize/fixtures.ts';

const MAX_LENGTH = 32;
// The trained Unigram tokenizer has XLM-R's layout (<pad> = 1): positions count from 2, the table needs MAX_LENGTH + 2 rows.
const POSITIONS = { convention: 'roberta', paddingIdx: 1 } as const;

async function mlmTrainer(vocabSize: number): Promise<Trainer> {
  const config = encoderConfig({
    vocabSize, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 64,
    maxPositionEmbeddings: MAX_LENGTH + 2, typeVocabSize: 1, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
  });
  const g = new GraphBuilder('mlm-pretrain');
  const hidden = encoder(g, config, encoderInputs(g), { training: true });
  const training = trainingGraph(g, { loss: maskedLm(g, config, hidden).loss });
  const session = await TrainingSession.create(training, { threads: 1 });
  return new Trainer(session, initParams(training.graph, 1), { optimizer: new AdamW(), schedule: constantSchedule(1e-2) });
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b) / xs.length;

describe('masked-LM pretraining pipeline', () => {
  let tokenizer: TextTokenizer;
  let texts: readonly string[];
  const batchAt = (step: number): Promise<MlmBatch> => mlmBatch(tokenizer, texts, { maxLength: MAX_LENGTH, positions: POSITIONS, seed: 1, step });

  beforeAll(async () => {
    const file = join(tempDir(), 'unlabeled-500.jsonl');
    writeFileSync(file, readFileSync(UNLABELED, 'utf8').split('\n').slice(0, 500).join('\n'));
    const corpus = await readUnlabeledCorpus([file]);
    expect(corpus.texts.length).toBe(500);
    tokenizer = await trainTokenizer(corpus.texts, { type: 'unigram', vocabSize: 1000 });
    texts = (corpusBatches(corpus, { batchSize: 16, seed: 1 }).next().value as CorpusBatch).texts;
  });

  it('feeds an MLM graph whose loss falls clearly over 60 steps on one repeated batch', async () => {
    const batch = await batchAt(0);
    expect(batch.masked).toBeGreaterThan(0);
    const trainer = await mlmTrainer(tokenizer.vocabSize);
    const losses: number[] = [];
    for (let i = 0; i < 60; i++) losses.push((await trainer.step(batch.feeds)).loss);
    expect(mean(losses.slice(0, 3))).toBeGreaterThan(0.85 * Math.log(tokenizer.vocabSize)); // ≈ ln 1000 at the start
    expect(mean(losses.slice(-5))).toBeLessThan(0.2 * mean(losses.slice(0, 3))); // ≈ 6.5 → 0.03 when run
  });

  it('also learns the texts, not just one masking, when each step masks them afresh', async () => {
    const trainer = await mlmTrainer(tokenizer.vocabSize);
    const losses: number[] = [];
    for (let step = 0; step < 60; step++) losses.push((await trainer.step((await batchAt(step)).feeds)).loss);
    expect(mean(losses.slice(-10))).toBeLessThan(0.7 * mean(losses.slice(0, 3))); // ≈ 6.8 → 3.7 when run
  });
});
